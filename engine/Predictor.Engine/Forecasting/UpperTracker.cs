using System.Globalization;

namespace Predictor.Engine.Forecasting;

/// <summary>Options of <see cref="UpperTracker"/>, validated when set.</summary>
public sealed class UpperTrackerOptions
{
    private double _learningRate = 0.05;
    private int _scaleHalfLife = 288;
    private double[] _alternativeRates = [];

    /// <summary>
    /// Step size of the correction, as a fraction of the typical absolute error at that step: after a miss the bound
    /// rises by (1 − α) × rate × scale, after a hit it falls by α × rate × scale (α = 1 − the model's quantile).
    /// </summary>
    /// <value>The default value is 0.05.</value>
    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = value is > 0 and <= 10
            ? value
            : throw new PredictorException($"UpperTrackerOptions.LearningRate = {value.ToString(CultureInfo.InvariantCulture)} is out of range: use a value in (0, 10], e.g. 0.05.");
    }

    /// <summary>
    /// Other rates tracked beside <see cref="LearningRate"/>, each with its own correction: per series and horizon step
    /// the bound follows the rate whose bounds have the lowest running mean pinball loss at the model's quantile
    /// (half-life <see cref="ScaleHalfLife"/>; ties go to <see cref="LearningRate"/>, then to the order given). No single
    /// rate suits every series: a slow one is steadier where the noise is stationary, a fast one narrows sooner after a
    /// shift. The pinball loss is the proper score of a quantile, so the rate it prefers is the one whose bounds were the
    /// better quantile estimates lately (the idea of Gibbs and Candès 2022's DtACI and Zaffran et al. 2022's AgACI, with
    /// the best expert followed rather than the experts averaged). Empty: <see cref="LearningRate"/> alone.
    /// </summary>
    /// <value>The default value is empty.</value>
    public IReadOnlyList<double> AlternativeRates
    {
        get => _alternativeRates;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            foreach (var rate in value)
            {
                if (!(rate is > 0 and <= 10))
                {
                    throw new PredictorException($"UpperTrackerOptions.AlternativeRates holds {rate.ToString(CultureInfo.InvariantCulture)}, out of range: use rates in (0, 10], e.g. [0.02, 0.1, 0.2].");
                }
            }

            if (value.Count > 16)
            {
                throw new PredictorException($"UpperTrackerOptions.AlternativeRates holds {value.Count} rates: use at most 16.");
            }

            _alternativeRates = [.. value];
        }
    }

    /// <summary>Half-life, in model steps, of the running mean of absolute errors that scales each correction.</summary>
    /// <value>The default value is 288 (one day at 5-minute steps).</value>
    public int ScaleHalfLife
    {
        get => _scaleHalfLife;
        set => _scaleHalfLife = value is >= 1 and <= 10_000_000
            ? value
            : throw new PredictorException($"UpperTrackerOptions.ScaleHalfLife = {value} is out of range: use 1 to 10000000 model steps, e.g. 288.");
    }
}

/// <summary>
/// Keeps a forecaster's upper bound at its stated quantile while the data drift: online quantile tracking (the
/// "P" part of conformal PID control, Angelopoulos, Candès and Tibshirani 2023; the additive form of adaptive
/// conformal inference, Gibbs and Candès 2021). The offsets written into an ONNX model are split-conformal quantiles
/// of residuals from before the model shipped; when the level or the noise changes afterwards they over- or
/// under-cover. Per series and horizon step k the tracker adds a correction c to the model's upper bound, and when
/// the value a step-k bound was about arrives, it moves c by rate × scale × (miss − α), where miss is 1 when the value
/// exceeded the (corrected) bound, α = 1 − quantile, and scale a running mean of |value − point forecast| at that step
/// (at least a tenth of the bound's width above the point forecast).
/// Whatever the sequence, the long-run share of misses then tends to α (for bounded data, within O(1/(rate·T))).
/// A corrected bound never falls below the point forecast.
/// <para>
/// Usage, on the model's step grid: <see cref="Observe"/> each closed step's values (NaN: missing, skipped), then
/// <see cref="Correct"/> the forecast made from the window ending at that step. Allocation-free after construction.
/// </para>
/// </summary>
public sealed class UpperTracker
{
    private readonly int _series;
    private readonly int _horizon;
    private readonly double _alpha;
    private readonly double[] _rates;
    private readonly double _decay;
    private readonly double[] _correction; // [rate][series × horizon]
    private readonly double[] _loss;       // [rate][series × horizon], running mean pinball loss; only with two or more rates
    private readonly int[] _leader;        // [series × horizon], the rate the bound follows
    private readonly double[] _scale;
    private readonly float[] _uppers;      // [slot][rate][series × horizon], each rate's corrected bound
    private readonly float[] _forecasts;
    private readonly long[] _slotOrigin;
    private long _step = -1;

    /// <summary>Creates a tracker for <paramref name="seriesCount"/> series of a forecaster with the given shape.</summary>
    public UpperTracker(int seriesCount, int horizon, double quantile, UpperTrackerOptions? options = null)
    {
        if (seriesCount < 1 || horizon < 1)
        {
            throw new PredictorException($"UpperTracker needs at least one series and one horizon step (got {seriesCount} series, horizon {horizon}).");
        }

        if (!(quantile is > 0 and < 1))
        {
            throw new PredictorException($"UpperTracker: the model's quantile {quantile.ToString(CultureInfo.InvariantCulture)} is not in (0, 1).");
        }

        options ??= new UpperTrackerOptions();
        _series = seriesCount;
        _horizon = horizon;
        _alpha = 1 - quantile;
        _rates = [options.LearningRate, .. options.AlternativeRates];
        _decay = Math.Pow(0.5, 1.0 / options.ScaleHalfLife);
        var stride = seriesCount * horizon;
        _correction = new double[_rates.Length * stride];
        _loss = _rates.Length > 1 ? new double[_rates.Length * stride] : [];
        _leader = new int[stride];
        _scale = new double[stride];
        _scale.AsSpan().Fill(double.NaN);

        // Forecasts of the last H + 1 origins: when step s arrives, origins s − 1 … s − H are due, and s itself is written next.
        var slots = horizon + 1;
        _uppers = new float[slots * _rates.Length * stride];
        _forecasts = new float[slots * seriesCount * horizon];
        _slotOrigin = new long[slots];
        _slotOrigin.AsSpan().Fill(-1);
    }

    /// <summary>Steps observed so far.</summary>
    public long Steps => _step + 1;

    /// <summary>The present correction of series <paramref name="series"/> at horizon step <paramref name="step"/> (1-based).</summary>
    public double Correction(int series, int step)
    {
        var c = (series * _horizon) + step - 1;
        return _correction[(_leader[c] * _series * _horizon) + c];
    }

    /// <summary>
    /// The rate the bound of series <paramref name="series"/> at horizon step <paramref name="step"/> (1-based) follows
    /// now: <see cref="UpperTrackerOptions.LearningRate"/> or one of <see cref="UpperTrackerOptions.AlternativeRates"/>.
    /// </summary>
    public double Rate(int series, int step) => _rates[_leader[(series * _horizon) + step - 1]];

    /// <summary>
    /// The values of the step that just closed, one per series (NaN when a series has no fresh value). Scores every
    /// remembered forecast whose target this step is, and moves the corrections.
    /// </summary>
    public void Observe(ReadOnlySpan<double> values)
    {
        if (values.Length != _series)
        {
            throw new PredictorException($"UpperTracker.Observe: {values.Length} values for {_series} series.");
        }

        _step++;
        var stride = _series * _horizon;
        for (var k = 1; k <= _horizon; k++)
        {
            var origin = _step - k;
            if (origin < 0)
            {
                break;
            }

            var slot = (int)(origin % (_horizon + 1));
            if (_slotOrigin[slot] != origin)
            {
                continue; // no forecast was made from that origin
            }

            for (var i = 0; i < _series; i++)
            {
                var y = values[i];
                var c = (i * _horizon) + k - 1;
                var forecast = _forecasts[(slot * stride) + c];
                if (double.IsNaN(y) || float.IsNaN(forecast) || float.IsNaN(_uppers[(slot * _rates.Length * stride) + c]))
                {
                    continue;
                }

                var error = Math.Abs(y - forecast);
                _scale[c] = double.IsNaN(_scale[c]) ? error : (_decay * _scale[c]) + ((1 - _decay) * error);
                for (var r = 0; r < _rates.Length; r++)
                {
                    var upper = _uppers[(((slot * _rates.Length) + r) * stride) + c];
                    var miss = y > upper ? 1.0 : 0.0;

                    // A tenth of the bound's own width as a floor on the scale: a step whose outcomes fall exactly on the
                    // point forecast (error 0) would otherwise never narrow a bound that is too wide.
                    var scale = Math.Max(_scale[c], 0.1 * Math.Max(0, upper - forecast));
                    _correction[(r * stride) + c] += _rates[r] * scale * (miss - _alpha);
                    if (_loss.Length > 0)
                    {
                        // Pinball loss of the bound as the (1 − α)-quantile.
                        var pinball = y > upper ? (1 - _alpha) * (y - upper) : _alpha * (upper - y);
                        _loss[(r * stride) + c] = (_decay * _loss[(r * stride) + c]) + ((1 - _decay) * pinball);
                    }
                }

                if (_loss.Length > 0)
                {
                    var best = 0;
                    for (var r = 1; r < _rates.Length; r++)
                    {
                        if (_loss[(r * stride) + c] < _loss[(best * stride) + c])
                        {
                            best = r;
                        }
                    }

                    _leader[c] = best;
                }
            }
        }
    }

    /// <summary>
    /// Corrects <paramref name="upper"/> (N×H, row-major) in place for the forecast made from the last observed step, and
    /// remembers it to score when its targets arrive. <paramref name="forecast"/> is the matching point forecast.
    /// </summary>
    public void Correct(ReadOnlySpan<float> forecast, Span<float> upper)
    {
        var stride = _series * _horizon;
        if (forecast.Length < stride || upper.Length < stride)
        {
            throw new PredictorException($"UpperTracker.Correct: expected {_series}×{_horizon} forecasts and bounds, got {forecast.Length} and {upper.Length}.");
        }

        if (_step < 0)
        {
            Apply(forecast, upper, stride);
            return;
        }

        // Each rate's bound is kept for scoring when its values arrive; the bound handed back follows the leader.
        var slot = (int)(_step % (_horizon + 1));
        _slotOrigin[slot] = _step;
        forecast[..stride].CopyTo(_forecasts.AsSpan(slot * stride, stride));
        for (var r = 0; r < _rates.Length; r++)
        {
            var kept = _uppers.AsSpan(((slot * _rates.Length) + r) * stride, stride);
            for (var c = 0; c < stride; c++)
            {
                kept[c] = float.IsNaN(upper[c]) || float.IsNaN(forecast[c])
                    ? upper[c]
                    : (float)Math.Max(forecast[c], upper[c] + _correction[(r * stride) + c]);
            }
        }

        for (var c = 0; c < stride; c++)
        {
            upper[c] = _uppers[(((slot * _rates.Length) + _leader[c]) * stride) + c];
        }
    }

    private void Apply(ReadOnlySpan<float> forecast, Span<float> upper, int stride)
    {
        for (var c = 0; c < stride; c++)
        {
            if (!float.IsNaN(upper[c]) && !float.IsNaN(forecast[c]))
            {
                upper[c] = (float)Math.Max(forecast[c], upper[c] + _correction[(_leader[c] * stride) + c]);
            }
        }
    }
}

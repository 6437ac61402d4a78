using System.Globalization;

namespace Predictor.Engine.Forecasting;

/// <summary>Options of <see cref="UpperTracker"/>, validated when set.</summary>
public sealed class UpperTrackerOptions
{
    private double _learningRate = 0.05;
    private int _scaleHalfLife = 288;

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
    private readonly double _rate;
    private readonly double _decay;
    private readonly double[] _correction;
    private readonly double[] _scale;
    private readonly float[] _uppers;
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
        _rate = options.LearningRate;
        _decay = Math.Pow(0.5, 1.0 / options.ScaleHalfLife);
        _correction = new double[seriesCount * horizon];
        _scale = new double[seriesCount * horizon];
        _scale.AsSpan().Fill(double.NaN);

        // Forecasts of the last H + 1 origins: when step s arrives, origins s − 1 … s − H are due, and s itself is written next.
        var slots = horizon + 1;
        _uppers = new float[slots * seriesCount * horizon];
        _forecasts = new float[slots * seriesCount * horizon];
        _slotOrigin = new long[slots];
        _slotOrigin.AsSpan().Fill(-1);
    }

    /// <summary>Steps observed so far.</summary>
    public long Steps => _step + 1;

    /// <summary>The present correction of series <paramref name="series"/> at horizon step <paramref name="step"/> (1-based).</summary>
    public double Correction(int series, int step) => _correction[(series * _horizon) + step - 1];

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
                var at = (slot * stride) + (i * _horizon) + k - 1;
                var upper = _uppers[at];
                var forecast = _forecasts[at];
                if (double.IsNaN(y) || float.IsNaN(upper) || float.IsNaN(forecast))
                {
                    continue;
                }

                var c = (i * _horizon) + k - 1;
                var error = Math.Abs(y - forecast);
                _scale[c] = double.IsNaN(_scale[c]) ? error : (_decay * _scale[c]) + ((1 - _decay) * error);
                var miss = y > upper ? 1.0 : 0.0;

                // A tenth of the bound's own width as a floor on the scale: a step whose outcomes fall exactly on the
                // point forecast (error 0) would otherwise never narrow a bound that is too wide.
                var scale = Math.Max(_scale[c], 0.1 * Math.Max(0, upper - forecast));
                _correction[c] += _rate * scale * (miss - _alpha);
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

        for (var c = 0; c < stride; c++)
        {
            if (!float.IsNaN(upper[c]) && !float.IsNaN(forecast[c]))
            {
                upper[c] = (float)Math.Max(forecast[c], upper[c] + _correction[c]);
            }
        }

        if (_step < 0)
        {
            return;
        }

        var slot = (int)(_step % (_horizon + 1));
        _slotOrigin[slot] = _step;
        forecast[..stride].CopyTo(_forecasts.AsSpan(slot * stride, stride));
        upper[..stride].CopyTo(_uppers.AsSpan(slot * stride, stride));
    }
}

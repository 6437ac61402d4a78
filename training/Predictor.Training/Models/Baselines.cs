using Predictor.Training.Onnx;

namespace Predictor.Training.Models;

/// <summary>Naive: every step forecasts the last observation.</summary>
internal sealed class NaiveForecaster : IExportableForecaster
{
    public NaiveForecaster(int window) => Window = window;

    public string Kind => ForecastModels.NaiveKind;

    public int Window { get; }

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast) => forecast.Fill(history[^1]);

    public byte[] Export(ModelCard card, ReadOnlySpan<float> upperOffsets) =>
        ForecastModels.Naive(card with { Kind = Kind, Window = Window }, upperOffsets);

    public bool UsesCalendar => false;

    public string EmitInto(ContractModelBuilder builder, string prefix)
    {
        var indices = new long[builder.Card.Horizon];
        Array.Fill(indices, builder.Card.Window - 1);
        return ForecastModels.EmitGather(builder, prefix, indices);
    }
}

/// <summary>Seasonal naive: step h forecasts x(t + h − S·⌈h/S⌉), the value one season before the step.</summary>
internal sealed class SeasonalNaiveForecaster : IExportableForecaster
{
    public SeasonalNaiveForecaster(int season)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(season, 1);
        Season = season;
    }

    public int Season { get; }

    public string Kind => ForecastModels.SeasonalNaiveKind;

    public int Window => Season;

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast)
    {
        int last = history.Length - 1;
        for (int h = 1; h <= forecast.Length; h++)
        {
            int back = Season * ((h + Season - 1) / Season);
            forecast[h - 1] = history[last + h - back];
        }
    }

    public byte[] Export(ModelCard card, ReadOnlySpan<float> upperOffsets) =>
        ForecastModels.SeasonalNaive(card with { Kind = Kind, Window = Window }, Season, upperOffsets);

    public bool UsesCalendar => false;

    public string EmitInto(ContractModelBuilder builder, string prefix)
    {
        int w = builder.Card.Window;
        if (w < Season)
        {
            throw new InvalidOperationException($"A seasonal-naive branch needs W ≥ {Season}; the model's W is {w}.");
        }

        return ForecastModels.EmitGather(builder, prefix, ForecastModels.SeasonalIndices(w, builder.Card.Horizon, Season));
    }
}

/// <summary>A forecast that copies window columns: step h reads window index <c>indices[h]</c> (what naive and seasonal naive export).</summary>
internal sealed class GatherForecaster : IPointForecaster
{
    private readonly long[] _indices;

    public GatherForecaster(string kind, int window, long[] indices)
    {
        Kind = kind;
        Window = window;
        _indices = indices;
    }

    public string Kind { get; }

    public int Window { get; }

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast)
    {
        var window = history[^Window..];
        for (int h = 0; h < forecast.Length; h++)
        {
            forecast[h] = window[(int)_indices[h]];
        }
    }
}

/// <summary>
/// The Kubernetes VPA recommender's estimator, as a baseline: a histogram of every observation so far whose
/// weights halve every <c>halfLife</c> (exponentially decaying), read at a percentile (p90 by default); the same
/// value is the "forecast" for every step. Buckets grow geometrically (ratio 1.05, first bucket 1/1000 of the
/// scale), as in VPA's decaying_histogram.go: relative precision of 5 % at any magnitude. Values are loads, so a
/// negative value counts in the first bucket.
/// </summary>
/// <remarks>
/// Weights are 2^((t − reference)/halfLife): a new sample weighs more than an old one instead of old ones being
/// multiplied down at every step (VPA's trick); when the exponent grows past 64 every weight is rescaled and the
/// reference moves forward, so nothing overflows. The forecaster keeps its histogram between calls and only adds the
/// new tail of <c>history</c>, so a backtest that walks the origins forward costs O(n) in all.
/// </remarks>
internal sealed class DecayedPercentileForecaster : IPointForecaster
{
    private const double Ratio = 1.05;
    private readonly double _firstBucket;
    private readonly double _halfLifeSteps;
    private readonly double _quantile;
    private double[] _weights = new double[256];
    private double _total;
    private int _seen;
    private double _reference;

    /// <param name="scale">Typical magnitude of the series (e.g. its maximum on the training part).</param>
    /// <param name="halfLifeSteps">Half-life of a sample's weight, in steps (24 h / step).</param>
    /// <param name="quantile">Percentile read from the histogram.</param>
    public DecayedPercentileForecaster(double scale, double halfLifeSteps, double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(halfLifeSteps, 0);
        _firstBucket = Math.Max(Math.Abs(scale), 1e-9) * 1e-3;
        _halfLifeSteps = halfLifeSteps;
        _quantile = quantile;
    }

    public string Kind => "decayed_p" + Math.Round(_quantile * 100).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public int Window => 1;

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast)
    {
        if (history.Length < _seen)
        {
            // A different (shorter) history: start again.
            Array.Clear(_weights);
            _total = 0;
            _seen = 0;
            _reference = 0;
        }

        for (; _seen < history.Length; _seen++)
        {
            Add(_seen, history[_seen]);
        }

        forecast.Fill(Percentile());
    }

    private void Add(int t, double value)
    {
        double exponent = (t - _reference) / _halfLifeSteps;
        if (exponent > 64)
        {
            double shrink = Math.Pow(2, -exponent);
            for (int i = 0; i < _weights.Length; i++)
            {
                _weights[i] *= shrink;
            }

            _total *= shrink;
            _reference = t;
            exponent = 0;
        }

        int bucket = Bucket(value);
        if (bucket >= _weights.Length)
        {
            Array.Resize(ref _weights, Math.Max(bucket + 1, _weights.Length * 2));
        }

        double w = Math.Pow(2, exponent);
        _weights[bucket] += w;
        _total += w;
    }

    private int Bucket(double value)
    {
        if (!(value > 0))
        {
            return 0;
        }

        // Bucket i starts at firstBucket·(r^i − 1)/(r − 1).
        return (int)Math.Floor(Math.Log(1 + (value * (Ratio - 1) / _firstBucket)) / Math.Log(Ratio));
    }

    private double BucketStart(int i) => _firstBucket * (Math.Pow(Ratio, i) - 1) / (Ratio - 1);

    private double Percentile()
    {
        double threshold = _quantile * _total;
        double cumulative = 0;
        for (int i = 0; i < _weights.Length; i++)
        {
            cumulative += _weights[i];
            if (cumulative >= threshold && _weights[i] > 0)
            {
                return BucketStart(i + 1); // the bucket's upper edge, as VPA reports it
            }
        }

        return BucketStart(_weights.Length);
    }
}

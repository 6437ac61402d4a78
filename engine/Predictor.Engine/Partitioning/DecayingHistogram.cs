namespace Predictor.Engine.Partitioning;

/// <summary>
/// A histogram whose samples lose weight exponentially with age (after VPA's decaying histogram): a sample taken at
/// time t weighs 2^((t − t_ref) / halfLife), so a sample one half-life older counts half as much. Instead of
/// shrinking every old weight at each sample, new samples get growing weights; when the exponent grows large the
/// reference time moves forward and all weights are rescaled once, which keeps doubles far from overflow.
/// Buckets are exponential: bucket i starts at first × (ratio^i − 1) / (ratio − 1), so relative resolution is the
/// same (≈ ratio − 1) at every scale. Fixed size; adding a sample does not allocate.
/// </summary>
internal sealed class DecayingHistogram
{
    private const double MaxExponent = 64;
    private readonly double[] _weights;
    private readonly double _firstBucket;
    private readonly double _ratio;
    private readonly double _halfLifeMs;
    private long _referenceMs;
    private bool _hasReference;
    private double _totalWeight;

    /// <param name="maxValue">Largest value to resolve; larger samples land in the last bucket.</param>
    /// <param name="firstBucket">Width of the first bucket, in the value's unit.</param>
    /// <param name="ratio">Growth of bucket widths, &gt; 1 (VPA uses 1.05).</param>
    /// <param name="halfLife">Age at which a sample's weight halves.</param>
    public DecayingHistogram(double maxValue, double firstBucket, double ratio, TimeSpan halfLife)
    {
        if (!(maxValue > 0) || !(firstBucket > 0) || !(ratio > 1) || halfLife <= TimeSpan.Zero)
        {
            throw new PredictorException(
                "DecayingHistogram: maxValue and firstBucket must be > 0, ratio > 1 and halfLife > 0; check the recommender options.");
        }

        _firstBucket = firstBucket;
        _ratio = ratio;
        _halfLifeMs = halfLife.TotalMilliseconds;
        var count = (int)Math.Ceiling(Math.Log((maxValue * (ratio - 1) / firstBucket) + 1, ratio)) + 1;
        _weights = new double[Math.Max(count, 1)];
    }

    /// <summary>True when no sample has been added (or all weight was cleared).</summary>
    public bool IsEmpty => _totalWeight <= 0;

    /// <summary>Adds a sample taken at <paramref name="timestampMs"/>; NaN and negative values are ignored.</summary>
    public void Add(double value, long timestampMs)
    {
        if (!(value >= 0))
        {
            return;
        }

        if (!_hasReference)
        {
            _referenceMs = timestampMs;
            _hasReference = true;
        }

        var exponent = (timestampMs - _referenceMs) / _halfLifeMs;
        if (exponent > MaxExponent)
        {
            Rebase(timestampMs);
            exponent = 0;
        }

        var weight = Math.Pow(2, exponent);
        _weights[BucketOf(value)] += weight;
        _totalWeight += weight;
    }

    /// <summary>The value below which a share <paramref name="percentile"/> of the weight lies (the end of that bucket).</summary>
    public double Percentile(double percentile)
    {
        if (IsEmpty)
        {
            return double.NaN;
        }

        var threshold = percentile * _totalWeight;
        var cumulative = 0.0;
        for (var i = 0; i < _weights.Length; i++)
        {
            cumulative += _weights[i];
            if (cumulative >= threshold)
            {
                return BucketStart(i + 1);
            }
        }

        return BucketStart(_weights.Length);
    }

    private void Rebase(long timestampMs)
    {
        var scale = Math.Pow(2, -(timestampMs - _referenceMs) / _halfLifeMs);
        _totalWeight = 0;
        for (var i = 0; i < _weights.Length; i++)
        {
            _weights[i] *= scale;
            _totalWeight += _weights[i];
        }

        _referenceMs = timestampMs;
    }

    private double BucketStart(int bucket) => _firstBucket * (Math.Pow(_ratio, bucket) - 1) / (_ratio - 1);

    private int BucketOf(double value)
    {
        var index = (int)Math.Floor(Math.Log((value * (_ratio - 1) / _firstBucket) + 1, _ratio));
        return Math.Clamp(index, 0, _weights.Length - 1);
    }
}

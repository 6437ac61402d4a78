using System.Globalization;

namespace Predictor.Engine.Partitioning;

/// <summary>Options of the VPA-style recommender.</summary>
public sealed class VpaStyleOptions
{
    private double _percentile = 0.9;
    private double _margin = 0.15;
    private TimeSpan _halfLife = TimeSpan.FromHours(24);

    /// <summary>Percentile of the decayed usage histogram the recommendation starts from.</summary>
    /// <value>The default value is 0.9.</value>
    public double Percentile { get => _percentile; set => _percentile = PredictivePolicyOptions.Check(value, 0.01, 1, "VpaStyleOptions.Percentile"); }

    /// <summary>Safety margin added on top of the percentile, as a fraction.</summary>
    /// <value>The default value is 0.15.</value>
    public double Margin { get => _margin; set => _margin = PredictivePolicyOptions.Check(value, 0, 10, "VpaStyleOptions.Margin"); }

    /// <summary>Age at which a usage sample counts half.</summary>
    /// <value>The default value is 24 hours.</value>
    public TimeSpan HalfLife
    {
        get => _halfLife;
        set => _halfLife = value > TimeSpan.Zero
            ? value
            : throw new PredictorException($"VpaStyleOptions.HalfLife = {value} is out of range: use a positive duration (e.g. 24:00:00).");
    }

    /// <summary>User and system bounds.</summary>
    /// <value>The default value is 20–80 %.</value>
    public PartitionBounds Bounds { get; init; } = new();
}

/// <summary>
/// A VPA-style recommender (after Kubernetes VPA's recommender): every usage sample goes into a decaying histogram
/// per partition (half-life 24 h); each partition's allocation is p90 of that histogram × (1 + 15 %), within the
/// bounds; the rest is the pool. No forecast: it reacts to the recent past, weighted toward the present.
/// Bucket resolution is 5 % growth from a first bucket of 0.1 % of the total.
/// </summary>
internal sealed class VpaStylePolicy : IPartitionPolicy
{
    private readonly VpaStyleOptions _options;
    private DecayingHistogram? _user;
    private DecayingHistogram? _system;

    public VpaStylePolicy(VpaStyleOptions? options = null)
    {
        _options = options ?? new VpaStyleOptions();
        _options.Bounds.Validate();
    }

    public PartitionSplit Propose(PartitionSplit current, in PartitionObservation observation)
    {
        var total = current.Total;
        _user ??= new DecayingHistogram(total * 2.0, total / 1000.0, 1.05, _options.HalfLife);
        _system ??= new DecayingHistogram(total * 2.0, total / 1000.0, 1.05, _options.HalfLife);
        _user.Add(observation.UserUsage, observation.TimestampMs);
        _system.Add(observation.SystemUsage, observation.TimestampMs);
        var user = Target(_user, current.User, total);
        var system = Target(_system, current.System, total);
        SplitMath.FitToTotal(ref user, ref system, total, _options.Bounds.Min(total));
        return new PartitionSplit(total, user, system);
    }

    private long Target(DecayingHistogram histogram, long current, long total) =>
        histogram.IsEmpty
            ? _options.Bounds.Clamp(current, total)
            : _options.Bounds.Clamp(SplitMath.ToUnits(histogram.Percentile(_options.Percentile) * (1 + _options.Margin), total), total);
}

/// <summary>Options of the Autopilot-style moving-window recommender.</summary>
public sealed class AutopilotStyleOptions
{
    private double _percentile = 0.95;
    private double _margin = 0.1;
    private TimeSpan _window = TimeSpan.FromHours(6);
    private TimeSpan _hold = TimeSpan.FromHours(1);
    private int _maxSamples = 4096;

    /// <summary>Percentile of usage over the window.</summary>
    /// <value>The default value is 0.95.</value>
    public double Percentile { get => _percentile; set => _percentile = PredictivePolicyOptions.Check(value, 0.01, 1, "AutopilotStyleOptions.Percentile"); }

    /// <summary>Margin on top of the percentile, as a fraction.</summary>
    /// <value>The default value is 0.1.</value>
    public double Margin { get => _margin; set => _margin = PredictivePolicyOptions.Check(value, 0, 10, "AutopilotStyleOptions.Margin"); }

    /// <summary>How far back the percentile looks.</summary>
    /// <value>The default value is 6 hours.</value>
    public TimeSpan Window { get => _window; set => _window = Positive(value, "Window"); }

    /// <summary>The allocation is the maximum recommendation made over this last span (slow to come down).</summary>
    /// <value>The default value is 1 hour.</value>
    public TimeSpan Hold { get => _hold; set => _hold = Positive(value, "Hold"); }

    /// <summary>Most samples kept per partition; when the window holds more, the oldest go first (the window is then shorter).</summary>
    /// <value>The default value is 4096.</value>
    public int MaxSamples
    {
        get => _maxSamples;
        set => _maxSamples = value >= 2 ? value : throw new PredictorException($"AutopilotStyleOptions.MaxSamples = {value} is out of range: use 2 or more.");
    }

    /// <summary>User and system bounds.</summary>
    /// <value>The default value is 20–80 %.</value>
    public PartitionBounds Bounds { get; init; } = new();

    private static TimeSpan Positive(TimeSpan value, string name) =>
        value > TimeSpan.Zero ? value : throw new PredictorException($"AutopilotStyleOptions.{name} = {value} is out of range: use a positive duration.");
}

/// <summary>
/// An Autopilot-style moving-window recommender (after Google's Autopilot, EuroSys 2020): the recommendation is
/// p95 of usage over a window × (1 + 10 %), and the allocation is the largest recommendation made during the last
/// hour, so it rises at once and comes down only an hour after demand does. Within the bounds; the rest is the pool.
/// </summary>
internal sealed class AutopilotStylePolicy : IPartitionPolicy
{
    private readonly AutopilotStyleOptions _options;
    private readonly MovingWindow _user;
    private readonly MovingWindow _system;

    public AutopilotStylePolicy(AutopilotStyleOptions? options = null)
    {
        _options = options ?? new AutopilotStyleOptions();
        _options.Bounds.Validate();
        _user = new MovingWindow(_options);
        _system = new MovingWindow(_options);
    }

    public PartitionSplit Propose(PartitionSplit current, in PartitionObservation observation)
    {
        var total = current.Total;
        var user = _user.Recommend(observation.UserUsage, observation.TimestampMs, current.User, total);
        var system = _system.Recommend(observation.SystemUsage, observation.TimestampMs, current.System, total);
        SplitMath.FitToTotal(ref user, ref system, total, _options.Bounds.Min(total));
        return new PartitionSplit(total, user, system);
    }

    /// <summary>Samples of one partition (a ring) and a monotonic queue of recent recommendations (max over the hold).</summary>
    private sealed class MovingWindow
    {
        private readonly AutopilotStyleOptions _options;
        private readonly long[] _sampleTimes;
        private readonly double[] _samples;
        private readonly double[] _scratch;
        private readonly long[] _recTimes;
        private readonly long[] _recValues;
        private int _sampleStart;
        private int _sampleCount;
        private int _recStart;
        private int _recCount;

        public MovingWindow(AutopilotStyleOptions options)
        {
            _options = options;
            _sampleTimes = new long[options.MaxSamples];
            _samples = new double[options.MaxSamples];
            _scratch = new double[options.MaxSamples];
            _recTimes = new long[options.MaxSamples];
            _recValues = new long[options.MaxSamples];
        }

        public long Recommend(double usage, long nowMs, long current, long total)
        {
            var windowStart = nowMs - (long)_options.Window.TotalMilliseconds;
            while (_sampleCount > 0 && _sampleTimes[_sampleStart] <= windowStart)
            {
                _sampleStart = (_sampleStart + 1) % _samples.Length;
                _sampleCount--;
            }

            if (usage >= 0)
            {
                if (_sampleCount == _samples.Length)
                {
                    _sampleStart = (_sampleStart + 1) % _samples.Length;
                    _sampleCount--;
                }

                var at = (_sampleStart + _sampleCount) % _samples.Length;
                _sampleTimes[at] = nowMs;
                _samples[at] = usage;
                _sampleCount++;
            }

            if (_sampleCount == 0)
            {
                return _options.Bounds.Clamp(current, total);
            }

            for (var i = 0; i < _sampleCount; i++)
            {
                _scratch[i] = _samples[(_sampleStart + i) % _samples.Length];
            }

            var span = _scratch.AsSpan(0, _sampleCount);
            span.Sort();
            // Nearest-rank percentile: the smallest sample with at least p of the samples at or below it.
            var rank = Math.Clamp((int)Math.Ceiling(_options.Percentile * span.Length) - 1, 0, span.Length - 1);
            var recommendation = _options.Bounds.Clamp(SplitMath.ToUnits(span[rank] * (1 + _options.Margin), total), total);
            return HoldMax(recommendation, nowMs);
        }

        private long HoldMax(long recommendation, long nowMs)
        {
            var holdStart = nowMs - (long)_options.Hold.TotalMilliseconds;
            while (_recCount > 0 && _recTimes[_recStart] <= holdStart)
            {
                _recStart = (_recStart + 1) % _recValues.Length;
                _recCount--;
            }

            // Monotonic (decreasing) queue: a newer, larger recommendation makes older smaller ones irrelevant.
            while (_recCount > 0 && _recValues[(_recStart + _recCount - 1) % _recValues.Length] <= recommendation)
            {
                _recCount--;
            }

            if (_recCount == _recValues.Length)
            {
                _recStart = (_recStart + 1) % _recValues.Length;
                _recCount--;
            }

            var at = (_recStart + _recCount) % _recValues.Length;
            _recTimes[at] = nowMs;
            _recValues[at] = recommendation;
            _recCount++;
            return _recValues[_recStart];
        }
    }
}

using System.Globalization;

namespace Predictor.Engine.Partitioning;

/// <summary>Options of the predictive partition policy, with documented, validated defaults (README, "Policies", says why each).</summary>
public sealed class PredictivePolicyOptions
{
    private double _headroom = 0.05;
    private double _maxStepShare = 0.2;
    private double _deadBandShare;
    private int _shrinkAfterTicks = 6;
    private double _usageFloor = 1.0;
    private double _noiseBand = 1.0;
    private double _growBand;
    private int _usageFloorTicks = 1;
    private int _noiseHalfLifeTicks = 288;

    /// <summary>
    /// Extra allocation above the forecast's upper bound (and above the usage floor), as a fraction of it (0.1 = +10 %).
    /// The loop's <see cref="Forecasting.UpperTracker"/> keeps the bound at its stated quantile per step, which still
    /// leaves one step in ten above it; a small margin removes more under-provisioned ticks than it adds slack. The
    /// default was chosen on held-out replay scenarios, not the shipped ones (README, "Choosing the defaults").
    /// </summary>
    /// <value>The default value is 0.05.</value>
    public double Headroom { get => _headroom; set => _headroom = Check(value, 0, 10, nameof(Headroom)); }

    /// <summary>
    /// Largest shrink of one partition in one tick, as a share of the total. Growth is not rate-limited: being short costs
    /// the workload, holding too much costs only slack, so the policy releases slowly and takes at once.
    /// </summary>
    /// <value>The default value is 0.2.</value>
    public double MaxStepShare { get => _maxStepShare; set => _maxStepShare = Check(value, 1e-9, 1, nameof(MaxStepShare)); }

    /// <summary>
    /// A partition shrinks only when the largest target of the stabilisation window is more than this share of the total
    /// below its allocation (growth is due as soon as the target exceeds the allocation).
    /// </summary>
    /// <value>The default value is 0 (chosen on held-out replay scenarios, README "Choosing the defaults": the band scaled to
    /// the usage's noise, <see cref="NoiseBand"/>, does this job by default).</value>
    public double DeadBandShare { get => _deadBandShare; set => _deadBandShare = Check(value, 0, 1, nameof(DeadBandShare)); }

    /// <summary>
    /// Scale-down stabilisation window, in ticks: a partition shrinks only to the largest target of the last k ticks, and
    /// only once that is below the dead band (growth is immediate). Like the scale-down stabilisation window of the
    /// Kubernetes Horizontal Pod Autoscaler. The default, half an hour at 5-minute ticks, was chosen on held-out replay
    /// scenarios (README, "Choosing the defaults").
    /// </summary>
    /// <value>The default value is 6.</value>
    public int ShrinkAfterTicks
    {
        get => _shrinkAfterTicks;
        set => _shrinkAfterTicks = value is >= 1 and <= 100_000
            ? value
            : throw new PredictorException($"PredictivePolicyOptions.ShrinkAfterTicks = {value} is out of range: use 1 to 100000 ticks (e.g. 12).");
    }

    /// <summary>
    /// Reactive floor: the target is never below this factor × (1 + <see cref="Headroom"/>) × the usage just observed,
    /// so a forecast that misses a level shift is corrected at the next tick rather than never. 0 turns it off.
    /// </summary>
    /// <value>The default value is 1.0.</value>
    public double UsageFloor { get => _usageFloor; set => _usageFloor = Check(value, 0, 10, nameof(UsageFloor)); }

    /// <summary>
    /// Ticks of usage the reactive floor reads: the floor is the median of the last m usages (the lower median for an
    /// even m), so with m = 3 a use must last two ticks of three to raise it: a level shift is followed one tick later,
    /// a lone spike is not (the forecast's bound still covers what it covers). 1 is the use just observed.
    /// </summary>
    /// <value>The default value is 1.</value>
    public int UsageFloorTicks
    {
        get => _usageFloorTicks;
        set => _usageFloorTicks = value is >= 1 and <= 64
            ? value
            : throw new PredictorException($"PredictivePolicyOptions.UsageFloorTicks = {value} is out of range: use 1 to 64 ticks (e.g. 3).");
    }

    /// <summary>
    /// A second dead band, scaled to the partition's own noise: a shrink is not made while it is within this many times
    /// the usage's typical tick-to-tick move (an exponentially weighted mean of |u(t) − u(t − 1)|, half-life
    /// <see cref="NoiseHalfLifeTicks"/>; for white noise about 1.13 σ). The larger of the two bands applies. On a smooth
    /// series it changes nothing; on a sum of spiky workloads it keeps the policy from shrinking into the next spike
    /// (and growing back a few ticks later). 0 turns it off.
    /// </summary>
    /// <value>The default value is 1 (chosen on held-out replay scenarios, README "Choosing the defaults").</value>
    public double NoiseBand { get => _noiseBand; set => _noiseBand = Check(value, 0, 100, nameof(NoiseBand)); }

    /// <summary>
    /// Overshoot of a growth, scaled to the partition's noise like <see cref="NoiseBand"/>: a partition that must grow
    /// grows to its target plus this many times the usage's typical tick-to-tick move, so that the next few small rises
    /// of the target fit without another change. It never delays a growth (the target is always covered); it costs that
    /// much slack until the next shrink, which the dead bands let through only once the overshoot is no longer needed.
    /// 0 grows exactly to the target.
    /// </summary>
    /// <value>The default value is 0.</value>
    public double GrowBand { get => _growBand; set => _growBand = Check(value, 0, 100, nameof(GrowBand)); }

    /// <summary>Half-life, in ticks, of the usage noise that <see cref="NoiseBand"/> scales.</summary>
    /// <value>The default value is 288 (a day at 5-minute ticks).</value>
    public int NoiseHalfLifeTicks
    {
        get => _noiseHalfLifeTicks;
        set => _noiseHalfLifeTicks = value is >= 1 and <= 10_000_000
            ? value
            : throw new PredictorException($"PredictivePolicyOptions.NoiseHalfLifeTicks = {value} is out of range: use 1 to 10000000 ticks (e.g. 288).");
    }

    /// <summary>User and system bounds.</summary>
    /// <value>The default value is 20–80 %.</value>
    public PartitionBounds Bounds { get; init; } = new();

    internal static double Check(double value, double min, double max, string name) =>
        value >= min && value <= max
            ? value
            : throw new PredictorException(
                $"{name} = {value.ToString(CultureInfo.InvariantCulture)} is out of range: use a value in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}].");
}

/// <summary>
/// Sizes each partition from the forecast: target = ⌈max(upper, floor × usage) × (1 + headroom)⌉ where upper is the
/// maximum over the horizon of the forecast's upper bound and usage what the partition used at this tick, clamped to
/// the bounds. Growth is immediate, to the target; a shrink goes only to the largest target of the last k ticks
/// (scale-down stabilisation window) and only when that is more than the dead band below the allocation, at most
/// MaxStep per tick. What neither partition needs is left in the free pool. When the two together exceed the total,
/// each keeps what it uses now and the rest is shared in proportion to use (<see cref="Arbitrate"/>). A NaN upper bound
/// (no forecast) holds that partition where it is. Allocation-free per call: the recent targets are a fixed ring per
/// partition.
/// </summary>
internal sealed class PredictivePartitionPolicy : IPartitionPolicy
{
    private readonly PredictivePolicyOptions _options;
    private readonly Recent _user;
    private readonly Recent _system;

    public PredictivePartitionPolicy(PredictivePolicyOptions? options = null)
    {
        _options = options ?? new PredictivePolicyOptions();
        _options.Bounds.Validate();
        _user = new Recent(_options.ShrinkAfterTicks, _options.NoiseHalfLifeTicks, _options.UsageFloorTicks);
        _system = new Recent(_options.ShrinkAfterTicks, _options.NoiseHalfLifeTicks, _options.UsageFloorTicks);
    }

    public PartitionSplit Propose(PartitionSplit current, in PartitionObservation observation)
    {
        var total = current.Total;
        var user = Next(current.User, observation.UserUpper, observation.UserUsage, total, _user, out var userTarget);
        var system = Next(current.System, observation.SystemUpper, observation.SystemUsage, total, _system, out var systemTarget);

        if (user + system > total)
        {
            Arbitrate(ref user, ref system, userTarget, systemTarget, observation, total);
        }

        return new PartitionSplit(total, user, system);
    }

    /// <summary>
    /// Contention (the two proposals exceed the total): forecast headroom yields before observed use. Each partition
    /// first keeps what it uses now (raised to its minimum, within its proposal) and no more than its present target
    /// (holding a higher allocation for the stabilisation window is for when there is room); what is left goes in
    /// proportion to the uses (a busier partition's next surprise is larger in absolute terms), never beyond a
    /// partition's own cap. When even the uses do not fit, both fall back to the bounds' minimum and give up in
    /// proportion to what they hold above it (<see cref="SplitMath.FitToTotal(ref long, ref long, long, long)"/>).
    /// </summary>
    private void Arbitrate(ref long user, ref long system, long userTarget, long systemTarget, in PartitionObservation observation, long total)
    {
        var userFloor = Math.Min(user, _options.Bounds.Clamp(SplitMath.ToUnits(observation.UserUsage, total), total));
        var systemFloor = Math.Min(system, _options.Bounds.Clamp(SplitMath.ToUnits(observation.SystemUsage, total), total));
        if (userFloor + systemFloor > total)
        {
            SplitMath.FitToTotal(ref user, ref system, total, _options.Bounds.Min(total));
            return;
        }

        user = Math.Min(user, Math.Max(userTarget, userFloor));
        system = Math.Min(system, Math.Max(systemTarget, systemFloor));
        if (user + system <= total)
        {
            return;
        }

        // Weights: the uses, with a missing (NaN) or negative use counting as none; equal weights when both are none.
        var userWeight = observation.UserUsage > 0 ? observation.UserUsage : 0;
        var systemWeight = observation.SystemUsage > 0 ? observation.SystemUsage : 0;
        var weights = userWeight + systemWeight;
        var spare = total - userFloor - systemFloor;
        var userShare = Math.Min(user - userFloor, weights > 0 ? (long)(spare * (userWeight / weights)) : spare / 2);
        var systemShare = Math.Min(system - systemFloor, spare - userShare);
        userShare = Math.Min(user - userFloor, spare - systemShare);
        user = userFloor + userShare;
        system = systemFloor + systemShare;
    }

    private long Next(long allocation, double upper, double usage, long total, Recent recent, out long target)
    {
        if (double.IsNaN(upper))
        {
            recent.Clear();
            target = _options.Bounds.Clamp(allocation, total);
            return target;
        }

        var noise = recent.AddUsage(usage);
        var floorUse = recent.UsageMedian(usage);
        var need = _options.UsageFloor > 0 && floorUse * _options.UsageFloor > upper ? floorUse * _options.UsageFloor : upper;
        target = _options.Bounds.Clamp(SplitMath.ToUnits(need * (1 + _options.Headroom), total), total);
        var hold = recent.Add(target);
        var maxStep = Math.Max(1, (long)Math.Round(total * _options.MaxStepShare, MidpointRounding.AwayFromZero));
        var deadBand = (long)Math.Round(Math.Max(total * _options.DeadBandShare, _options.NoiseBand * noise), MidpointRounding.AwayFromZero);
        if (target > allocation)
        {
            return _options.GrowBand > 0
                ? _options.Bounds.Clamp(target + (long)Math.Round(_options.GrowBand * noise, MidpointRounding.AwayFromZero), total)
                : target;
        }

        // Shrink only to the largest target of the stabilisation window, and only by more than the dead band.
        if (!recent.Full || allocation - hold <= deadBand)
        {
            return _options.Bounds.Clamp(allocation, total);
        }

        return _options.Bounds.Clamp(Math.Max(hold, allocation - maxStep), total);
    }

    /// <summary>
    /// The last k targets in a ring (<see cref="Add"/> returns their maximum; k is small: a linear scan), and the usage's
    /// tick-to-tick noise (<see cref="AddUsage"/>).
    /// </summary>
    private sealed class Recent
    {
        private readonly long[] _ring;
        private readonly double[] _uses;
        private readonly double _keep;
        private int _next;
        private int _count;
        private int _nextUse;
        private int _useCount;
        private double _noise;
        private double _noiseWeight;

        public Recent(int size, int noiseHalfLifeTicks, int floorTicks)
        {
            _ring = new long[size];
            _uses = new double[floorTicks];
            _keep = Math.Pow(0.5, 1.0 / noiseHalfLifeTicks);
        }

        public bool Full => _count == _ring.Length;

        public long Add(long value)
        {
            _ring[_next] = value;
            _next = (_next + 1) % _ring.Length;
            _count = Math.Min(_count + 1, _ring.Length);
            var max = long.MinValue;
            for (var i = 0; i < _count; i++)
            {
                max = Math.Max(max, _ring[i]);
            }

            return max;
        }

        /// <summary>
        /// Records this tick's usage and returns the weighted mean of |u(t) − u(t − 1)| so far (bias-corrected for the
        /// few first ticks, 0 before two usages); a missing (NaN) usage is skipped.
        /// </summary>
        public double AddUsage(double usage)
        {
            if (double.IsFinite(usage))
            {
                if (_useCount > 0)
                {
                    // The previous finite usage is the newest in the ring.
                    var previous = _uses[(_nextUse + _uses.Length - 1) % _uses.Length];
                    _noise = (_keep * _noise) + ((1 - _keep) * Math.Abs(usage - previous));
                    _noiseWeight = (_keep * _noiseWeight) + (1 - _keep);
                }

                _uses[_nextUse] = usage;
                _nextUse = (_nextUse + 1) % _uses.Length;
                _useCount = Math.Min(_useCount + 1, _uses.Length);
            }

            return _noiseWeight > 0 ? _noise / _noiseWeight : 0;
        }

        /// <summary>
        /// The lower median of the last m finite usages (those recorded by <see cref="AddUsage"/>); <paramref name="current"/>
        /// when m = 1 or none is recorded. m ≤ 64, so a stack copy sorted in place: no allocation.
        /// </summary>
        public double UsageMedian(double current)
        {
            if (_uses.Length == 1 || _useCount == 0)
            {
                return current;
            }

            Span<double> sorted = stackalloc double[_useCount];
            _uses.AsSpan(0, _useCount).CopyTo(sorted);
            sorted.Sort();
            return sorted[(_useCount - 1) / 2];
        }

        public void Clear()
        {
            _next = 0;
            _count = 0;
        }
    }
}

/// <summary>Integer arithmetic shared by the policies that leave a pool.</summary>
internal static class SplitMath
{
    /// <summary>Rounds a demand up to whole units, saturating at the total (and at 0 for negatives or NaN).</summary>
    public static long ToUnits(double amount, long total)
    {
        if (!(amount > 0))
        {
            return 0;
        }

        return amount >= total ? total : (long)Math.Ceiling(amount);
    }

    /// <summary>
    /// Makes user + system ≤ total by taking the excess from both, each in proportion to what it holds above
    /// <paramref name="min"/> (so neither goes below its minimum; 2·min ≤ total is guaranteed by the bounds).
    /// </summary>
    public static void FitToTotal(ref long user, ref long system, long total, long min) => FitToTotal(ref user, ref system, total, min, min);

    /// <summary>
    /// As <see cref="FitToTotal(ref long, ref long, long, long)"/> with a floor per partition (their sum must not exceed the total).
    /// </summary>
    public static void FitToTotal(ref long user, ref long system, long total, long userMin, long systemMin)
    {
        var excess = user + system - total;
        if (excess <= 0)
        {
            return;
        }

        var userSlack = Math.Max(0, user - userMin);
        var systemSlack = Math.Max(0, system - systemMin);
        var slack = userSlack + systemSlack;
        var fromUser = slack == 0 ? excess / 2 : (long)((double)excess * userSlack / slack);
        fromUser = Math.Min(fromUser, userSlack);
        var fromSystem = Math.Min(excess - fromUser, systemSlack);
        fromUser = excess - fromSystem;
        user -= fromUser;
        system -= fromSystem;
    }
}

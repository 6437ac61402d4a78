using System.Globalization;

namespace Predictor.Engine.Partitioning;

/// <summary>Options of the predictive partition policy, with documented, validated defaults.</summary>
public sealed class PredictivePolicyOptions
{
    private double _headroom = 0.1;
    private double _maxStepShare = 0.2;
    private double _deadBandShare = 0.05;
    private int _shrinkAfterTicks = 3;

    /// <summary>Extra allocation above the forecast's upper bound, as a fraction of that bound (0.1 = +10 %).</summary>
    /// <value>The default value is 0.1.</value>
    public double Headroom { get => _headroom; set => _headroom = Check(value, 0, 10, nameof(Headroom)); }

    /// <summary>Largest change of one partition in one tick, as a share of the total.</summary>
    /// <value>The default value is 0.2.</value>
    public double MaxStepShare { get => _maxStepShare; set => _maxStepShare = Check(value, 1e-9, 1, nameof(MaxStepShare)); }

    /// <summary>A partition shrinks only when its target is below its allocation by more than this share of the total.</summary>
    /// <value>The default value is 0.05.</value>
    public double DeadBandShare { get => _deadBandShare; set => _deadBandShare = Check(value, 0, 1, nameof(DeadBandShare)); }

    /// <summary>Consecutive ticks the target must stay below the dead band before a partition shrinks (growth is immediate).</summary>
    /// <value>The default value is 3.</value>
    public int ShrinkAfterTicks
    {
        get => _shrinkAfterTicks;
        set => _shrinkAfterTicks = value >= 1
            ? value
            : throw new PredictorException($"PredictivePolicyOptions.ShrinkAfterTicks = {value} is out of range: use 1 or more ticks (e.g. 3).");
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
/// Sizes each partition from the forecast: target = ⌈upper × (1 + headroom)⌉ where upper is the maximum over the
/// horizon of the forecast's upper bound, clamped to the bounds. Growth is immediate but at most MaxStep per tick;
/// shrinking waits until the target has been more than the dead band below the allocation for k consecutive
/// ticks (hysteresis against flapping), then also moves at most MaxStep per tick. What neither partition needs is
/// left in the free pool. When the two targets together exceed the total, each gives up part of what it holds above
/// its minimum, in proportion to that part (<see cref="SplitMath.FitToTotal"/>). A NaN upper bound (no forecast)
/// holds that partition where it is.
/// </summary>
internal sealed class PredictivePartitionPolicy : IPartitionPolicy
{
    private readonly PredictivePolicyOptions _options;
    private int _userBelowTicks;
    private int _systemBelowTicks;

    public PredictivePartitionPolicy(PredictivePolicyOptions? options = null)
    {
        _options = options ?? new PredictivePolicyOptions();
        _options.Bounds.Validate();
    }

    public PartitionSplit Propose(PartitionSplit current, in PartitionObservation observation)
    {
        var total = current.Total;
        var user = Next(current.User, observation.UserUpper, total, ref _userBelowTicks);
        var system = Next(current.System, observation.SystemUpper, total, ref _systemBelowTicks);
        SplitMath.FitToTotal(ref user, ref system, total, _options.Bounds.Min(total));
        return new PartitionSplit(total, user, system);
    }

    private long Next(long allocation, double upper, long total, ref int belowTicks)
    {
        if (double.IsNaN(upper))
        {
            belowTicks = 0;
            return _options.Bounds.Clamp(allocation, total);
        }

        var target = _options.Bounds.Clamp(SplitMath.ToUnits(upper * (1 + _options.Headroom), total), total);
        var maxStep = Math.Max(1, (long)Math.Round(total * _options.MaxStepShare, MidpointRounding.AwayFromZero));
        if (target >= allocation)
        {
            belowTicks = 0;
            return _options.Bounds.Clamp(Math.Min(target, allocation + maxStep), total);
        }

        var deadBand = (long)Math.Round(total * _options.DeadBandShare, MidpointRounding.AwayFromZero);
        if (allocation - target <= deadBand)
        {
            belowTicks = 0;
            return _options.Bounds.Clamp(allocation, total);
        }

        belowTicks++;
        return belowTicks >= _options.ShrinkAfterTicks
            ? _options.Bounds.Clamp(Math.Max(target, allocation - maxStep), total)
            : _options.Bounds.Clamp(allocation, total);
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
    public static void FitToTotal(ref long user, ref long system, long total, long min)
    {
        var excess = user + system - total;
        if (excess <= 0)
        {
            return;
        }

        var userSlack = Math.Max(0, user - min);
        var systemSlack = Math.Max(0, system - min);
        var slack = userSlack + systemSlack;
        var fromUser = slack == 0 ? excess / 2 : (long)((double)excess * userSlack / slack);
        fromUser = Math.Min(fromUser, userSlack);
        var fromSystem = Math.Min(excess - fromUser, systemSlack);
        fromUser = excess - fromSystem;
        user -= fromUser;
        system -= fromSystem;
    }
}

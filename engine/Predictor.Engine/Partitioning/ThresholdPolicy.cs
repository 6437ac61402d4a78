using System.Globalization;

namespace Predictor.Engine.Partitioning;

/// <summary>Options of the seed's threshold policy. Defaults are the seed's numbers.</summary>
public sealed class ThresholdPolicyOptions
{
    private double _growAbove = 0.8;
    private double _shrinkBelow = 0.2;
    private double _stepShare = 0.1;

    /// <summary>A partition whose use / allocation exceeds this grows.</summary>
    /// <value>The default value is 0.8.</value>
    public double GrowAbove { get => _growAbove; set => _growAbove = Check(value, nameof(GrowAbove)); }

    /// <summary>A partition whose use / allocation is below this shrinks.</summary>
    /// <value>The default value is 0.2.</value>
    public double ShrinkBelow { get => _shrinkBelow; set => _shrinkBelow = Check(value, nameof(ShrinkBelow)); }

    /// <summary>The step, as a share of the total budget.</summary>
    /// <value>The default value is 0.1.</value>
    public double StepShare { get => _stepShare; set => _stepShare = Check(value, nameof(StepShare)); }

    /// <summary>User and system bounds.</summary>
    /// <value>The default value is 20–80 %.</value>
    public PartitionBounds Bounds { get; init; } = new();

    private static double Check(double value, string name) =>
        value is > 0 and < 1
            ? value
            : throw new PredictorException(
                $"ThresholdPolicyOptions.{name} = {value.ToString(CultureInfo.InvariantCulture)} is out of range: use a fraction in (0, 1).");
}

/// <summary>
/// The seed's threshold algorithm, kept exactly as the reactive baseline. Our reading of the seed (its pseudocode
/// is not in the repository; DESIGN.md states it as "±10 % steps at 80 % / 20 % use, 20–80 % bounds, splits the
/// whole budget between user and system and keeps the pool empty"):
/// <code>
/// pool ← 0 (a pool left by another policy is handed back, half to each partition)
/// r_user ← use_user / alloc_user;  r_sys ← use_sys / alloc_sys      (both read at the start of the tick)
/// for p in (user, system), o = the other:
///     if r_p &gt; 0.8: move min(0.1·T, max_p − alloc_p, alloc_o − min_o) from o to p
///     elif r_p &lt; 0.2: move min(0.1·T, alloc_p − min_p, max_o − alloc_o) from p to o
/// </code>
/// with min = ⌈0.2·T⌉ and max = ⌊0.8·T⌋. Points the seed leaves open and how we read them: a step that would cross
/// a bound stops at the bound (a partial step); both ratios are taken from the tick's starting allocation; when
/// both partitions are above 80 % (or both below 20 %) the two moves cancel, since neither can grow at the other's
/// expense; use / 0 counts as above every threshold.
/// </summary>
internal sealed class ThresholdPolicy : IPartitionPolicy
{
    private readonly ThresholdPolicyOptions _options;

    public ThresholdPolicy(ThresholdPolicyOptions? options = null)
    {
        _options = options ?? new ThresholdPolicyOptions();
        _options.Bounds.Validate();
    }

    public PartitionSplit Propose(PartitionSplit current, in PartitionObservation observation)
    {
        var total = current.Total;
        var user = current.User;
        var system = current.System;

        // The seed splits everything: a pool left by another policy goes back to the partitions.
        var pool = current.Pool;
        user += pool / 2;
        system += pool - (pool / 2);

        var userRatio = Ratio(observation.UserUsage, user);
        var systemRatio = Ratio(observation.SystemUsage, system);
        var step = (long)Math.Round(total * _options.StepShare, MidpointRounding.AwayFromZero);
        var min = _options.Bounds.Min(total);
        var max = _options.Bounds.Max(total);

        Apply(userRatio, ref user, ref system, step, min, max);
        Apply(systemRatio, ref system, ref user, step, min, max);
        return new PartitionSplit(total, user, system);
    }

    private void Apply(double ratio, ref long self, ref long other, long step, long min, long max)
    {
        if (ratio > _options.GrowAbove)
        {
            var move = Math.Max(0, Math.Min(step, Math.Min(max - self, other - min)));
            self += move;
            other -= move;
        }
        else if (ratio < _options.ShrinkBelow)
        {
            var move = Math.Max(0, Math.Min(step, Math.Min(self - min, max - other)));
            self -= move;
            other += move;
        }
    }

    private static double Ratio(double usage, long allocation) =>
        allocation > 0 ? usage / allocation : (usage > 0 ? double.PositiveInfinity : 0);
}

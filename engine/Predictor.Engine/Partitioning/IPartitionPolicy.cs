namespace Predictor.Engine.Partitioning;

/// <summary>
/// What a partition policy sees at one tick, for one resource, in the resource's unit. A decision made at tick t
/// uses data up to t only (DESIGN.md, replay metrics). Missing data is NaN; the fail-closed safety step holds the
/// last safe split when a policy is fed NaN, so policies need not guard every input.
/// </summary>
/// <param name="TimestampMs">The tick's time, Unix milliseconds.</param>
/// <param name="UserUsage">What the user partition used at this tick.</param>
/// <param name="SystemUsage">What the system partition used at this tick.</param>
/// <param name="UserUpper">Max over the forecast horizon of the upper bound of the user partition's demand; NaN when no forecast.</param>
/// <param name="SystemUpper">Same for the system partition.</param>
public readonly record struct PartitionObservation(
    long TimestampMs,
    double UserUsage,
    double SystemUsage,
    double UserUpper,
    double SystemUpper)
{
    /// <summary>Usage of one partition.</summary>
    public double Usage(PartitionId id) => id == PartitionId.User ? UserUsage : SystemUsage;

    /// <summary>Forecast upper bound (max over the horizon) of one partition.</summary>
    public double Upper(PartitionId id) => id == PartitionId.User ? UserUpper : SystemUpper;
}

/// <summary>
/// Proposes the next split of one resource's budget. One instance per resource: policies keep state
/// (hysteresis counters, histograms, windows) between ticks. Implementations do not allocate per call.
/// </summary>
public interface IPartitionPolicy
{
    /// <summary>Proposes the split to apply from the next tick on.</summary>
    PartitionSplit Propose(PartitionSplit current, in PartitionObservation observation);
}

namespace Predictor.Engine.Partitioning;

/// <summary>The one entry point to the partition policies (implementations stay internal).</summary>
public static class PartitionPolicies
{
    /// <summary>The seed's threshold algorithm, the reactive baseline (±10 % at 80 % / 20 % use, pool always empty).</summary>
    public static IPartitionPolicy Threshold(ThresholdPolicyOptions? options = null) => new ThresholdPolicy(options);

    /// <summary>The predictive policy: forecast upper bound + headroom, bounds, max step, hysteresis; the rest to the pool.</summary>
    public static IPartitionPolicy Predictive(PredictivePolicyOptions? options = null) => new PredictivePartitionPolicy(options);

    /// <summary>A VPA-style recommender: p90 of a decaying usage histogram (half-life 24 h) + 15 %.</summary>
    public static IPartitionPolicy VpaStyle(VpaStyleOptions? options = null) => new VpaStylePolicy(options);

    /// <summary>An Autopilot-style moving window: p95 of usage over a window + 10 %, holding the max of the last hour.</summary>
    public static IPartitionPolicy AutopilotStyle(AutopilotStyleOptions? options = null) => new AutopilotStylePolicy(options);
}

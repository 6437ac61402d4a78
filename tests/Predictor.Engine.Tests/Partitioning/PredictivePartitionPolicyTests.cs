using Predictor.Engine.Partitioning;

namespace Predictor.Engine.Tests.Partitioning;

public sealed class PredictivePartitionPolicyTests
{
    private const long Total = 1000;

    private static PartitionObservation Upper(double user, double system, long t = 0) => new(t, user, system, user, system);

    [Fact]
    public void Propose_LowForecast_SizesFromUpperPlusHeadroomAndLeavesThePool()
    {
        var policy = PartitionPolicies.Predictive(new PredictivePolicyOptions { MaxStepShare = 1 });
        var next = policy.Propose(new PartitionSplit(Total, 200, 200), Upper(300, 250));
        Assert.Equal(330, next.User);   // 300 × 1.1
        Assert.Equal(275, next.System); // 250 × 1.1
        Assert.Equal(395, next.Pool);
    }

    [Fact]
    public void Propose_SurgeForecast_GrowsImmediatelyByAtMostMaxStep()
    {
        var policy = PartitionPolicies.Predictive(new PredictivePolicyOptions { MaxStepShare = 0.1 });
        var next = policy.Propose(new PartitionSplit(Total, 300, 200), Upper(700, 150));
        Assert.Equal(400, next.User);
    }

    [Fact]
    public void Propose_TargetBelowByMoreThanDeadBand_ShrinksOnlyAfterKTicks()
    {
        var policy = PartitionPolicies.Predictive(new PredictivePolicyOptions { ShrinkAfterTicks = 3, MaxStepShare = 1, DeadBandShare = 0.05 });
        var split = new PartitionSplit(Total, 600, 200);
        split = policy.Propose(split, Upper(300, 150, 1));
        Assert.Equal(600, split.User);
        split = policy.Propose(split, Upper(300, 150, 2));
        Assert.Equal(600, split.User);
        split = policy.Propose(split, Upper(300, 150, 3));
        Assert.Equal(330, split.User);
    }

    [Fact]
    public void Propose_TargetWithinDeadBand_NeverShrinks()
    {
        var policy = PartitionPolicies.Predictive(new PredictivePolicyOptions { ShrinkAfterTicks = 1, DeadBandShare = 0.05 });
        var split = new PartitionSplit(Total, 370, 200);
        for (var t = 0; t < 10; t++)
        {
            split = policy.Propose(split, Upper(300, 170, t)); // target 330: 40 below, inside the 50 dead band
        }

        Assert.Equal(370, split.User);
    }

    [Fact]
    public void Propose_InterruptedLowRun_RestartsTheHysteresisCount()
    {
        var policy = PartitionPolicies.Predictive(new PredictivePolicyOptions { ShrinkAfterTicks = 2, MaxStepShare = 1 });
        var split = new PartitionSplit(Total, 600, 200);
        split = policy.Propose(split, Upper(300, 150, 1)); // below: 1
        split = policy.Propose(split, Upper(560, 150, 2)); // target 616 ≥ 600: grows, resets
        Assert.Equal(616, split.User);
        split = policy.Propose(split, Upper(300, 150, 3)); // below: 1 again
        Assert.Equal(616, split.User);
    }

    [Fact]
    public void Propose_BothNeedMoreThanTotal_FitsInTotalAboveMinimums()
    {
        var policy = PartitionPolicies.Predictive(new PredictivePolicyOptions { MaxStepShare = 1 });
        var next = policy.Propose(new PartitionSplit(Total, 400, 400), Upper(900, 900));
        Assert.Equal(0, next.Pool);
        Assert.Equal(500, next.User);
        Assert.Equal(500, next.System);
    }

    [Fact]
    public void Propose_NoForecast_HoldsThatPartition()
    {
        var policy = PartitionPolicies.Predictive();
        var next = policy.Propose(new PartitionSplit(Total, 400, 300), new PartitionObservation(0, 100, 100, double.NaN, 100));
        Assert.Equal(400, next.User);
    }

    [Fact]
    public void Propose_RandomisedForecasts_InvariantBoundsAndMaxStepHold()
    {
        var random = new Random(42);
        var options = new PredictivePolicyOptions { MaxStepShare = 0.15 };
        var policy = PartitionPolicies.Predictive(options);
        for (var run = 0; run < 20; run++)
        {
            var total = 1 + random.NextInt64(1L << 40);
            var split = PartitionSplit.Even(total);
            for (var t = 0; t < 500; t++)
            {
                var next = policy.Propose(split, Upper(random.NextDouble() * total, random.NextDouble() * total, t));
                Assert.Equal(total, next.User + next.System + next.Pool);
                Assert.True(next.Pool >= 0);
                Assert.InRange(next.User, options.Bounds.Min(total), options.Bounds.Max(total));
                Assert.InRange(next.System, options.Bounds.Min(total), options.Bounds.Max(total));
                // Growth is bounded by MaxStep (+1 unit of rounding); fitting into the total may only lower it.
                Assert.True(next.User - split.User <= (long)Math.Round(total * 0.15) + 1, $"user grew {next.User - split.User} of {total}");
                split = next;
            }
        }
    }
}

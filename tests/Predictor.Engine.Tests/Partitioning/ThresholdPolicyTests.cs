using Predictor.Engine.Partitioning;

namespace Predictor.Engine.Tests.Partitioning;

public sealed class ThresholdPolicyTests
{
    private const long Total = 1000;

    private static PartitionSplit Propose(long user, long system, double userUse, double systemUse) =>
        PartitionPolicies.Threshold().Propose(new PartitionSplit(Total, user, system), new PartitionObservation(0, userUse, systemUse, double.NaN, double.NaN));

    [Fact]
    public void Propose_UserAbove80Percent_GrowsUserByTenPercentOfTotalFromSystem()
    {
        var next = Propose(500, 500, userUse: 450, systemUse: 250); // 90 % and 50 %
        Assert.Equal(600, next.User);
        Assert.Equal(400, next.System);
        Assert.Equal(0, next.Pool);
    }

    [Fact]
    public void Propose_UserBelow20Percent_ShrinksUserByTenPercentToSystem()
    {
        var next = Propose(500, 500, userUse: 50, systemUse: 250); // 10 % and 50 %
        Assert.Equal(400, next.User);
        Assert.Equal(600, next.System);
    }

    [Fact]
    public void Propose_SystemAbove80Percent_GrowsSystem()
    {
        var next = Propose(500, 500, userUse: 250, systemUse: 490);
        Assert.Equal(400, next.User);
        Assert.Equal(600, next.System);
    }

    [Fact]
    public void Propose_SystemBelow20Percent_ShrinksSystem()
    {
        var next = Propose(500, 500, userUse: 250, systemUse: 10);
        Assert.Equal(600, next.User);
        Assert.Equal(400, next.System);
    }

    [Fact]
    public void Propose_BetweenThresholds_ChangesNothing()
    {
        var next = Propose(500, 500, userUse: 400, systemUse: 100); // exactly 80 % and 20 %: neither > 80 nor < 20
        Assert.Equal(500, next.User);
        Assert.Equal(500, next.System);
    }

    [Fact]
    public void Propose_GrowthAtUpperBound_StopsAt80Percent()
    {
        var next = Propose(750, 250, userUse: 740, systemUse: 100);
        Assert.Equal(800, next.User); // a partial step: 50, not 100
        Assert.Equal(200, next.System);
        var again = Propose(800, 200, userUse: 790, systemUse: 100);
        Assert.Equal(800, again.User);
    }

    [Fact]
    public void Propose_ShrinkAtLowerBound_StopsAt20Percent()
    {
        var next = Propose(250, 750, userUse: 10, systemUse: 300);
        Assert.Equal(200, next.User);
        Assert.Equal(800, next.System);
    }

    [Fact]
    public void Propose_BothAbove80Percent_MovesCancel()
    {
        var next = Propose(500, 500, userUse: 490, systemUse: 490);
        Assert.Equal(500, next.User);
        Assert.Equal(500, next.System);
    }

    [Fact]
    public void Propose_SplitWithPool_HandsThePoolBackAndKeepsItEmpty()
    {
        var next = Propose(300, 300, userUse: 150, systemUse: 150);
        Assert.Equal(0, next.Pool);
        Assert.Equal(500, next.User);
        Assert.Equal(500, next.System);
    }

    [Fact]
    public void Propose_RandomisedUse_PoolAlwaysEmptyAndBoundsHold()
    {
        var random = new Random(5);
        var policy = PartitionPolicies.Threshold();
        var split = PartitionSplit.Even(Total);
        for (var t = 0; t < 5000; t++)
        {
            var observation = new PartitionObservation(t, random.NextDouble() * split.User * 1.2, random.NextDouble() * split.System * 1.2, double.NaN, double.NaN);
            split = policy.Propose(split, observation);
            Assert.Equal(Total, split.User + split.System + split.Pool);
            Assert.Equal(0, split.Pool);
            Assert.InRange(split.User, 200, 800);
            Assert.InRange(split.System, 200, 800);
        }
    }
}

using Predictor.Engine.Partitioning;

namespace Predictor.Engine.Tests.Partitioning;

public sealed class PartitionSplitTests
{
    [Fact]
    public void Constructor_UserPlusSystemAboveTotal_ThrowsSayingWhy()
    {
        var ex = Assert.Throws<PredictorException>(() => new PartitionSplit(100, 60, 50));
        Assert.Contains("user + system ≤ total", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pool_AnySplit_IsWhatNeitherPartitionHolds()
    {
        var split = new PartitionSplit(100, 30, 25);
        Assert.Equal(45, split.Pool);
        Assert.Equal(100, split.User + split.System + split.Pool);
    }

    [Fact]
    public void Even_OddTotal_SplitsEverything()
    {
        var split = PartitionSplit.Even(1001);
        Assert.Equal(0, split.Pool);
        Assert.Equal(1001, split.User + split.System);
    }

    [Fact]
    public void Bounds_MinAboveMax_ValidateThrows()
    {
        var bounds = new PartitionBounds { MaxShare = 0.3 };
        bounds.MinShare = 0.4;
        Assert.Throws<PredictorException>(bounds.Validate);
    }

    [Fact]
    public void Bounds_MinShareAboveHalf_Throws()
    {
        Assert.Throws<PredictorException>(() => new PartitionBounds { MinShare = 0.6 });
    }
}

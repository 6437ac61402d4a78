using Predictor.Training.Ssa;

namespace Predictor.Training.Tests.Ssa;

public sealed class LevelShiftTests
{
    [Fact]
    public void ExplainedShare_TwoLevels_IsTheBetweenPartShareOfTheBestSplit()
    {
        Assert.Equal(1.0, LevelShift.ExplainedShare([0, 0, 1, 1], minSide: 1), 12);
        Assert.Equal(1.0 / 3, LevelShift.ExplainedShare([0, 1, 0, 1], minSide: 1), 12); // splits after 1 or 3 values, not 2
    }

    [Fact]
    public void ExplainedShare_SplitsCloserToAnEndThanMinSide_AreNotConsidered()
    {
        Assert.Equal(1.0, LevelShift.ExplainedShare([0, 0, 0, 5], minSide: 1), 12);
        Assert.Equal(1.0 / 3, LevelShift.ExplainedShare([0, 0, 0, 5], minSide: 2), 12); // only the split in the middle
    }

    [Fact]
    public void ExplainedShare_ConstantOrTooShort_IsZero()
    {
        Assert.Equal(0, LevelShift.ExplainedShare([3, 3, 3, 3], minSide: 1));
        Assert.Equal(0, LevelShift.ExplainedShare([0, 1, 2], minSide: 2));
    }

    [Fact]
    public void Dominates_DailyCycleWithAJump_TrueWithoutTheJumpFalse()
    {
        const int Season = 24;
        var random = new Random(7);
        double[] Series(double jump) => [.. Enumerable.Range(0, 10 * Season).Select(t =>
            Math.Sin(2 * Math.PI * t / Season) + (0.3 * random.NextDouble()) + (t >= 8.5 * Season ? jump : 0))];

        var steady = Series(0);
        var jumped = Series(4);
        Assert.True(LevelShift.ExplainedShare(steady, Season) < 0.05, $"{LevelShift.ExplainedShare(steady, Season):F3}");
        Assert.False(LevelShift.Dominates(steady, Season));
        Assert.True(LevelShift.Dominates(jumped, Season), $"{LevelShift.ExplainedShare(jumped, Season):F3}");
    }
}

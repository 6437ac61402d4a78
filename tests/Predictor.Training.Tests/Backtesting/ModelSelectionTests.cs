using Predictor.Training.Backtesting;

namespace Predictor.Training.Tests.Backtesting;

public sealed class ModelSelectionTests
{
    private const int Block = 48;

    [Fact]
    public void RecencyWeights_HalfLifeOfTenOrigins_HalveEveryTenOriginsBack()
    {
        var w = ModelSelection.RecencyWeights(31, 10);

        Assert.Equal(1.0, w[30]);
        Assert.Equal(0.5, w[20], 12);
        Assert.Equal(0.125, w[0], 12);
        Assert.All(ModelSelection.RecencyWeights(5, double.PositiveInfinity), v => Assert.Equal(1.0, v));
    }

    [Fact]
    public void PairedDifference_ConstantDifference_HasThatMeanAndNoError()
    {
        double[] a = [.. Enumerable.Repeat(2.0, 96)];
        double[] b = [.. Enumerable.Repeat(1.5, 96)];

        var (mean, se) = ModelSelection.PairedDifference(a, b, ModelSelection.RecencyWeights(96, 20), Block);

        Assert.Equal(0.5, mean, 12);
        Assert.Equal(0.0, se, 12);
    }

    [Fact]
    public void Choose_LevelShiftEarlyInCalibration_PicksTheKindThatWinsAfterIt()
    {
        // The first third is the transition after a level shift: the window-based "ssa" is far off (12) while
        // "naive" follows (2). Afterwards, in the new regime, ssa does better (1 against 3). Unweighted, naive has
        // the lower mean (2.67 against 4.67); weighted toward recent origins, ssa wins by far more than the noise.
        const int n = 576;
        double[] naive = [.. Enumerable.Range(0, n).Select(i => i < 192 ? 2.0 : 3.0)];
        double[] ssa = [.. Enumerable.Range(0, n).Select(i => i < 192 ? 12.0 : 1.0)];
        string[] kinds = ["ssa", "naive"];
        IReadOnlyList<double[]>[] losses = [[ssa], [naive]];

        int unweighted = ModelSelection.Choose(kinds, losses, double.PositiveInfinity, Block, standardErrors: 0);
        int weighted = ModelSelection.Choose(kinds, losses, halfLifeSteps: 72, Block, standardErrors: 1);

        Assert.Equal("naive", kinds[unweighted]);
        Assert.Equal("ssa", kinds[weighted]);
    }

    [Fact]
    public void Choose_BestWinsOnlyWithinNoise_PicksTheSimplerKind()
    {
        // gbdt is better on average (by 0.05) but the blocks disagree (±0.6): within one standard error.
        const int n = 480;
        var rng = new Random(3);
        double[] seasonal = [.. Enumerable.Range(0, n).Select(_ => 1.0 + (0.01 * rng.NextDouble()))];
        double[] gbdt = [.. Enumerable.Range(0, n).Select(i => seasonal[i] - 0.05 + ((i / Block) % 2 == 0 ? 0.6 : -0.6))];
        string[] kinds = ["gbdt", "seasonal_naive"];
        IReadOnlyList<double[]>[] losses = [[gbdt], [seasonal]];

        Assert.Equal("gbdt", kinds[ModelSelection.Choose(kinds, losses, double.PositiveInfinity, Block, standardErrors: 0)]);
        Assert.Equal("seasonal_naive", kinds[ModelSelection.Choose(kinds, losses, double.PositiveInfinity, Block, standardErrors: 1)]);
    }

    [Fact]
    public void Choose_ComplexKindBetterInEveryBlock_KeepsIt()
    {
        const int n = 480;
        var rng = new Random(5);
        double[] seasonal = [.. Enumerable.Range(0, n).Select(_ => 1.0 + (0.2 * rng.NextDouble()))];
        double[] gbdt = [.. seasonal.Select((v, i) => v - 0.1 - (0.02 * (i % 3)))];
        string[] kinds = ["gbdt", "seasonal_naive", "naive"];
        double[] naive = [.. seasonal.Select(v => v + 1)];
        IReadOnlyList<double[]>[] losses = [[gbdt], [seasonal], [naive]];

        Assert.Equal("gbdt", kinds[ModelSelection.Choose(kinds, losses, 144, Block, standardErrors: 1)]);
    }

    [Fact]
    public void Complexity_KnownOrderAndUnknownKind_UnknownRanksLast()
    {
        Assert.True(ModelSelection.Complexity("naive") < ModelSelection.Complexity("ssa"));
        Assert.True(ModelSelection.Complexity("combination") < ModelSelection.Complexity("gbdt"));
        Assert.True(ModelSelection.Complexity("gbdt") < ModelSelection.Complexity("something_else"));
    }
}

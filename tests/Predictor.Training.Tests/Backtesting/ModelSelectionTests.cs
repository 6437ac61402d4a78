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
    public void Choose_RicherLowerInEveryBlock_IsClearAndLowerOnlyOnAverage_IsNot()
    {
        const int n = 480;
        var rng = new Random(8);
        double[] simpler = [.. Enumerable.Range(0, n).Select(_ => 1.0 + (0.2 * rng.NextDouble()))];
        double[] steady = [.. simpler.Select(v => v - 0.1)];
        double[] erratic = [.. simpler.Select((v, i) => v - 0.05 + ((i / Block) % 2 == 0 ? 0.6 : -0.6))];
        string[] kinds = ["gbdt", "naive"];

        Assert.Equal("gbdt", kinds[ModelSelection.Choose(kinds, [[steady], [simpler]], 144, Block, standardErrors: 1)]);
        Assert.Equal("naive", kinds[ModelSelection.Choose(kinds, [[erratic], [simpler]], double.PositiveInfinity, Block, standardErrors: 1)]);
        Assert.Equal("gbdt", kinds[ModelSelection.Choose(kinds, [[erratic], [simpler]], double.PositiveInfinity, Block, standardErrors: 0)]);
    }

    [Fact]
    public void Complexity_KnownOrderAndUnknownKind_UnknownRanksLast()
    {
        Assert.True(ModelSelection.Complexity("naive") < ModelSelection.Complexity("ssa"));
        Assert.True(ModelSelection.Complexity("combination") < ModelSelection.Complexity("gbdt"));
        Assert.True(ModelSelection.Complexity("gbdt") < ModelSelection.Complexity("something_else"));
    }
    /// <summary>Per-step losses [kind][series 0][step][origin] with a little seeded noise around each step's level.</summary>
    private static IReadOnlyList<double[][]>[] StepLosses(int origins, params Func<int, double>[] levelAtStep)
    {
        var rng = new Random(11);
        return
        [
            .. levelAtStep.Select(level => (IReadOnlyList<double[][]>)[[.. Enumerable.Range(0, 12).Select(k =>
                Enumerable.Range(0, origins).Select(_ => level(k) + (0.02 * rng.NextDouble())).ToArray())]]),
        ];
    }

    [Fact]
    public void ChoosePerStep_OneKindWinsShortStepsAnotherFarSteps_PicksEachWhereItWinsClearly()
    {
        // "ssa" is clearly better at steps 1–7, "naive" clearly better at steps 8–12 (the whole-horizon winner is ssa,
        // index 0): steps 8–12 depart to naive, steps 1–7 stay with ssa.
        string[] kinds = ["ssa", "naive"];
        var losses = StepLosses(480, k => k < 5 ? 0.3 : k < 7 ? 0.55 : 1.0, k => k < 5 ? 0.6 : k < 7 ? 0.6 : 0.7);

        int[] chosen = ModelSelection.ChoosePerStep(kinds, losses, wholeHorizon: 0, halfLifeSteps: 72, Block, standardErrors: 1);

        Assert.Equal(["ssa", "ssa", "ssa", "ssa", "ssa", "ssa", "ssa", "naive", "naive", "naive", "naive", "naive"], chosen.Select(c => kinds[c]));
    }

    [Fact]
    public void ChoosePerStep_StepWinsOnlyWithinNoise_KeepsTheWholeHorizonWinner()
    {
        // At the far steps gbdt is better on average (by 0.05) but the one-day blocks disagree by ±0.6: no departure.
        string[] kinds = ["ssa", "gbdt"];
        var losses = StepLosses(480, _ => 1.0, k => k < 6 ? 1.5 : 0.95);
        for (int k = 6; k < 12; k++)
        {
            var far = losses[1][0][k];
            for (int i = 0; i < far.Length; i++)
            {
                far[i] += (i / Block) % 2 == 0 ? 0.6 : -0.6;
            }
        }

        int[] chosen = ModelSelection.ChoosePerStep(kinds, losses, wholeHorizon: 0, halfLifeSteps: double.PositiveInfinity, Block, standardErrors: 1);

        Assert.All(chosen, c => Assert.Equal(0, c));
    }

    [Fact]
    public void ChoosePerStep_DepartingStep_TakesTheSimplestKindWithinNoiseOfThatStepsBest()
    {
        // Steps 1–12: ridge (the winner) is clearly worst at step 12, where gbdt is best and naive within noise of it.
        string[] kinds = ["ridge", "gbdt", "naive"];
        var losses = StepLosses(480, k => k < 11 ? 0.3 : 1.0, k => k < 11 ? 0.5 : 0.5, k => k < 11 ? 0.6 : 0.51);
        var last = losses[2][0][11];
        for (int i = 0; i < last.Length; i++)
        {
            last[i] += (i / Block) % 2 == 0 ? 0.2 : -0.2; // naive's step-12 lead is within its one-day blocks' spread
        }

        int[] chosen = ModelSelection.ChoosePerStep(kinds, losses, wholeHorizon: 0, halfLifeSteps: double.PositiveInfinity, Block, standardErrors: 1);

        Assert.All(chosen.Take(11), c => Assert.Equal("ridge", kinds[c]));
        Assert.Equal("naive", kinds[chosen[11]]);
    }
}

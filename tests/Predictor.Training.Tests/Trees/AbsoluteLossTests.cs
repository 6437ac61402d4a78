using Predictor.Training.Features;
using Predictor.Training.Trees;

namespace Predictor.Training.Tests.Trees;

/// <summary>
/// <see cref="GbdtLoss.AbsoluteError"/> (LAD_TreeBoost): base values are medians, splits read the residuals' signs,
/// each leaf holds η × the median of its rows' residuals per step, and outliers in the targets pull nothing.
/// </summary>
public sealed class AbsoluteLossTests
{
    /// <summary>Target of step k: a level that steps on feature 0 plus exponential noise (skewed: median ≠ mean).</summary>
    private static SupervisedWindows SkewedSteps(int horizon, int seed)
    {
        var data = GradientBoostedTreesTests.Noise(2000, seed, window: 2, horizon: horizon);
        var rng = new Random(seed + 1);
        for (int r = 0; r < data.Rows; r++)
        {
            bool high = data.Features[2 * r] > 0.5f;
            for (int k = 0; k < horizon; k++)
            {
                double noise = -Math.Log(1 - rng.NextDouble()) * (3 + k);
                data.Targets[(r * horizon) + k] = (float)((k == 0 ? (high ? 10 : 0) : (high ? -5 : 5)) + noise);
            }
        }

        return data;
    }

    private static double MedianBySort(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep, 1)]
    [InlineData(GbdtTreeLayout.PerStep, 2)]
    [InlineData(GbdtTreeLayout.Shared, 2)]
    public void Fit_OneTreeAtRateOne_EachLeafForecastsTheMedianOfItsRowsTargetsPerStep(GbdtTreeLayout trees, int horizon)
    {
        // Base (the median) + 1 × the median of (target − base) over a leaf is the leaf's median target, step by step.
        // Squared loss would give the leaf means, which exponential noise puts (1 − ln 2) ≈ 0.31 × its scale above.
        var data = SkewedSteps(horizon, 21);
        var options = new GbdtOptions
        {
            Loss = GbdtLoss.AbsoluteError, MaxIterations = 1, LearningRate = 1, MaxLeaves = 2, ValidationFraction = 0, PredictDifference = false, Trees = trees,
        };

        var model = GradientBoostedTrees.Fit(data, 2, options);
        var forecast = model.Predict(data);

        for (int k = 0; k < horizon; k++)
        {
            // Rows in the same leaf get the same forecast: group them by it (two leaves, two groups).
            var leaves = Enumerable.Range(0, data.Rows).GroupBy(r => forecast[(r * horizon) + k]).ToList();
            Assert.Equal(2, leaves.Count);
            foreach (var leaf in leaves)
            {
                var targets = leaf.Select(r => (double)data.Targets[(r * horizon) + k]).ToList();
                double median = MedianBySort(targets);
                Assert.Equal(median, leaf.Key, 1e-4);
                Assert.True(targets.Average() - median > 0.5, $"step {k + 1}: the mean {targets.Average():F3} should lie well above the median {median:F3} (skewed noise)");
            }
        }
    }

    [Fact]
    public void Fit_OutliersInTenPercentOfTrainingTargets_AbsoluteLossIgnoresThemWhereSquaredLossIsPulled()
    {
        // A step of 10 on feature 0 plus small noise; one training row in ten is 100 higher. On clean rows the
        // squared-loss leaves sit about 10 too high (the outliers' share of the mean); the medians do not move.
        static SupervisedWindows Steps(int seed, bool outliers)
        {
            var data = GradientBoostedTreesTests.Noise(3000, seed, window: 2, horizon: 1);
            var rng = new Random(seed + 1);
            for (int r = 0; r < data.Rows; r++)
            {
                data.Targets[r] = (data.Features[2 * r] > 0.5f ? 10f : 0f) + (float)(rng.NextDouble() - 0.5) + (outliers && r % 10 == 3 ? 100f : 0f);
            }

            return data;
        }

        var train = Steps(31, outliers: true);
        var clean = Steps(32, outliers: false);
        double CleanMae(GbdtLoss loss)
        {
            var model = GradientBoostedTrees.Fit(train, 2, new GbdtOptions { Loss = loss, MaxIterations = 60, ValidationFraction = 0, PredictDifference = false });
            var forecast = model.Predict(clean);
            return Enumerable.Range(0, clean.Rows).Average(r => Math.Abs(forecast[r] - clean.Targets[r]));
        }

        double absolute = CleanMae(GbdtLoss.AbsoluteError);
        double squared = CleanMae(GbdtLoss.SquaredError);

        Assert.True(absolute < 1, $"absolute loss: clean MAE {absolute:F3} should stay within the noise");
        Assert.True(squared > 5, $"squared loss: clean MAE {squared:F3} should show the outliers' pull");
    }

    [Fact]
    public void Fit_AbsoluteLoss_SameDataTwice_SameModel()
    {
        var data = SkewedSteps(3, 41);
        var options = new GbdtOptions { Loss = GbdtLoss.AbsoluteError, MaxIterations = 30, FeatureFraction = 0.5, Seed = 3 };

        var a = GradientBoostedTrees.Fit(data, 2, options);
        var b = GradientBoostedTrees.Fit(data, 2, options);

        Assert.Equal(a.Predict(data), b.Predict(data));
        Assert.Equal(a.NodeValues.ToArray(), b.NodeValues.ToArray());
    }

    [Fact]
    public void Median_RandomSpansWithTies_EqualsTheSortedMiddle()
    {
        var rng = new Random(7);
        foreach (int n in new[] { 1, 2, 3, 4, 5, 8, 13, 64, 101, 1000, 1001 })
        {
            for (int trial = 0; trial < 20; trial++)
            {
                // Few distinct values (many ties), or continuous ones.
                var values = Enumerable.Range(0, n).Select(_ => trial % 2 == 0 ? rng.Next(5) : rng.NextDouble()).ToArray();
                double expected = MedianBySort(values);

                Assert.Equal(expected, HorizonBooster.Median(values.ToArray()));
            }
        }

        // Sorted and reverse-sorted input (the pivot's worst cases for a naive first-element choice).
        var ascending = Enumerable.Range(0, 500).Select(i => (double)i).ToArray();
        Assert.Equal(249.5, HorizonBooster.Median(ascending.ToArray()));
        Assert.Equal(249.5, HorizonBooster.Median(ascending.Reverse().ToArray()));
    }

    [Fact]
    public void Loss_UndefinedValue_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new GbdtOptions { Loss = (GbdtLoss)7 });
        Assert.Contains("SquaredError or AbsoluteError", e.Message, StringComparison.Ordinal);
        Assert.Equal(GbdtLoss.SquaredError, new GbdtOptions().Loss);
    }
}

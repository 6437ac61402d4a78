using Predictor.Engine;
using Predictor.TestSupport;
using Predictor.Training.Features;
using Predictor.Training.Pipeline;
using Predictor.Training.Trees;

namespace Predictor.Training.Tests.Trees;

/// <summary>
/// <see cref="GbdtTreeLayout.Shared"/>: one multi-output tree per round, split gain summed over the steps (each step's
/// term weighted by 1 / its variance by default, <see cref="GbdtOptions.EqualizeStepGains"/>), an H-vector in every leaf, early stopping per step (each step keeps the trees up to its own best validation round).
/// </summary>
public sealed class SharedTreesTests
{
    private const int Window = 16;
    private const int Horizon = 4;

    private static SupervisedWindows Seasonal(int n, int seed)
    {
        var (values, stamps) = SeasonalSeries(n, seed);
        return SupervisedWindows.Build(values, stamps, Window, Horizon, withCalendar: true);
    }

    private static (double[] Values, long[] Timestamps) SeasonalSeries(int n, int seed)
    {
        var rng = new Random(seed);
        var values = new double[n];
        var stamps = new long[n];
        for (int i = 0; i < n; i++)
        {
            stamps[i] = 1_400_000_000_000L + (i * 300_000L);
            values[i] = 50 + (20 * Math.Sin(2 * Math.PI * i / 288.0)) + (5 * Math.Sin(2 * Math.PI * i / 37.0)) + (2 * rng.NextDouble());
        }

        return (values, stamps);
    }

    private static GbdtOptions Shared(int rounds, double validation = 0) =>
        new() { Trees = GbdtTreeLayout.Shared, MaxIterations = rounds, ValidationFraction = validation };

    /// <summary>Mean over rows and steps of the squared error of the model's forecasts.</summary>
    private static double TrainingLoss(GbdtModel model, SupervisedWindows data)
    {
        var forecast = model.Predict(data);
        double sum = 0;
        for (int i = 0; i < forecast.Length; i++)
        {
            double e = forecast[i] - data.Targets[i];
            sum += e * e;
        }

        return sum / forecast.Length;
    }

    [Fact]
    public void Fit_SharedMoreRounds_TrainingLossFallsEveryTime()
    {
        var data = Seasonal(3000, 1);

        double[] losses = [.. new[] { 1, 3, 10, 30 }.Select(rounds => TrainingLoss(GradientBoostedTrees.Fit(data, Window, Shared(rounds)), data))];

        // Before any tree the forecast is last value + mean change; the first tree already improves on it.
        var none = GradientBoostedTrees.Fit(data, Window, Shared(1));
        double baseLoss = 0;
        for (int r = 0; r < data.Rows; r++)
        {
            float last = data.Features[(r * data.FeatureWidth) + Window - 1];
            for (int h = 0; h < Horizon; h++)
            {
                double e = last + none.BaseValues[h] - data.Targets[(r * Horizon) + h];
                baseLoss += e * e;
            }
        }

        baseLoss /= data.Targets.Length;
        Assert.True(losses[0] < baseLoss, $"One tree: loss {losses[0]:F3}, before any tree {baseLoss:F3}.");
        for (int i = 1; i < losses.Length; i++)
        {
            Assert.True(losses[i] < losses[i - 1], $"Losses by rounds 1, 3, 10, 30: {string.Join(", ", losses.Select(l => l.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}.");
        }
    }

    [Fact]
    public void Fit_Shared_OneTreePerRoundServingEveryStep()
    {
        var data = Seasonal(3000, 2);

        var model = GradientBoostedTrees.Fit(data, Window, Shared(25));

        Assert.Equal(GbdtTreeLayout.Shared, model.Layout);
        Assert.Equal(25, model.TreeCount);
        Assert.All(model.TreesPerHorizon, t => Assert.Equal(25, t));
        Assert.Equal(Horizon, model.LeafWidth);
        Assert.Equal(model.NodeCount * Horizon, model.NodeValues.Length);
    }

    [Fact]
    public void Fit_SharedOneTree_EachLeafHoldsTheNewtonStepOfEveryStep()
    {
        var data = Seasonal(2000, 3);
        var options = Shared(1);
        options.L2Regularization = 2.5;
        options.LearningRate = 0.3;
        var model = GradientBoostedTrees.Fit(data, Window, options);

        // Route every training row to its leaf (float thresholds, as Predict does), then recompute each leaf's value
        // per step from its rows: −η·Σ_rows (base_k − y_k) / (n + λ), y_k = x(t+k) − x(t).
        var count = new Dictionary<int, int>();
        var g = new Dictionary<int, double[]>();
        for (int r = 0; r < data.Rows; r++)
        {
            var row = data.Features.AsSpan(r * data.FeatureWidth, data.FeatureWidth);
            int node = model.TreeRoots[0];
            while (model.NodeFeatures[node] >= 0)
            {
                node = row[model.NodeFeatures[node]] <= model.NodeThresholds[node] ? model.NodeLeft[node] : model.NodeRight[node];
            }

            count[node] = count.GetValueOrDefault(node) + 1;
            var sums = g.TryGetValue(node, out var s) ? s : g[node] = new double[Horizon];
            for (int k = 0; k < Horizon; k++)
            {
                sums[k] += model.BaseValues[k] - (data.Targets[(r * Horizon) + k] - (double)row[Window - 1]);
            }
        }

        Assert.True(count.Count >= 2, "The tree should split.");
        bool stepsDiffer = false;
        foreach (var (leaf, n) in count)
        {
            var values = model.NodeValues.Slice(leaf * Horizon, Horizon);
            for (int k = 0; k < Horizon; k++)
            {
                double expected = -0.3 * g[leaf][k] / (n + 2.5);
                Assert.Equal(expected, values[k], Math.Max(1e-4, 1e-5 * Math.Abs(expected)));
            }

            stepsDiffer |= values[0] != values[Horizon - 1];
        }

        Assert.True(stepsDiffer, "A leaf's values for step 1 and step H should differ on a seasonal series.");
    }

    [Fact]
    public void Fit_SharedGain_SplitsOnTheFeatureWithTheLargestGainSummedOverSteps()
    {
        // Two features, two steps: step 1 steps by 1 on feature 0, step 2 by 3 on feature 1. Feature 1's gain summed
        // over the steps (unweighted) is the larger (9 against 1), so the shared root splits on it; the per-step tree
        // of step 1 splits on feature 0.
        var data = GradientBoostedTreesTests.Noise(1200, 8, window: 2, horizon: 2);
        for (int r = 0; r < data.Rows; r++)
        {
            data.Targets[2 * r] = data.Features[2 * r] > 0.5f ? 1f : 0f;
            data.Targets[(2 * r) + 1] = data.Features[(2 * r) + 1] > 0.5f ? 3f : 0f;
        }

        var options = new GbdtOptions { MaxIterations = 1, ValidationFraction = 0, PredictDifference = false, MaxLeaves = 2, Trees = GbdtTreeLayout.Shared, EqualizeStepGains = false };
        var shared = GradientBoostedTrees.Fit(data, 2, options);
        options.Trees = GbdtTreeLayout.PerStep;
        var perStep = GradientBoostedTrees.Fit(data, 2, options);

        Assert.Equal(1, shared.NodeFeatures[shared.TreeRoots[0]]);
        Assert.Equal(0, perStep.NodeFeatures[perStep.TreeRoots[0]]);
        Assert.Equal(1, perStep.NodeFeatures[perStep.TreeRoots[1]]);
    }

    /// <summary>Step 1 is explained wholly by feature 0 (a step of 1); step 2 steps by 3 on feature 1 under uniform noise
    /// of variance 12, so feature 1 explains only 2.25 / 14.25 of step 2's variance although its raw gain is 9 × step
    /// 1's.</summary>
    private static SupervisedWindows LoudNoisyStepAndQuietCleanStep()
    {
        var data = GradientBoostedTreesTests.Noise(2000, 5, window: 2, horizon: 2);
        var rng = new Random(17);
        for (int r = 0; r < data.Rows; r++)
        {
            data.Targets[2 * r] = data.Features[2 * r] > 0.5f ? 1f : 0f;
            data.Targets[(2 * r) + 1] = (data.Features[(2 * r) + 1] > 0.5f ? 3f : 0f) + (float)((rng.NextDouble() * 12) - 6);
        }

        return data;
    }

    [Fact]
    public void Fit_EqualizedStepGains_SplitsOnTheFeatureExplainingTheLargestShareOfEachStepsVariance()
    {
        // Unweighted, feature 1's raw gain (step 2's 9/4 per row) beats feature 0's (step 1's 1/4); weighted by
        // 1 / variance, feature 0 explains all of step 1 (share 1) and feature 1 about 0.16 of step 2, so it wins.
        var data = LoudNoisyStepAndQuietCleanStep();
        var options = new GbdtOptions { MaxIterations = 1, ValidationFraction = 0, PredictDifference = false, MaxLeaves = 2, Trees = GbdtTreeLayout.Shared };

        var equalized = GradientBoostedTrees.Fit(data, 2, options);
        options.EqualizeStepGains = false;
        var summed = GradientBoostedTrees.Fit(data, 2, options);

        Assert.Equal(0, equalized.NodeFeatures[equalized.TreeRoots[0]]);
        Assert.Equal(1, summed.NodeFeatures[summed.TreeRoots[0]]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Fit_OneStepsTargetsScaledBy4_EqualizedSplitsUnchangedAndThatStepsLeavesScaled(bool equalize)
    {
        // Scaling step 2's targets by 4 (a power of two: every product and quotient scales exactly) multiplies its
        // gradients by 4, its raw gain by 16 and its weight 1/variance by 1/16: equalized, every split and step 1's
        // leaves stay bit for bit, step 2's leaves are exactly 4 times theirs. Unweighted, the splits move.
        var data = LoudNoisyStepAndQuietCleanStep();
        var scaled = LoudNoisyStepAndQuietCleanStep();
        for (int r = 0; r < scaled.Rows; r++)
        {
            scaled.Targets[(2 * r) + 1] *= 4;
        }

        var options = new GbdtOptions { MaxIterations = 15, ValidationFraction = 0, PredictDifference = false, MaxLeaves = 7, Trees = GbdtTreeLayout.Shared, EqualizeStepGains = equalize };
        var a = GradientBoostedTrees.Fit(data, 2, options);
        var b = GradientBoostedTrees.Fit(scaled, 2, options);

        bool sameSplits = a.NodeCount == b.NodeCount
            && a.NodeFeatures.SequenceEqual(b.NodeFeatures)
            && a.NodeThresholds.SequenceEqual(b.NodeThresholds);
        Assert.Equal(equalize, sameSplits);
        if (equalize)
        {
            var va = a.NodeValues;
            var vb = b.NodeValues;
            for (int i = 0; i < a.NodeCount; i++)
            {
                Assert.Equal(va[2 * i], vb[2 * i]);
                Assert.Equal(4 * va[(2 * i) + 1], vb[(2 * i) + 1]);
            }

            Assert.Equal(4 * a.BaseValues[1], b.BaseValues[1]);
        }
    }

    /// <summary>Two steps over a window of 2 noise values: step 1 the next noise value (nothing to learn, its
    /// validation error stops improving at once), step 2 a smooth function of the window (many rounds improve it).</summary>
    private static SupervisedWindows NoiseThenLearnable()
    {
        var data = GradientBoostedTreesTests.Noise(3000, 12, window: 2, horizon: 2);
        for (int r = 0; r < data.Rows; r++)
        {
            data.Targets[(2 * r) + 1] = (10 * data.Features[2 * r]) + (5 * data.Features[(2 * r) + 1]);
        }

        return data;
    }

    private static GbdtOptions Stopping(int rounds) =>
        new() { Trees = GbdtTreeLayout.Shared, MaxIterations = rounds, PredictDifference = false, ValidationFraction = 0.2 };

    [Fact]
    public void Fit_SharedEarlyStopping_EachStepIsTheSumOfItsFirstBestRoundTrees()
    {
        var data = NoiseThenLearnable();

        var model = GradientBoostedTrees.Fit(data, 2, Stopping(80));

        int noise = model.TreesPerHorizon[0];
        Assert.True(noise < 20, $"The noise step kept {noise} trees.");
        Assert.Equal(80, model.TreesPerHorizon[1]);
        Assert.Equal(80, model.TreeCount);

        // The noise step's values in the trees after its best round are 0; its forecast is its base value plus its
        // values in its first trees, summed in tree order in float32 (the other step's, over all trees).
        var forecast = new float[2];
        for (int r = 0; r < data.Rows; r += 7)
        {
            var row = data.Features.AsSpan(r * data.FeatureWidth, data.FeatureWidth);
            var sums = new float[2];
            for (int t = 0; t < model.TreeCount; t++)
            {
                int node = model.TreeRoots[t];
                while (model.NodeFeatures[node] >= 0)
                {
                    node = row[model.NodeFeatures[node]] <= model.NodeThresholds[node] ? model.NodeLeft[node] : model.NodeRight[node];
                }

                for (int k = 0; k < 2; k++)
                {
                    float value = model.NodeValues[(node * 2) + k];
                    if (t < model.TreesPerHorizon[k])
                    {
                        sums[k] += value;
                    }
                    else
                    {
                        Assert.Equal(0f, value);
                    }
                }
            }

            model.Predict(row, forecast);
            Assert.Equal(sums[0] + model.BaseValues[0], forecast[0]);
            Assert.Equal(sums[1] + model.BaseValues[1], forecast[1]);
        }
    }

    [Fact]
    public void Fit_SharedEarlyStopping_TreesAfterEveryStepsBestRoundAreDropped()
    {
        // Both steps noise: every step stops early. Growing on until the last step's patience ran out and then
        // dropping the trees after the last best round gives the model that stopping at that round would give.
        var data = GradientBoostedTreesTests.Noise(3000, 13, window: 4, horizon: 3);

        var model = GradientBoostedTrees.Fit(data, 4, Stopping(300));
        var cut = GradientBoostedTrees.Fit(data, 4, Stopping(model.TreeCount));

        Assert.InRange(model.TreeCount, 1, 299);
        Assert.Equal(model.TreesPerHorizon.Max(), model.TreeCount);
        Assert.Equal(cut.TreesPerHorizon, model.TreesPerHorizon);
        Assert.Equal(cut.NodeFeatures.ToArray(), model.NodeFeatures.ToArray());
        Assert.Equal(cut.NodeThresholds.ToArray(), model.NodeThresholds.ToArray());
        Assert.Equal(cut.NodeValues.ToArray(), model.NodeValues.ToArray());
    }

    [Fact]
    public void Fit_SharedSameDataTwice_IdenticalModelsWhateverTheCores()
    {
        var data = Seasonal(3000, 4);
        var options = new GbdtOptions { Trees = GbdtTreeLayout.Shared, MaxIterations = 30, FeatureFraction = 0.7, Seed = 7 };
        var a = GradientBoostedTrees.Fit(data, Window, options);
        options.MaxDegreeOfParallelism = 1;
        var b = GradientBoostedTrees.Fit(data, Window, options);

        Assert.Equal(a.NodeFeatures.ToArray(), b.NodeFeatures.ToArray());
        Assert.Equal(a.NodeThresholds.ToArray(), b.NodeThresholds.ToArray());
        Assert.Equal(a.NodeValues.ToArray(), b.NodeValues.ToArray());
        Assert.Equal(a.TreesPerHorizon, b.TreesPerHorizon);
        Assert.Equal(a.Predict(data), b.Predict(data));
    }

    [Fact]
    public void Predict_SharedModel_AllocatesNothing()
    {
        var data = Seasonal(2000, 6);
        var model = GradientBoostedTrees.Fit(data, Window, Shared(20));
        var row = data.Features.AsSpan(0, data.FeatureWidth).ToArray();
        var output = new float[Horizon];
        model.Predict(row, output);

        Allocations.AssertSteadyStateAllocatesNothing(100, () => model.Predict(row, output));
    }

    [Fact]
    public void Options_TreesNotALayout_ThrowsNamingTheLayouts()
    {
        var options = new GbdtOptions();

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => options.Trees = (GbdtTreeLayout)7);
        Assert.Contains("PerStep", e.Message, StringComparison.Ordinal);
        Assert.Contains("Shared", e.Message, StringComparison.Ordinal);
        Assert.Equal(GbdtTreeLayout.Shared, options.Trees);
    }

    [Fact]
    public void Options_Defaults_SharedTreesWithEqualizedStepGains()
    {
        var options = new GbdtOptions();

        Assert.Equal(GbdtTreeLayout.Shared, options.Trees);
        Assert.True(options.EqualizeStepGains);
        Assert.Equal(GbdtTreeLayout.Shared, new TrainingOptions().GbdtTrees);
    }

    [Fact]
    public void TrainingOptions_GbdtTreesNotALayout_ValidateThrowsNamingTheFlag()
    {
        var options = new TrainingOptions { GbdtTrees = (GbdtTreeLayout)7 };

        var e = Assert.Throws<PredictorException>(options.Validate);
        Assert.Contains("--gbdt-trees", e.Message, StringComparison.Ordinal);
    }
}

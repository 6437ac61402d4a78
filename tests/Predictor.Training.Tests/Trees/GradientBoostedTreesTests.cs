using Predictor.Engine;
using Predictor.Training.Features;
using Predictor.Training.Trees;

namespace Predictor.Training.Tests.Trees;

public sealed class GradientBoostedTreesTests
{
    private static (double[] Values, long[] Timestamps) Synthetic(int n, int seed, double level = 50)
    {
        var rng = new Random(seed);
        var values = new double[n];
        var stamps = new long[n];
        for (int i = 0; i < n; i++)
        {
            stamps[i] = 1_400_000_000_000L + (i * 300_000L);
            values[i] = level + (20 * Math.Sin(2 * Math.PI * i / 288.0)) + (5 * Math.Sin(2 * Math.PI * i / 37.0)) + (2 * rng.NextDouble());
        }

        return (values, stamps);
    }

    /// <summary>Supervised rows (no calendar) of uniform noise in [0, 1), 5-minute steps.</summary>
    internal static SupervisedWindows Noise(int n, int seed, int window, int horizon)
    {
        var rng = new Random(seed);
        var values = new double[n];
        var stamps = new long[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = rng.NextDouble();
            stamps[i] = i * 300_000L;
        }

        return SupervisedWindows.Build(values, stamps, window, horizon, false);
    }

    private static SupervisedWindows Windows((double[] Values, long[] Timestamps) s, int window, int horizon, bool calendar = true) =>
        SupervisedWindows.Build(s.Values, s.Timestamps, window, horizon, calendar);

    [Fact]
    public void Fit_SameDataTwice_ModelsAreIdenticalWhateverTheCores()
    {
        var data = Windows(Synthetic(3000, 1), 16, 4);
        // Per-step ensembles are the layout fitted in parallel, so the one whose result could depend on the cores.
        var options = new GbdtOptions { MaxIterations = 30, FeatureFraction = 0.7, Seed = 7, Trees = GbdtTreeLayout.PerStep };
        var a = GradientBoostedTrees.Fit(data, 16, options);
        options.MaxDegreeOfParallelism = 1;
        var b = GradientBoostedTrees.Fit(data, 16, options);

        Assert.Equal(a.NodeCount, b.NodeCount);
        Assert.Equal(a.NodeFeatures.ToArray(), b.NodeFeatures.ToArray());
        Assert.Equal(a.NodeThresholds.ToArray(), b.NodeThresholds.ToArray());
        Assert.Equal(a.NodeValues.ToArray(), b.NodeValues.ToArray());
        Assert.Equal(a.Predict(data), b.Predict(data));
    }

    [Theory]
    [InlineData(GbdtLoss.SquaredError, 1.0)]
    [InlineData(GbdtLoss.SquaredError, 0.6)]
    [InlineData(GbdtLoss.AbsoluteError, 1.0)]
    [InlineData(GbdtLoss.AbsoluteError, 0.6)]
    public void Fit_SharedTrees_BitIdenticalOnOneTwoOrSevenThreads(GbdtLoss loss, double featureFraction)
    {
        // Shared trees split each node's histograms and split search into chunks of features run on several threads;
        // every number must still come out as on one thread. The root's work is above the size that goes parallel.
        var data = Windows(Synthetic(3000, 3), 24, 6);
        Assert.True((long)data.Rows * data.FeatureWidth * (6 + 1) >= HorizonBooster.MinParallelCells, "the test data must be large enough to go parallel");
        GbdtModel Fit(int threads) => GradientBoostedTrees.Fit(data, 24, new GbdtOptions
        {
            MaxIterations = 25,
            FeatureFraction = featureFraction,
            Seed = 11,
            Loss = loss,
            Trees = GbdtTreeLayout.Shared,
            MaxDegreeOfParallelism = threads,
        });

        var one = Fit(1);
        Assert.True(one.NodeCount > 25, $"{one.NodeCount} nodes: the trees must split for the comparison to mean something");
        foreach (var threads in new[] { 2, 7 })
        {
            var many = Fit(threads);
            Assert.Equal(one.NodeFeatures.ToArray(), many.NodeFeatures.ToArray());
            Assert.Equal(one.NodeThresholds.ToArray(), many.NodeThresholds.ToArray());
            Assert.Equal(one.NodeValues.ToArray(), many.NodeValues.ToArray());
            Assert.Equal(one.TreesPerHorizon, many.TreesPerHorizon);
            Assert.Equal(one.Predict(data), many.Predict(data));
        }
    }

    [Fact]
    public void Fit_SharedTreesOnThreads_EqualGainsInTwoChunksGoToTheFirstFeature()
    {
        // A series of period 12 read through 24 lags: lag j and lag j + 12 are the same column, so every split on one has
        // a twin of equal gain on the other, in another chunk of features. One pass over the features keeps the first;
        // the chunks' bests must be compared so that the first still wins.
        var rng = new Random(5);
        var pattern = Enumerable.Range(0, 12).Select(_ => rng.NextDouble() * 100).ToArray();
        var values = Enumerable.Range(0, 2500).Select(i => pattern[i % 12] + (i / 250)).ToArray();
        var stamps = Enumerable.Range(0, 2500).Select(i => i * 300_000L).ToArray();
        var data = SupervisedWindows.Build(values, stamps, 24, 4, false);
        foreach (var threads in new[] { 1, 2, 4 })
        {
            var model = GradientBoostedTrees.Fit(data, 24, new GbdtOptions { MaxIterations = 20, Trees = GbdtTreeLayout.Shared, MaxDegreeOfParallelism = threads });
            var used = model.NodeFeatures.ToArray().Where(f => f >= 0).ToArray();
            Assert.NotEmpty(used);
            Assert.All(used, f => Assert.InRange(f, 0, 11));
        }
    }

    [Fact]
    public void Fit_DifferentSeedWithFeatureFraction_ModelsDiffer()
    {
        var data = Windows(Synthetic(2000, 1), 16, 2);
        var a = GradientBoostedTrees.Fit(data, 16, new GbdtOptions { MaxIterations = 10, FeatureFraction = 0.5, Seed = 1 });
        var b = GradientBoostedTrees.Fit(data, 16, new GbdtOptions { MaxIterations = 10, FeatureFraction = 0.5, Seed = 2 });

        Assert.NotEqual(a.NodeFeatures.ToArray(), b.NodeFeatures.ToArray());
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Fit_SeasonalSeries_BeatsLastValueOnLaterData(GbdtTreeLayout trees)
    {
        var s = Synthetic(4000, 3);
        var train = SupervisedWindows.Build(s.Values, s.Timestamps, 24, 12, true, lastOrigin: 2999);
        var test = SupervisedWindows.Build(s.Values, s.Timestamps, 24, 12, true, firstOrigin: 3000);
        var model = GradientBoostedTrees.Fit(train, 24, new GbdtOptions { Trees = trees });
        var forecast = model.Predict(test);

        double gbdt = 0;
        double naive = 0;
        for (int r = 0; r < test.Rows; r++)
        {
            float last = test.Features[(r * test.FeatureWidth) + 23];
            for (int h = 0; h < 12; h++)
            {
                float y = test.Targets[(r * 12) + h];
                gbdt += Math.Abs(forecast[(r * 12) + h] - y);
                naive += Math.Abs(last - y);
            }
        }

        Assert.True(gbdt < 0.6 * naive, $"GBDT ({trees}) MAE sum {gbdt:F1} should be well below the last-value forecast's {naive:F1}.");
    }

    [Fact]
    public void Fit_StepTarget_LearnsTheThresholdExactly()
    {
        // One informative feature: the next value is 10 when the last one exceeds 0.5, else 0.
        int n = 400;
        var values = new double[n];
        var stamps = new long[n];
        var rng = new Random(5);
        for (int i = 0; i < n; i++)
        {
            stamps[i] = i * 1000L;
            values[i] = (i % 2 == 0) ? rng.NextDouble() : (values[i - 1] > 0.5 ? 10 : 0);
        }

        // Only even origins: window = [x(even)], target = x(odd) = step(x(even)).
        var data = SupervisedWindows.Build(values, stamps, 1, 1, false, stride: 2);
        var model = GradientBoostedTrees.Fit(data, 1, new GbdtOptions
        {
            MaxIterations = 200, LearningRate = 0.5, L2Regularization = 0, MinSamplesLeaf = 5, ValidationFraction = 0, PredictDifference = false,
        });

        Span<float> output = stackalloc float[1];
        model.Predict([0.2f], output);
        Assert.InRange(output[0], -0.01f, 0.01f);
        model.Predict([0.8f], output);
        Assert.InRange(output[0], 9.99f, 10.01f);
    }

    [Fact]
    public void Fit_LeafAndDepthLimits_TreesRespectThem()
    {
        var data = Windows(Synthetic(3000, 2), 12, 1);
        var model = GradientBoostedTrees.Fit(data, 12, new GbdtOptions { MaxIterations = 20, MaxLeaves = 7, MaxDepth = 2, MinSamplesLeaf = 30 });

        var features = model.NodeFeatures;
        var roots = model.TreeRoots;
        Assert.True(model.TreeCount > 0);
        for (int t = 0; t < roots.Length; t++)
        {
            int end = t + 1 < roots.Length ? roots[t + 1] : model.NodeCount;
            int leaves = 0;
            for (int i = roots[t]; i < end; i++)
            {
                leaves += features[i] < 0 ? 1 : 0;
            }

            Assert.InRange(leaves, 2, 4); // depth 2 allows 4 leaves, fewer than MaxLeaves = 7
            Assert.True(Depth(model, roots[t]) <= 2);
        }
    }

    private static int Depth(GbdtModel model, int node) =>
        model.NodeFeatures[node] < 0 ? 0 : 1 + Math.Max(Depth(model, model.NodeLeft[node]), Depth(model, model.NodeRight[node]));

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Fit_EarlyStoppingOnNoise_KeepsFewTrees(GbdtTreeLayout trees)
    {
        var data = Noise(3000, 11, window: 8, horizon: 2);
        var options = new GbdtOptions { MaxIterations = 300, PredictDifference = false, Trees = trees };
        var model = GradientBoostedTrees.Fit(data, 8, options);
        options.ValidationFraction = 0;
        var unstopped = GradientBoostedTrees.Fit(data, 8, options);

        // Pure noise: the validation error stops improving after a few rounds and the trees are cut back; without a
        // validation split every round is kept.
        Assert.All(model.TreesPerHorizon, t => Assert.True(t < 60, $"{t} trees kept on pure noise."));
        Assert.All(unstopped.TreesPerHorizon, t => Assert.Equal(300, t));
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Fit_TreesPerStep_KeepsEachStepsCountAndHoldsNothingOut(GbdtTreeLayout trees)
    {
        var data = Windows(Synthetic(3000, 4), 16, 3, calendar: false);
        var model = GradientBoostedTrees.Fit(data, 16, new GbdtOptions { Trees = trees, TreesPerStep = [2, 5, 9] });

        Assert.Equal(new[] { 2, 5, 9 }, model.TreesPerHorizon);
        Assert.Equal(trees == GbdtTreeLayout.Shared ? 9 : 16, model.TreeCount);
        if (trees == GbdtTreeLayout.Shared)
        {
            // Step 1 keeps 2 trees: its values in trees 3 to 9 are 0 (it left the gradients), step 3's are not all 0.
            var values = model.NodeValues.ToArray();
            int from = model.TreeRoots[2];
            Assert.All(Enumerable.Range(from, model.NodeCount - from), node => Assert.Equal(0f, values[node * 3]));
            Assert.Contains(Enumerable.Range(from, model.NodeCount - from), node => values[(node * 3) + 2] != 0f);
        }

        // Nothing held out: the same count for every step trains exactly as early stopping turned off does.
        var fixedRounds = GradientBoostedTrees.Fit(data, 16, new GbdtOptions { Trees = trees, TreesPerStep = [7, 7, 7] });
        var unstopped = GradientBoostedTrees.Fit(data, 16, new GbdtOptions { Trees = trees, ValidationFraction = 0, MaxIterations = 7 });
        Assert.Equal(unstopped.NodeThresholds.ToArray(), fixedRounds.NodeThresholds.ToArray());
        Assert.Equal(unstopped.NodeValues.ToArray(), fixedRounds.NodeValues.ToArray());
    }

    [Fact]
    public void Fit_TreesPerStep_LearnsFromTheNewestRowsThatEarlyStoppingHoldsOut()
    {
        // Noise about 0.5 for 2,700 steps, then about 5.5 for the last 300: early stopping holds out the latest 10 %
        // of rows, so its trees never see the new level; fixed rounds train on every row.
        var rng = new Random(9);
        var values = new double[3000];
        var stamps = new long[3000];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = rng.NextDouble() + (i >= 2700 ? 5 : 0);
            stamps[i] = i * 300_000L;
        }

        var data = SupervisedWindows.Build(values, stamps, 4, 1, false);
        var options = new GbdtOptions { PredictDifference = false, MaxIterations = 40 };
        var stopped = GradientBoostedTrees.Fit(data, 4, options);
        var everyRow = GradientBoostedTrees.Fit(data, 4, new GbdtOptions { PredictDifference = false, TreesPerStep = [40] });

        Span<float> output = stackalloc float[1];
        stopped.Predict([5.5f, 5.5f, 5.5f, 5.5f], output);
        Assert.True(output[0] < 1.5f, $"The early-stopped trees forecast {output[0]} for a window at the new level; they should not have seen it.");
        everyRow.Predict([5.5f, 5.5f, 5.5f, 5.5f], output);
        Assert.InRange(output[0], 4.5f, 6.5f);
    }

    [Fact]
    public void Fit_TreesPerStepOfAnotherHorizon_ThrowsNamingBoth()
    {
        var data = Windows(Synthetic(1000, 5), 8, 3, calendar: false);

        var error = Assert.Throws<ArgumentException>(() => GradientBoostedTrees.Fit(data, 8, new GbdtOptions { TreesPerStep = [4, 4] }));
        Assert.Contains("2 tree counts for a horizon of 3 steps", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GbdtOptions { TreesPerStep = [3, -1] });
    }

    [Fact]
    public void Fit_ConstantSeries_ForecastsTheLastValue()
    {
        var values = Enumerable.Repeat(42.0, 500).ToArray();
        var stamps = Enumerable.Range(0, 500).Select(i => i * 300_000L).ToArray();
        var data = SupervisedWindows.Build(values, stamps, 10, 3, true);
        var model = GradientBoostedTrees.Fit(data, 10);

        Assert.Equal(0, model.TreeCount);
        var output = new float[3];
        model.Predict(data.Features.AsSpan(0, data.FeatureWidth), output);
        Assert.Equal([42f, 42f, 42f], output);
    }

    [Fact]
    public void Predict_LevelShiftedWindow_ForecastShiftsWithIt()
    {
        var data = Windows(Synthetic(3000, 4), 16, 3, calendar: false);
        var model = GradientBoostedTrees.Fit(data, 16, new GbdtOptions { MaxIterations = 20 });

        // Trees never extrapolate a level they did not see; with PredictDifference the last value is carried, so a
        // window 1000 above anything in training still gets a forecast next to it (last + a bounded learnt change).
        var row = data.Features.AsSpan(0, 16).ToArray();
        for (int i = 0; i < row.Length; i++)
        {
            row[i] += 1000f;
        }

        var output = new float[3];
        model.Predict(row, output);
        Assert.All(output, v => Assert.InRange(v, row[15] - 60, row[15] + 60));
    }

    [Fact]
    public void Fit_NaNInFeatures_ThrowsPredictorExceptionNamingTheRow()
    {
        var s = Synthetic(500, 1);
        s.Values[100] = double.NaN;
        var data = Windows(s, 8, 1, calendar: false);

        var e = Assert.Throws<PredictorException>(() => GradientBoostedTrees.Fit(data, 8));
        Assert.Contains("NaN", e.Message, StringComparison.Ordinal);
        Assert.Contains("fill gaps", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Fit_TooFewRows_ThrowsPredictorExceptionSayingHowMany()
    {
        var data = Windows(Synthetic(40, 1), 8, 2, calendar: false);

        var e = Assert.Throws<PredictorException>(() => GradientBoostedTrees.Fit(data, 8));
        Assert.Contains("at least 40", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_WindowNotMatchingRows_ThrowsArgumentException()
    {
        var data = Windows(Synthetic(500, 1), 8, 2, calendar: true);

        Assert.Throws<ArgumentException>(() => GradientBoostedTrees.Fit(data, 10));
    }

    [Fact]
    public void Options_OutOfRange_Throws()
    {
        var options = new GbdtOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxBins = 256);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.LearningRate = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.ValidationFraction = 0.5);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxLeaves = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.L2Regularization = double.NaN);
    }
}

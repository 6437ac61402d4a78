using Predictor.Engine;
using Predictor.Engine.Onnx;
using Predictor.Engine.Telemetry;
using Predictor.Training.Onnx;
using Predictor.Training.Onnx.Proto;
using Predictor.Training.Pipeline;
using Predictor.Training.Tests.Onnx;

namespace Predictor.Training.Tests.Pipeline;

public sealed class ModelTrainerTests
{
    /// <summary>
    /// A 2-hour "season" keeps W = 24 so these tests run in well under a second each; with so short a window SSA uses
    /// L = W (the default L = W/2 = 12 is meant for daily windows of 288).
    /// </summary>
    private static readonly TrainingOptions Options = new() { Season = TimeSpan.FromHours(2), Horizon = 6, SsaLengthShare = 1.0 };

    [Fact]
    public void Train_CyclicSeries_SelectsAModelBeatingSeasonalNaiveAndCoversTheQuantile()
    {
        var result = ModelTrainer.Train([SyntheticSeries.Cyclic("synthetic/a", 2000, 1)], Options);

        var scores = Assert.Single(result.Series).Scores;
        var selected = scores[0];
        var seasonal = scores.Single(s => s.Model == "seasonal_naive");
        Assert.Equal("selected", selected.Role);
        Assert.Contains(selected.Model, new[] { "ssa", "ridge", "combination" });
        Assert.True(selected.Test.Mase <= 0.85 * seasonal.Test.Mase, $"{selected.Model} MASE {selected.Test.Mase} vs seasonal naive {seasonal.Test.Mase}");
        Assert.InRange(selected.Test.Coverage, 0.8, 1.0);
        Assert.Contains(scores, s => s.Model == "decayed_p90" && s.Role == "baseline");
        Assert.Contains(scores, s => s.Model == "naive" && s.Role == "baseline");
    }

    [Fact]
    public void Train_LevelShiftEarlyInTheCalibrationPart_SelectsTheKindThatWinsAfterTheShift()
    {
        // n = 2000: training part [0, 1400), calibration [1400, 1700), test [1700, 2000). The level jumps by +240 at
        // 1410 (as nab rds_cc0c53's does in its calibration part): window models (W = 96, 8 h) are far off while their
        // window straddles the jump (the first third of the calibration origins), then beat naive again. Unweighted,
        // that transition makes naive look best; weighted toward recent origins, the window model wins.
        var clean = SyntheticSeries.Cyclic("synthetic/shift", 2000, 7);
        double[] shifted = [.. clean.Values.Select((v, i) => i >= 1410 ? v + 240 : v)];
        var series = new RecordedSeries(clean.Info, [.. clean.Timestamps], shifted);
        var old = Options with { Window = 96, SelectionHalfLife = Timeout.InfiniteTimeSpan, SelectionStandardErrors = 0, Kinds = ["ssa", "ridge", "naive"] };

        var unweighted = ModelTrainer.Train([series], old);
        var weighted = ModelTrainer.Train([series], old with { SelectionHalfLife = TimeSpan.FromHours(6), SelectionStandardErrors = 1 });

        var scores = Assert.Single(weighted.Series).Scores;
        Assert.NotEqual("naive", scores[0].Model);
        Assert.True(scores[0].Test.MaseAtHorizon < scores.Single(s => s.Model == "naive").Test.MaseAtHorizon);
        var before = Assert.Single(unweighted.Series).Scores;
        Assert.True(before[0].Model == "naive", string.Join("; ", before.Select(m => $"{m.Model} {m.ValidationMase:F3} test@H {m.Test.MaseAtHorizon:F3}")));
        Assert.Contains("\"half_life_hours\":6", weighted.Card.Extra["predictor.selection"], StringComparison.Ordinal);
    }

    [Fact]
    public void Train_RefitBeforeTest_TheTestPartIsForecastByAFitThatSawTheCalibrationPartAndNothingElseChanges()
    {
        // n = 2000: training [0, 1400), calibration [1400, 1700), test [1700, 2000). A cycle of 24 steps (the season)
        // until 1400, then a cycle of 17 steps: a linear map fitted on the first cycle alone has never seen the second,
        // one fitted on training + calibration has seen both (a long enough window predicts any sum of sinusoids).
        var clean = SyntheticSeries.Cyclic("synthetic/regime", 2000, 11);
        var rng = new Random(5);
        double[] values = [.. Enumerable.Range(0, 2000).Select(t =>
            50 + (20 * Math.Sin(2 * Math.PI * t / (t < 1400 ? 24.0 : 17.0))) + (rng.NextDouble() * 2) - 1)];
        var series = new RecordedSeries(clean.Info, [.. clean.Timestamps], values);
        var options = Options with { Kinds = ["ridge", "naive", "seasonal_naive"] };

        var refit = Assert.Single(ModelTrainer.Train([series], options).Series).Scores;
        var trainOnly = Assert.Single(ModelTrainer.Train([series], options with { RefitBeforeTest = false }).Series).Scores;

        string Table(IEnumerable<ModelScore> scores) => string.Join("; ", scores.Select(s => $"{s.Model} val {s.ValidationMase:F3} test {s.Test.Mase:F3}"));
        // Selection and every calibration score read the training-part fits either way.
        Assert.Equal(trainOnly.Select(s => (s.Model, s.Role, s.ValidationMase)), refit.Select(s => (s.Model, s.Role, s.ValidationMase)));
        // Baselines fit nothing: their test part is the same.
        foreach (var name in new[] { "naive", "seasonal_naive" })
        {
            Assert.Equal(trainOnly.Single(s => s.Model == name).Test, refit.Single(s => s.Model == name).Test);
        }

        // The refitted ridge has seen the new cycle; the training-part fit has not.
        double before = trainOnly.Single(s => s.Model == "ridge").Test.Mase, after = refit.Single(s => s.Model == "ridge").Test.Mase;
        Assert.True(after < 0.5 * before, $"refit {Table(refit)} | training part only {Table(trainOnly)}");
    }

    [Fact]
    public void Train_SameDataTwice_WritesIdenticalBytes()
    {
        RecordedSeries[] data = [SyntheticSeries.Cyclic("synthetic/a", 1500, 2), SyntheticSeries.Cyclic("synthetic/b", 1500, 3, level: 200, amplitude: 60)];

        byte[] first = ModelTrainer.Train(data, Options).Model;
        byte[] second = ModelTrainer.Train(data, Options).Model;

        Assert.Equal(first, second);
    }

    [Fact]
    public void Train_PerStepSelectionWhereNoStepDeparts_WritesTheWholeHorizonModelsBytes()
    {
        // On a clean 2-hour cycle ssa beats naive at every step by far: no step departs, so the model is ssa's, byte for byte.
        var data = SyntheticSeries.Cyclic("synthetic/a", 1500, 4);
        var options = Options with { Kinds = ["ssa", "naive"] };

        var whole = ModelTrainer.Train([data], options);
        var perStep = ModelTrainer.Train([data], options with { SelectPerStep = true });

        Assert.Equal("ssa", perStep.SelectedKind);
        Assert.Equal(whole.Model, perStep.Model);
    }

    /// <summary>
    /// A 2-hour cycle of amplitude 20 plus a persistent AR(1) disturbance (φ = 0.9, marginal std 5): one step ahead the
    /// last value is best (the cycle moves little in 5 minutes, the disturbance persists), further out the value one
    /// cycle ago is (the cycle dominates what changes). Steps 2–6 may go either way; step 1 and step 6 may not.
    /// </summary>
    private static RecordedSeries CycleWithPersistentNoise(int n, int seed)
    {
        var rng = new Random(seed);
        var ts = new long[n];
        var vs = new double[n];
        double ar = 0;
        for (int t = 0; t < n; t++)
        {
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            ar = (0.9 * ar) + (5 * Math.Sqrt(1 - 0.81) * gaussian);
            ts[t] = SyntheticSeries.Start + (t * 300_000L);
            vs[t] = 100 + (20 * Math.Sin(2 * Math.PI * t / 24)) + ar;
        }

        return new RecordedSeries(new SeriesInfo("synthetic/ar", "percent", TimeSpan.FromSeconds(300)), ts, vs);
    }

    [Fact]
    public void Train_PerStepSelectionNaiveWinsStepOneSeasonalNaiveTheLast_ShipsACompositeTheEngineRunsWithThoseColumns()
    {
        var data = CycleWithPersistentNoise(3000, 9);
        var options = Options with { Kinds = ["naive", "seasonal_naive"], SelectPerStep = true };

        var result = ModelTrainer.Train([data], options);

        Assert.Equal("per_step", result.SelectedKind);
        string[] steps = result.Card.Extra["predictor.step_kinds"].Split(',');
        Assert.Equal(6, steps.Length);
        Assert.Equal("naive", steps[0]);
        Assert.Equal("seasonal_naive", steps[5]);
        Assert.Contains("\"per_step\":[\"naive\"", result.Card.Extra["predictor.selection"], StringComparison.Ordinal);
        Assert.Equal(result.Model, ModelTrainer.Train([data], options).Model);
        OnnxChecker.AssertAccepted(result.Model, "per_step");

        // The selected row's test scores are the composite's: step 1 (naive's) and step 6 (seasonal naive's) come
        // from the member that serves them, so its MASE at step 6 equals seasonal naive's.
        var scores = Assert.Single(result.Series).Scores;
        Assert.Equal(("per_step", "selected"), (scores[0].Model, scores[0].Role));
        Assert.Equal(scores.Single(s => s.Model == "seasonal_naive").Test.MaseAtHorizon, scores[0].Test.MaseAtHorizon, 12);

        // On ONNX Runtime through the engine: column k is the last value or the value one cycle (24 steps) ago.
        string path = Path.Combine(Path.GetTempPath(), $"predictor-per-step-{Guid.NewGuid():N}.onnx");
        ForecastModels.WriteFile(path, result.Model);
        try
        {
            using var engine = Predictor.Engine.Forecasting.ForecasterLoader.OpenOnnx(path);
            int w = engine.Shape.Window;
            Assert.Equal(24, w);
            float[] window = [.. Enumerable.Range(0, w).Select(k => (float)data.Values[2000 + k])];
            var forecast = new float[6];
            var upper = new float[6];
            engine.Forecast(window, [], 1, forecast, upper);
            for (int k = 0; k < 6; k++)
            {
                float expected = steps[k] == "naive" ? window[w - 1] : window[w - 1 + k + 1 - 24];
                Assert.Equal(expected, forecast[k]);
                Assert.True(upper[k] > forecast[k]);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("ssa")]
    [InlineData("ridge")]
    [InlineData("combination")]
    [InlineData("gbdt")]
    public void Train_OneKind_WritesAContractModelTheCheckerAcceptsWhoseGraphMatchesTheBacktestForecaster(string kind)
    {
        var data = SyntheticSeries.Cyclic("synthetic/a", 1500, 4);
        var result = ModelTrainer.Train([data], Options with { Kinds = [kind] });
        var model = ModelProto.Parser.ParseFrom(result.Model);
        var card = ModelCard.FromMetadata(model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)), "trained");

        OnnxChecker.AssertAccepted(result.Model, kind);
        Assert.Equal(card.Kind, result.SelectedKind);
        Assert.Equal(["synthetic/a"], card.Series);
        Assert.Equal(64, card.TrainingDataSha256!.Length);
        Assert.Contains("\"selected\"", card.MetricsJson, StringComparison.Ordinal);
        Assert.True(card.Extra.ContainsKey("predictor.upper_offsets"));

        // The graph, run by the reference evaluator, forecasts what the C# model forecasts.
        Assert.Equal(kind, card.Kind);
        if (kind == "combination")
        {
            Assert.Equal("ssa,ridge,seasonal_naive", card.Extra["predictor.members"]);
        }

        if (card.Kind is "ssa" or "ridge" or "combination")
        {
            AssertGraphMatchesCSharp(model, card, data);
        }
    }

    [Theory]
    [InlineData(true, 24, 5)]
    [InlineData(false, 24, 0)]
    public void Train_Gbdt_ReadsSeasonMovesFromAWindowOfOneSeasonUnlessTurnedOff(bool moves, int window, int expectedMoves)
    {
        // Options: a 2-hour season of 24 five-minute steps, H = 6: with moves the trees read H − 1 = 5 of them.
        var data = SyntheticSeries.Cyclic("synthetic/a", 1500, 4);

        var result = ModelTrainer.Train([data], Options with { Kinds = ["gbdt"], GbdtSeasonMoves = moves });

        var model = ModelProto.Parser.ParseFrom(result.Model);
        var card = ModelCard.FromMetadata(model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)), "trained");
        Assert.Equal(window, card.Window);
        Assert.Equal(expectedMoves.ToString(System.Globalization.CultureInfo.InvariantCulture), card.Extra[Predictor.Training.Trees.GbdtOnnx.SeasonMovesKey]);
        Assert.Equal("24", card.Extra[Predictor.Training.Trees.GbdtOnnx.LagsKey]);
        OnnxChecker.AssertAccepted(result.Model, "gbdt");
    }

    [Fact]
    public void Train_GbdtLearningRate_ALargerRateStopsInFewerTrees()
    {
        var data = SyntheticSeries.Cyclic("synthetic/a", 1500, 4);
        int Trees(double rate)
        {
            var result = ModelTrainer.Train([data], Options with { Kinds = ["gbdt"], GbdtLearningRate = rate });
            var model = ModelProto.Parser.ParseFrom(result.Model);
            return int.Parse(model.MetadataProps.Single(p => p.Key == Predictor.Training.Trees.GbdtOnnx.TreesKey).Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        int slow = Trees(0.05);
        int fast = Trees(0.5);

        Assert.True(fast < slow, $"learning rate 0.5 kept {fast} trees, 0.05 kept {slow}.");
    }

    [Fact]
    public void Train_GbdtMaxTrees_CapsTheTreesOfTheFileAndTheCardSaysHowMany()
    {
        var data = SyntheticSeries.Cyclic("synthetic/a", 1500, 4);
        int Trees(int cap, out int inFile)
        {
            var result = ModelTrainer.Train([data], Options with { Kinds = ["gbdt"], GbdtLearningRate = 0.05, GbdtMaxTrees = cap });
            var model = ModelProto.Parser.ParseFrom(result.Model);
            var ensemble = model.Graph.Node.Single(n => n.OpType == "TreeEnsembleRegressor");
            inFile = ensemble.Attribute.Single(a => a.Name == "nodes_treeids").Ints.Distinct().Count();
            return int.Parse(model.MetadataProps.Single(p => p.Key == Predictor.Training.Trees.GbdtOnnx.TreesKey).Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        int free = Trees(100, out _);
        int capped = Trees(7, out int cappedInFile);

        // At a learning rate of 0.05 this series wants more than 7 rounds; with the cap the file holds exactly 7.
        Assert.True(free > 7, $"without a cap the series kept only {free} trees; the test needs more than 7.");
        Assert.Equal(7, capped);
        Assert.Equal(7, cappedInFile);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(31)]
    public void Train_GbdtMaxLeaves_NoTreeOfTheFileHasMoreLeaves(int maxLeaves)
    {
        var data = SyntheticSeries.Cyclic("synthetic/a", 1500, 4);

        var result = ModelTrainer.Train([data], Options with { Kinds = ["gbdt"], GbdtMaxLeaves = maxLeaves });

        var ensemble = TreeEnsemble(result.Model);
        var trees = ensemble.Attribute.Single(a => a.Name == "nodes_treeids").Ints;
        var modes = NodeModes(ensemble);
        var leaves = Enumerable.Range(0, modes.Length).Where(i => modes[i] == "LEAF").GroupBy(i => trees[i]).Select(g => g.Count()).ToArray();
        Assert.NotEmpty(leaves);
        Assert.InRange(leaves.Max(), 2, maxLeaves);
        if (maxLeaves == 4)
        {
            // The limit binds: best-first growth fills the largest tree to it on a series this rich.
            Assert.Equal(4, leaves.Max());
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Train_GbdtMaxDepth_NoLeafOfTheExportedTreesLiesDeeper(int maxDepth)
    {
        var data = SyntheticSeries.Cyclic("synthetic/a", 1500, 4);

        var result = ModelTrainer.Train([data], Options with { Kinds = ["gbdt"], GbdtMaxDepth = maxDepth });

        // Walk every tree of the file from its root (node 0) through nodes_truenodeids / nodes_falsenodeids.
        var ensemble = TreeEnsemble(result.Model);
        long[] Ints(string name) => [.. ensemble.Attribute.Single(a => a.Name == name).Ints];
        var trees = Ints("nodes_treeids");
        var ids = Ints("nodes_nodeids");
        var yes = Ints("nodes_truenodeids");
        var no = Ints("nodes_falsenodeids");
        var modes = NodeModes(ensemble);
        var at = Enumerable.Range(0, ids.Length).ToDictionary(i => (trees[i], ids[i]));
        int deepest = 0;
        foreach (long tree in trees.Distinct())
        {
            var stack = new Stack<(long Node, int Depth)>([(0, 0)]);
            while (stack.TryPop(out var n))
            {
                int i = at[(tree, n.Node)];
                if (modes[i] == "LEAF")
                {
                    deepest = Math.Max(deepest, n.Depth);
                    continue;
                }

                stack.Push((yes[i], n.Depth + 1));
                stack.Push((no[i], n.Depth + 1));
            }
        }

        if (maxDepth > 0)
        {
            Assert.InRange(deepest, 1, maxDepth);
        }
        else
        {
            Assert.True(deepest > 3, $"Without a limit the 31-leaf trees reach depth {deepest} only.");
        }
    }

    [Fact]
    public void Train_SeriesTooShortForWindowAndHorizon_ThrowsWithTheNeededLength()
    {
        var ex = Assert.Throws<PredictorException>(() => ModelTrainer.Train([SyntheticSeries.Cyclic("synthetic/short", 60, 1)], Options));

        Assert.Contains("synthetic/short", ex.Message, StringComparison.Ordinal);
        Assert.Contains("at least", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_ConstantSeries_ThrowsSayingSo()
    {
        var flat = new RecordedSeries(new SeriesInfo("synthetic/flat", "percent", TimeSpan.FromSeconds(300)),
            [.. Enumerable.Range(0, 1500).Select(i => SyntheticSeries.Start + (i * 300_000L))], [.. Enumerable.Repeat(3.0, 1500)]);

        var ex = Assert.Throws<PredictorException>(() => ModelTrainer.Train([flat], Options));
        Assert.Contains("constant", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_NaNAndGaps_AreFilledAndReported()
    {
        var s = SyntheticSeries.Cyclic("synthetic/gappy", 1500, 5);
        s.Values[100] = double.NaN;
        s.Values[700] = double.PositiveInfinity;
        var gappy = new RecordedSeries(s.Info, [.. s.Timestamps.Where((_, i) => i is < 300 or > 310)], [.. s.Values.Where((_, i) => i is < 300 or > 310)]);

        var result = ModelTrainer.Train([gappy], Options);

        var series = Assert.Single(result.Series);
        Assert.Equal(1500, series.Points);
        Assert.Equal(13, series.Filled); // 11 missing timestamps (300..310) + NaN + ∞
    }

    [Fact]
    public void Train_SeriesOfDifferentSteps_Throws()
    {
        var a = SyntheticSeries.Cyclic("synthetic/a", 1500, 1);
        var b = new RecordedSeries(new SeriesInfo("synthetic/b", "percent", TimeSpan.FromSeconds(60)), a.Timestamps, a.Values);

        Assert.Throws<PredictorException>(() => ModelTrainer.Train([a, b], Options));
    }

    [Fact]
    public void Train_UnknownKind_ThrowsListingTheKnownOnes()
    {
        var ex = Assert.Throws<PredictorException>(() => ModelTrainer.Train([SyntheticSeries.Cyclic("synthetic/a", 1500, 1)], Options with { Kinds = ["lstm"] }));
        Assert.Contains("ssa, ridge", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>The one TreeEnsembleRegressor node of a model file.</summary>
    private static NodeProto TreeEnsemble(byte[] model) =>
        ModelProto.Parser.ParseFrom(model).Graph.Node.Single(n => n.OpType == "TreeEnsembleRegressor");

    /// <summary>The node's nodes_modes ("BRANCH_LEQ", "LEAF", ...), one per tree node.</summary>
    private static string[] NodeModes(NodeProto ensemble) =>
        [.. ensemble.Attribute.Single(a => a.Name == "nodes_modes").Strings.Select(m => m.ToStringUtf8())];

    private static void AssertGraphMatchesCSharp(ModelProto model, ModelCard card, RecordedSeries data)
    {
        int w = card.Window, h = card.Horizon;
        var window = new float[w];
        for (int k = 0; k < w; k++)
        {
            window[k] = (float)data.Values[data.Count - w + k];
        }

        var inputs = new Dictionary<string, OnnxReferenceEvaluator.Tensor> { [ModelContract.WindowInput] = new(window, [1, w]) };
        long origin = data.Timestamps[^1];
        if (model.Graph.Input.Any(i => i.Name == ModelContract.CalendarInput))
        {
            var calendar = new float[Predictor.Engine.Forecasting.CalendarFeatures.Width];
            Predictor.Engine.Forecasting.CalendarFeatures.Compute(origin, calendar);
            inputs[ModelContract.CalendarInput] = new(calendar, [1, calendar.Length]);
        }

        var outputs = OnnxReferenceEvaluator.Run(model, inputs);
        var forecaster = Predictor.Training.Pipeline.ModelReader.Read(model.ToByteArrayForTests(), "trained").Forecaster;
        var expected = new double[h];
        forecaster.Forecast([.. window.Select(v => (double)v)], origin, expected);
        for (int j = 0; j < h; j++)
        {
            Assert.Equal(expected[j], outputs[ModelContract.ForecastOutput].Data[j], 1e-3 * Math.Max(1, Math.Abs(expected[j])));
        }
    }
}

internal static class ModelProtoTestExtensions
{
    public static byte[] ToByteArrayForTests(this ModelProto model) => Google.Protobuf.MessageExtensions.ToByteArray(model);
}

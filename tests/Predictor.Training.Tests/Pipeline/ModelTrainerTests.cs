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
    public void Train_SameDataTwice_WritesIdenticalBytes()
    {
        RecordedSeries[] data = [SyntheticSeries.Cyclic("synthetic/a", 1500, 2), SyntheticSeries.Cyclic("synthetic/b", 1500, 3, level: 200, amplitude: 60)];

        byte[] first = ModelTrainer.Train(data, Options).Model;
        byte[] second = ModelTrainer.Train(data, Options).Model;

        Assert.Equal(first, second);
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

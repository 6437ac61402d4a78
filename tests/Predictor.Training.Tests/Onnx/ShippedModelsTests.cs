using Predictor.Engine.Onnx;
using Predictor.TestSupport;
using Predictor.Training.Onnx;
using Predictor.Training.Onnx.Proto;

namespace Predictor.Training.Tests.Onnx;

/// <summary>Every model shipped in models/ honours the contract, carries a complete card, and passes the ONNX checker.</summary>
public sealed class ShippedModelsTests
{
    public static TheoryData<string> Models =>
        [.. Directory.EnumerateFiles(RepoPaths.InRepo("models"), "*.onnx").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> TrainedModels =>
        [.. Directory.EnumerateFiles(RepoPaths.InRepo("models"), "*.json").Select(f => Path.GetFileName(Path.ChangeExtension(f, ".onnx"))).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(TrainedModels))]
    public void TrainedModel_RunInOnnxRuntime_MatchesTheCSharpForecasterAndOffsets(string file)
    {
        string path = RepoPaths.InRepo("models", file);
        var (card, offsets) = Predictor.Training.Pipeline.ModelReader.ReadCard(File.ReadAllBytes(path), file);
        using var engine = Predictor.Engine.Forecasting.ForecasterLoader.OpenOnnx(path);
        int w = engine.Shape.Window, h = engine.Shape.Horizon;
        Assert.Equal(card.Window, w);
        var rng = new Random(1);
        var window = new float[w];
        for (int k = 0; k < w; k++)
        {
            window[k] = (float)(30 + (20 * Math.Sin(k * 2 * Math.PI / 288)) + (5 * rng.NextDouble()));
        }

        const long origin = 1_400_000_000_000;
        var calendar = new float[engine.Shape.CalendarWidth];
        if (calendar.Length > 0)
        {
            Predictor.Engine.Forecasting.CalendarFeatures.Compute(origin, calendar);
        }

        var forecast = new float[h];
        var upper = new float[h];
        engine.Forecast(window, calendar, 1, forecast, upper);
        for (int j = 0; j < h; j++)
        {
            Assert.True(float.IsFinite(forecast[j]), $"{file} step {j + 1}: {forecast[j]}");
            Assert.Equal(forecast[j] + offsets[j], upper[j], 1e-3);
        }

        // Tree ensembles are compared with their C# model by the Trees/ tests (GbdtOnnxRuntimeTests); every other
        // kind is read back here into its C# forecaster, which must agree with ONNX Runtime.
        if (card.Kind != Predictor.Training.Trees.GbdtOnnx.Kind)
        {
            var reference = Predictor.Training.Pipeline.ModelReader.Read(File.ReadAllBytes(path), file);
            var expected = new double[h];
            reference.Forecaster.Forecast([.. window.Select(v => (double)v)], origin, expected);
            for (int j = 0; j < h; j++)
            {
                Assert.True(Math.Abs(forecast[j] - expected[j]) <= 1e-4 * Math.Max(1, Math.Abs(expected[j])), $"{file} step {j + 1}: ORT {forecast[j]} vs C# {expected[j]}");
            }
        }
    }

    [Fact]
    public void ModelsFolder_HoldsTheNaiveModelOfTheReadme()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(RepoPaths.InRepo("models", "naive.onnx")));
        var card = ModelCard.FromMetadata(model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)), "naive.onnx");

        Assert.Equal(("naive", 48, 12), (card.Kind, card.Window, card.Horizon));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ShippedModel_HasContractAndCardAndPassesTheChecker(string file)
    {
        byte[] bytes = File.ReadAllBytes(RepoPaths.InRepo("models", file));
        var model = ModelProto.Parser.ParseFrom(bytes);
        var card = ModelCard.FromMetadata(model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)), file);

        Assert.Equal(ModelContract.WindowInput, model.Graph.Input[0].Name);
        Assert.Equal(card.Window, model.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Equal([ModelContract.ForecastOutput, ModelContract.UpperOutput], model.Graph.Output.Select(o => o.Name));
        if (File.Exists(RepoPaths.InRepo("models", Path.ChangeExtension(file, ".json"))))
        {
            // A trained model: its card names the data and carries the backtest table.
            Assert.NotEmpty(card.Series);
            Assert.NotNull(card.MetricsJson);
            Assert.NotNull(card.TrainingDataSha256);
        }

        OnnxChecker.AssertAccepted(bytes, file);
    }
}

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

using Predictor.Engine;
using Predictor.Training.Onnx;

namespace Predictor.Training.Tests.Onnx;

public sealed class GraphBuilderTests
{
    [Fact]
    public void AddNode_OutputNameAlreadyDefined_Throws()
    {
        var g = new GraphBuilder("g");
        g.AddInput("x", null, 2);

        Assert.Throws<InvalidOperationException>(() => g.AddNode("Identity", ["x"], ["x"]));
    }

    [Fact]
    public void AddNode_DomainNotImported_ThrowsSayingToCallUseOpset()
    {
        var g = new GraphBuilder("g");
        g.AddInput("x", null, 2);

        var ex = Assert.Throws<InvalidOperationException>(() => g.AddNode("TreeEnsembleRegressor", ["x"], ["y"], GraphBuilder.MlDomain));
        Assert.Contains("UseOpset", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MlOpsetDeclared_ImportsBothDomainsSortedWithTheHighestVersion()
    {
        var g = new GraphBuilder("g").UseOpset(GraphBuilder.MlDomain, 1).UseOpset(GraphBuilder.MlDomain, 3);
        g.AddInput("x", null, 2);
        g.AddOutput("y", null, 2);
        g.AddNode("Identity", ["x"], ["y"]);

        var model = g.Build([]);

        Assert.Equal([("", 17L), ("ai.onnx.ml", 3L)], model.OpsetImport.Select(o => (o.Domain, o.Version)));
    }

    [Fact]
    public void Build_OutputProducedByNothing_Throws()
    {
        var g = new GraphBuilder("g");
        g.AddInput("x", null, 2);
        g.AddOutput("y", null, 2);

        Assert.Throws<InvalidOperationException>(() => g.Build([]));
    }

    [Fact]
    public void Build_DuplicateMetadataKey_Throws()
    {
        var g = new GraphBuilder("g");
        g.AddInput("x", null, 2);

        Assert.Throws<ArgumentException>(() => g.Build([new("k", "1"), new("k", "2")]));
    }

    [Fact]
    public void AddInitializer_ShapeDisagreesWithValueCount_Throws()
    {
        var g = new GraphBuilder("g");

        Assert.Throws<ArgumentException>(() => g.AddInitializer("w", new float[5], 2, 3));
    }

    [Fact]
    public void ModelCard_QuantileOutsideUnitInterval_ThrowsNamingTheField()
    {
        var card = SampleModels.Card("naive") with { Quantile = 1.0 };

        var ex = Assert.Throws<PredictorException>(card.Validate);
        Assert.Contains("quantile", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelCard_FromMetadataMissingRequiredKey_ThrowsNamingTheKey()
    {
        var metadata = SampleModels.Card("naive").ToMetadata().Where(kv => kv.Key != "predictor.horizon");

        var ex = Assert.Throws<PredictorException>(() => ModelCard.FromMetadata(metadata, "m.onnx"));
        Assert.Contains("predictor.horizon", ex.Message, StringComparison.Ordinal);
        Assert.Contains("m.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelCard_ExtraKeyWithoutPrefix_Throws()
    {
        var card = SampleModels.Card("naive") with { Extra = new Dictionary<string, string> { ["season"] = "24" } };

        Assert.Throws<PredictorException>(card.Validate);
    }
}

using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Engine.Tests.Onnx;

namespace Predictor.Engine.Tests.Forecasting;

public sealed class ForecasterLoaderTests : IDisposable
{
    private readonly TestModels _models = new();

    public void Dispose() => _models.Dispose();

    [Fact]
    public void LoadOrFallback_ModelThatFits_IsUsed()
    {
        string path = _models.Write("naive.onnx", TestModels.Naive(48, 12));

        var result = ForecasterLoader.LoadOrFallback(path);
        using var forecaster = result.Forecaster;

        Assert.False(result.IsFallback);
        Assert.Null(result.FallbackReason);
        Assert.IsNotType<NaiveForecaster>(forecaster);
    }

    [Fact]
    public void LoadOrFallback_MissingFile_FallsBackToNaiveWithTheReason()
    {
        string path = Path.Combine(_models.Directory, "absent.onnx");

        var result = ForecasterLoader.LoadOrFallback(path, fallback: new NaiveForecasterOptions { Window = 24, Horizon = 6 });

        Assert.True(result.IsFallback);
        Assert.IsType<NaiveForecaster>(result.Forecaster);
        Assert.Equal($"model file '{path}' does not exist; using the naive forecaster.", result.FallbackReason);
        Assert.Equal(24, result.Forecaster.Shape.Window);
        Assert.Equal(6, result.Forecaster.Shape.Horizon);
    }

    [Fact]
    public void LoadOrFallback_RefusedModel_FallsBackWithEveryProblem()
    {
        string path = _models.Write("renamed.onnx", TestModels.Rename(TestModels.Naive(48, 12), "forecast", "f0recast"));

        var result = ForecasterLoader.LoadOrFallback(path);

        Assert.True(result.IsFallback);
        Assert.Contains("output 'forecast' (float32 [N,H]) is missing", result.FallbackReason, StringComparison.Ordinal);
        Assert.EndsWith("Using the naive forecaster.", result.FallbackReason, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadOrFallback_CorruptFile_FallsBackWithOrtsMessage()
    {
        string path = _models.Write("corrupt.onnx", "this is not a model"u8.ToArray());

        var result = ForecasterLoader.LoadOrFallback(path);

        Assert.True(result.IsFallback);
        Assert.Contains("Protobuf parsing failed", result.FallbackReason, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadOrFallback_NoPath_FallsBack()
    {
        var result = ForecasterLoader.LoadOrFallback(null);

        Assert.True(result.IsFallback);
        Assert.Equal("no model file configured; using the naive forecaster.", result.FallbackReason);
    }

    [Fact]
    public void OpenOnnx_ModelContractException_IsAPredictorException()
    {
        string path = _models.Write("renamed.onnx", TestModels.Rename(TestModels.Naive(48, 12), "forecast", "f0recast"));

        Assert.IsAssignableFrom<PredictorException>(Assert.Throws<ModelContractException>(() => ForecasterLoader.OpenOnnx(path)));
    }
}

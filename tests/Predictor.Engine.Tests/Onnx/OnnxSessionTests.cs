using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Engine.Onnx.Native;
using Predictor.TestSupport;
using Predictor.Training.Onnx;

namespace Predictor.Engine.Tests.Onnx;

public sealed class OnnxSessionTests : IDisposable
{
    private readonly TestModels _models = new();

    public void Dispose() => _models.Dispose();

    [Fact]
    public void Open_LinearModelWithCalendar_ReportsNamesTypesShapesAndCard()
    {
        byte[] bytes = TestModels.Linear(48, 12, withCalendar: true, out _, out _);
        string path = _models.Write("linear.onnx", bytes);

        using var session = OnnxSession.Open(path, new OnnxSessionOptions());
        var d = session.Description;

        Assert.Equal(Path.GetFullPath(path), session.Source);
        Assert.Equal(["window", "calendar"], d.Inputs.Select(i => i.Name));
        Assert.Equal(["forecast", "upper"], d.Outputs.Select(o => o.Name));
        Assert.All(d.Inputs.Concat(d.Outputs), t => Assert.Equal(TensorElementType.Float, t.ElementType));
        Assert.Equal([-1L, 48L], d.Inputs[0].Shape);
        Assert.Equal([-1L, (long)CalendarFeatures.Width], d.Inputs[1].Shape);
        Assert.Equal([-1L, 12L], d.Outputs[0].Shape);
        Assert.Equal([-1L, 12L], d.Outputs[1].Shape);
        Assert.Equal("1.30.0", d.RuntimeVersion);

        // The card round-trips: every entry the writer put in metadata_props comes back, value for value.
        var written = TestModels.Card(ForecastModels.LinearKind, 48, 12).ToMetadata();
        Assert.Equal(written.OrderBy(e => e.Key, StringComparer.Ordinal), d.CustomMetadata.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Open_RandomBytes_ThrowsOnnxRuntimeExceptionWithOrtsMessage()
    {
        var random = new Random(3);
        var bytes = new byte[4096];
        random.NextBytes(bytes);
        string path = _models.Write("random.onnx", bytes);

        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Open(path, new OnnxSessionOptions()));

        Assert.Equal(OnnxRuntimeErrorCode.InvalidProtobuf, ex.ErrorCode);
        Assert.Contains("Protobuf parsing failed", ex.RuntimeMessage, StringComparison.Ordinal);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<PredictorException>(ex);
    }

    [Fact]
    public void Open_TruncatedModel_ThrowsOnnxRuntimeExceptionWithOrtsMessage()
    {
        byte[] bytes = TestModels.Linear(48, 12, withCalendar: false, out _, out _);
        string path = _models.Write("truncated.onnx", bytes[..(bytes.Length / 2)]);

        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Open(path, new OnnxSessionOptions()));

        Assert.NotEqual(OnnxRuntimeErrorCode.Ok, ex.ErrorCode);
        Assert.False(string.IsNullOrWhiteSpace(ex.RuntimeMessage));
        Assert.Contains(ex.RuntimeMessage.ReplaceLineEndings(" ").Trim(), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MissingFile_ThrowsPredictorExceptionNamingTheFileAndFix()
    {
        string path = Path.Combine(_models.Directory, "absent.onnx");

        var ex = Assert.Throws<PredictorException>(() => OnnxSession.Open(path, new OnnxSessionOptions()));

        Assert.Contains($"'{Path.GetFullPath(path)}' does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains("predictor train", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_TensorOfWrongShape_ThrowsOnnxRuntimeExceptionNamingTheInput()
    {
        using var session = OnnxSession.FromBytes(TestModels.Naive(48, 12), new OnnxSessionOptions(), "naive");
        using var window = FloatTensor.Allocate([1, 47]);
        using var forecast = FloatTensor.Allocate([1, 12]);
        using var upper = FloatTensor.Allocate([1, 12]);
        using var binding = session.Bind([("window", window)], [("forecast", forecast), ("upper", upper)]);

        var ex = Assert.Throws<OnnxRuntimeException>(binding.Run);

        Assert.Equal(OnnxRuntimeErrorCode.InvalidArgument, ex.ErrorCode);
        Assert.Contains("window", ex.RuntimeMessage, StringComparison.Ordinal);
        Assert.Contains("window[1,47]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PreAllocatedTensors_WritesOutputsInPlaceAndAllocatesNothing()
    {
        using var session = OnnxSession.FromBytes(TestModels.Naive(48, 12), new OnnxSessionOptions(), "naive");
        using var window = FloatTensor.Allocate([2, 48]);
        using var forecast = FloatTensor.Allocate([2, 12]);
        using var upper = FloatTensor.Allocate([2, 12]);
        using var binding = session.Bind([("window", window)], [("forecast", forecast), ("upper", upper)]);
        for (int i = 0; i < 96; i++)
        {
            window.Data[i] = i;
        }

        for (int i = 0; i < 10; i++)
        {
            binding.Run();
        }

        Allocations.AssertSteadyStateAllocatesNothing(1000, binding.Run);
        Assert.Equal(47f, forecast.Data[0]);
        Assert.Equal(95f, forecast.Data[12]);
        Assert.Equal(95f + (0.25f * 12), upper.Data[23]);
    }

    [Fact]
    public void Options_InvalidValues_AreRefusedWhenSet()
    {
        var options = new OnnxSessionOptions();

        Assert.Equal(1, options.IntraOpThreads);
        Assert.Equal(GraphOptimization.All, options.Optimization);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.IntraOpThreads = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.Optimization = (GraphOptimization)5);
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxForecasterOptions().MaxBatch = 0);
    }
}

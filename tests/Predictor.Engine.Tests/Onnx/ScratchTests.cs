using Predictor.Engine.Onnx;
using Predictor.Engine.Onnx.Native;

namespace Predictor.Engine.Tests.Onnx;

public class ScratchTests
{
    [Fact]
    public void Scratch_Linear_Runs()
    {
        using var s = OnnxSession.Open("/tmp/onnxdev/linear48.onnx", new OnnxSessionOptions());
        var d = s.Description;
        Assert.Equal("window", d.Inputs[0].Name);
        Assert.Equal([-1L, 48L], d.Inputs[0].Shape);
        Assert.Equal("N", d.Inputs[0].DimensionNames[0]);
        Assert.Equal("linear", d.CustomMetadata["predictor.kind"]);
        using var f = ForecasterLoaderTestHook.Open("/tmp/onnxdev/linear48.onnx");
        var window = new float[3 * 48];
        for (int i = 0; i < window.Length; i++) window[i] = i % 7;
        var fc = new float[36]; var up = new float[36];
        f.Forecast(window, [], 3, fc, up);
        Assert.Equal(fc[0] + 0.5f, up[0], 5);
        for (int i = 0; i < 10; i++) f.Forecast(window, [], 3, fc, up);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) f.Forecast(window, [], 3, fc, up);
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Open("/tmp/onnxdev/random.onnx", new OnnxSessionOptions()));
        Console.WriteLine(ex.Message);
        var ex2 = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Open("/tmp/onnxdev/truncated.onnx", new OnnxSessionOptions()));
        Console.WriteLine(ex2.Message);
        var ex3 = Assert.Throws<ModelContractException>(() => ForecasterLoaderTestHook.Open("/tmp/onnxdev/wrongnames.onnx"));
        Console.WriteLine(ex3.Message);
    }
}

internal static class ForecasterLoaderTestHook
{
    public static OnnxForecaster Open(string p) => OnnxForecaster.Open(p, new OnnxForecasterOptions());
}

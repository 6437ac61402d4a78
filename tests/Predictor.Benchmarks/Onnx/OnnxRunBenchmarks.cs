using BenchmarkDotNet.Attributes;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Engine.Onnx.Native;
using Predictor.Training.Onnx;

namespace Predictor.Benchmarks.Onnx;

/// <summary>
/// One ONNX Runtime Run of a linear (MatMul + Add) contract model, [N,48] → [N,12], for N = 1 and N = 64:
/// <see cref="Run"/> is the binding alone (pre-bound tensors, nothing copied); <see cref="Forecast"/> is the
/// engine's <c>IForecaster.Forecast</c>, which also copies the rows in and out. Both must allocate 0 B per call.
/// Run: dotnet run -c Release --project tests/Predictor.Benchmarks -- --filter '*OnnxRunBenchmarks*'
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class OnnxRunBenchmarks : IDisposable
{
    private const int Window = 48;
    private const int Horizon = 12;

    private OnnxSession _session = null!;
    private FloatTensor _window = null!;
    private FloatTensor _forecast = null!;
    private FloatTensor _upper = null!;
    private OnnxBinding _binding = null!;
    private IForecaster _forecaster = null!;
    private string _modelPath = null!;
    private float[] _input = null!;
    private float[] _forecastOut = null!;
    private float[] _upperOut = null!;

    /// <summary>N, the rows per Run.</summary>
    [Params(1, 64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var card = new ModelCard { Kind = ForecastModels.LinearKind, Window = Window, Horizon = Horizon, StepSeconds = 10 };
        var random = new Random(1);
        var weights = Enumerable.Range(0, Window * Horizon).Select(_ => (float)random.NextDouble()).ToArray();
        var bias = new float[Horizon];
        byte[] model = ForecastModels.Linear(card, weights, bias, withCalendar: false, new float[Horizon]);
        _modelPath = Path.Combine(Path.GetTempPath(), $"predictor-bench-linear-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(_modelPath, model);

        _session = OnnxSession.Open(_modelPath, new OnnxSessionOptions());
        _window = FloatTensor.Allocate([Batch, Window]);
        _forecast = FloatTensor.Allocate([Batch, Horizon]);
        _upper = FloatTensor.Allocate([Batch, Horizon]);
        _window.Data.Fill(1f);
        _binding = _session.Bind([(ModelContract.WindowInput, _window)], [(ModelContract.ForecastOutput, _forecast), (ModelContract.UpperOutput, _upper)]);

        _forecaster = ForecasterLoader.OpenOnnx(_modelPath, new OnnxForecasterOptions { MaxBatch = 64 });
        _input = Enumerable.Range(0, Batch * Window).Select(i => (float)i).ToArray();
        _forecastOut = new float[Batch * Horizon];
        _upperOut = new float[Batch * Horizon];
    }

    [Benchmark]
    public void Run() => _binding.Run();

    [Benchmark]
    public void Forecast() => _forecaster.Forecast(_input, [], Batch, _forecastOut, _upperOut);

    [GlobalCleanup]
    public void Dispose()
    {
        _binding.Dispose();
        _window.Dispose();
        _forecast.Dispose();
        _upper.Dispose();
        _session.Dispose();
        _forecaster.Dispose();
        File.Delete(_modelPath);
        GC.SuppressFinalize(this);
    }
}

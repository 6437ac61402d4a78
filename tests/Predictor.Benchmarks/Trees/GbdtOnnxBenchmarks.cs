using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Training.Features;
using Predictor.Training.Onnx;
using Predictor.Training.Trees;

namespace Predictor.Benchmarks.Trees;

/// <summary>
/// ONNX Runtime inference of an exported boosted-tree model (window 24 + calendar, horizon 12, 100 rounds × 12 steps
/// = 1,200 trees, fitted on 8,640 points of NAB's asg_misconfiguration), through the engine's
/// <c>IForecaster.Forecast</c>, for N = 1 and N = 64 series per call; beside it, the C# <see cref="GbdtModel.Predict(ReadOnlySpan{float}, Span{float})"/>
/// of the same rows.
/// Run: dotnet run -c Release --project tests/Predictor.Benchmarks -- --filter '*GbdtOnnxBenchmarks*'
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class GbdtOnnxBenchmarks : IDisposable
{
    private const int Window = 24;
    private const int Horizon = 12;

    private IForecaster _forecaster = null!;
    private GbdtModel _model = null!;
    private string _path = null!;
    private float[] _windows = null!;
    private float[] _calendars = null!;
    private float[] _rows = null!;
    private float[] _forecast = null!;
    private float[] _upper = null!;

    /// <summary>N, series per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (values, stamps) = NabTrace.Read("realKnownCause/cpu_utilization_asg_misconfiguration.csv", 8640);
        var data = SupervisedWindows.Build(values, stamps, Window, Horizon, true);
        _model = GradientBoostedTrees.Fit(data, Window, new GbdtOptions { ValidationFraction = 0, Trees = GbdtTreeLayout.PerStep });
        var card = new ModelCard { Kind = GbdtOnnx.Kind, Window = Window, Horizon = Horizon, StepSeconds = 300 };
        _path = Path.Combine(Path.GetTempPath(), $"predictor-bench-gbdt-{Environment.ProcessId}.onnx");
        ForecastModels.WriteFile(_path, GbdtOnnx.Export(_model, card, new float[Horizon]));
        _forecaster = ForecasterLoader.OpenOnnx(_path, new OnnxForecasterOptions { MaxBatch = 64 });

        int width = data.FeatureWidth;
        _windows = new float[Batch * Window];
        _calendars = new float[Batch * CalendarFeatures.Width];
        _rows = new float[Batch * width];
        for (int r = 0; r < Batch; r++)
        {
            int source = (r * 97) % data.Rows;
            data.Features.AsSpan(source * width, width).CopyTo(_rows.AsSpan(r * width));
            data.Features.AsSpan(source * width, Window).CopyTo(_windows.AsSpan(r * Window));
            data.Features.AsSpan((source * width) + Window, CalendarFeatures.Width).CopyTo(_calendars.AsSpan(r * CalendarFeatures.Width));
        }

        _forecast = new float[Batch * Horizon];
        _upper = new float[Batch * Horizon];
    }

    [Benchmark]
    public void OnnxRuntimeForecast() => _forecaster.Forecast(_windows, _calendars, Batch, _forecast, _upper);

    [Benchmark]
    public void CSharpPredict()
    {
        int width = Window + CalendarFeatures.Width;
        for (int r = 0; r < Batch; r++)
        {
            _model.Predict(_rows.AsSpan(r * width, width), _forecast.AsSpan(r * Horizon, Horizon));
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _forecaster.Dispose();
        File.Delete(_path);
        GC.SuppressFinalize(this);
    }
}

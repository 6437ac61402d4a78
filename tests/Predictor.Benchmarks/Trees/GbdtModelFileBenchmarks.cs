using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;

namespace Predictor.Benchmarks.Trees;

/// <summary>
/// ONNX Runtime inference of the shipped boosted-tree model files, as the replay-speed benchmark calls them: one
/// batched <c>IForecaster.Forecast</c> of 40 rows (real Azure V1 windows of the model's W steps + calendar), one intra-op thread.
/// Divide the mean by 40 for the cost per row, the figure the tree-layout rule in README ("Gradient-boosted trees")
/// compares. The models: the default (shared trees) and per-step files of azure-v1/vm_737498 in models/; more files (absolute
/// paths, separated by ':') can be added through the environment variable PREDICTOR_BENCH_GBDT_MODELS, so a candidate
/// layout is measured side by side with the shipped ones in one run.
/// Run: dotnet run -c Release --project tests/Predictor.Benchmarks -- --filter '*GbdtModelFileBenchmarks*'
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class GbdtModelFileBenchmarks : IDisposable
{
    private const int Rows = 40;

    private IForecaster _forecaster = null!;
    private float[] _windows = null!;
    private float[] _calendars = null!;
    private float[] _forecast = null!;
    private float[] _upper = null!;

    /// <summary>The model file: a name in models/ or an absolute path.</summary>
    [ParamsSource(nameof(ModelFiles))]
    public string Model { get; set; } = "azure_v1_vm_737498.onnx";

    /// <summary>The shipped files, then those named in PREDICTOR_BENCH_GBDT_MODELS.</summary>
    public static IEnumerable<string> ModelFiles()
    {
        yield return "azure_v1_vm_737498.onnx";
        yield return "azure_v1_vm_737498_per_step.onnx";
        string? extra = Environment.GetEnvironmentVariable("PREDICTOR_BENCH_GBDT_MODELS");
        foreach (string path in (extra ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            yield return path;
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        string path = Path.IsPathRooted(Model) ? Model : RepoPaths.InRepo("models", Model);
        _forecaster = ForecasterLoader.OpenOnnx(path, new OnnxForecasterOptions { MaxBatch = Rows, Session = new OnnxSessionOptions { IntraOpThreads = 1 } });
        int window = _forecaster.Shape.Window;
        var trace = Path.Combine(RepoPaths.SharedDatasets, "azure_v1", "microsoft_avg_100.subset30.csv");
        var vms = TraceImporter.Import(TraceFormat.AzureV1, trace).Series;
        _windows = new float[Rows * window];
        _calendars = new float[Rows * CalendarFeatures.Width];
        for (int r = 0; r < Rows; r++)
        {
            // 40 windows of the 30 VMs (in the trace's CPU % units, as vm_737498's model was trained), at origins a
            // few hours apart, so the rows take different paths through the trees.
            var series = vms[r % vms.Count];
            int end = 2_000 + (r * 37);
            for (int i = 0; i < window; i++)
            {
                _windows[(r * window) + i] = (float)series.Values[end - window + i];
            }

            CalendarFeatures.Compute(series.Timestamps[end - 1], _calendars.AsSpan(r * CalendarFeatures.Width, CalendarFeatures.Width));
        }

        int horizon = _forecaster.Shape.Horizon;
        _forecast = new float[Rows * horizon];
        _upper = new float[Rows * horizon];
    }

    [Benchmark]
    public void Forecast40Rows() => _forecaster.Forecast(_windows, _calendars, Rows, _forecast, _upper);

    [GlobalCleanup]
    public void Dispose()
    {
        _forecaster.Dispose();
        GC.SuppressFinalize(this);
    }
}

using BenchmarkDotNet.Attributes;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Telemetry;
using Predictor.Training.Features;
using Predictor.Training.Onnx;
using Predictor.Training.Pipeline;
using Predictor.Training.Regression;
using Predictor.Training.Ssa;

namespace Predictor.Benchmarks.Training;

/// <summary>Seeded synthetic daily load at 5-minute steps, 8,640 points (30 days), shared by the training benchmarks.</summary>
internal static class DailyLoad
{
    public const int Points = 8640;

    public static RecordedSeries Create()
    {
        var rng = new Random(42);
        var values = new double[Points];
        var timestamps = new long[Points];
        for (int t = 0; t < Points; t++)
        {
            timestamps[t] = 1_700_000_000_000 + (t * 300_000L);
            values[t] = 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (6 * Math.Sin(4 * Math.PI * t / 288)) + (4 * rng.NextDouble());
        }

        return new RecordedSeries(new SeriesInfo("bench/daily", "percent", TimeSpan.FromSeconds(300)), timestamps, values);
    }
}

/// <summary>SSA fit per series at 8,640 points: lag covariance, eigen-decomposition, LRR, the 12-step map of a 288-window.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class SsaFitBenchmarks
{
    private double[] _values = [];

    /// <summary>L: the trainer's default (W/2 = 144) and L = W = 288.</summary>
    [Params(144, 288)]
    public int SsaLength { get; set; }

    /// <summary>Basic SSA, and lag vectors centred on their own means (<c>--ssa-centring lag-vectors</c>).</summary>
    [Params(SsaCentring.Series, SsaCentring.LagVectors)]
    public SsaCentring Centring { get; set; }

    [GlobalSetup]
    public void Setup() => _values = DailyLoad.Create().Values;

    [Benchmark]
    public double[] SsaFit()
    {
        var decomposition = SsaDecomposition.Fit([_values], SsaLength, Centring);
        return SsaModel.From(decomposition, decomposition.RankFor(0.9, 40)).ForecastMap(288, 12);
    }
}

/// <summary>Ridge fit per series at 8,640 points (features, Gram matrices, α search, solve) and the whole pipeline for one series.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class TrainingBenchmarks
{
    private RecordedSeries _series = null!;

    [GlobalSetup]
    public void Setup() => _series = DailyLoad.Create();

    [Benchmark]
    public double[] RidgeFit()
    {
        var rows = SupervisedWindows.Build(_series.Values, _series.Timestamps, 288, 12, withCalendar: true);
        return RidgeRegression.Solve([.. rows.Features.Select(v => (double)v)], [.. rows.Targets.Select(v => (double)v)], rows.Rows, rows.FeatureWidth, 12).Weights;
    }

    /// <summary>The default kinds (SSA over 16 ranks, ridge, combination, gbdt), every baseline and backtest (candidates
    /// fitted again on training + calibration for the test part: <see cref="TrainingOptions.RefitBeforeTest"/>), refit on
    /// all data, ONNX.</summary>
    [Benchmark]
    public byte[] TrainOneSeries() => ModelTrainer.Train([_series], new TrainingOptions()).Model;

    /// <summary>As <see cref="TrainOneSeries"/> with the test part forecast by the training-part fits (the protocol
    /// before session 9): the difference is the cost of the refit before the test part.</summary>
    [Benchmark]
    public byte[] TrainOneSeriesWithoutRefitBeforeTest() => ModelTrainer.Train([_series], new TrainingOptions { RefitBeforeTest = false }).Model;
}

/// <summary>
/// Inference of one ONNX model file through the engine's forecaster (ONNX Runtime), with buffers allocated once: what
/// the subclasses differ in is only how the model is made (<see cref="WriteModel"/>).
/// </summary>
public abstract class ForecasterInferenceBenchmark
{
    private IForecaster _forecaster = null!;
    private float[] _window = [];
    private float[] _calendar = [];
    private float[] _forecast = [];
    private float[] _upper = [];
    private string _path = "";

    [Params(1, 64)]
    public int Series { get; set; }

    /// <summary>Writes the model to <paramref name="path"/>.</summary>
    protected abstract void WriteModel(string path);

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"predictor-bench-{GetType().Name}-{Environment.ProcessId}.onnx");
        WriteModel(_path);
        _forecaster = ForecasterLoader.OpenOnnx(_path);
        var shape = _forecaster.Shape;
        _window = new float[Series * shape.Window];
        _calendar = new float[Series * shape.CalendarWidth];
        _forecast = new float[Series * shape.Horizon];
        _upper = new float[Series * shape.Horizon];
        for (int i = 0; i < _window.Length; i++)
        {
            _window[i] = 40 + (20 * MathF.Sin(i * 0.02f));
        }
    }

    [Benchmark]
    public float Forecast()
    {
        _forecaster.Forecast(_window, _calendar, Series, _forecast, _upper);
        return _forecast[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _forecaster.Dispose();
        File.Delete(_path);
    }
}

/// <summary>ONNX Runtime inference of each trained kind through the engine's forecaster: one series, and 64 at once.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class TrainedModelInferenceBenchmarks : ForecasterInferenceBenchmark
{
    [Params("ssa", "ridge", "combination")]
    public string Kind { get; set; } = "ssa";

    protected override void WriteModel(string path) =>
        ForecastModels.WriteFile(path, ModelTrainer.Train([DailyLoad.Create()], new TrainingOptions { Kinds = [Kind] }).Model);
}

/// <summary>
/// ONNX Runtime inference of a per-step composite (<c>--selection per-step</c>) through the engine's forecaster, beside
/// its members' cost: "ssa+ridge" (two linear branches, Concat, Gather: the most frequent composite of the 20-series
/// evaluation) and "gbdt+naive+seasonal_naive" (trees on the window's last 24 columns beside two gathers). The linear
/// maps carry seeded random weights and the trees are fitted on the daily load: the cost depends on the graph, not on
/// the weights' values.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class PerStepInferenceBenchmarks : ForecasterInferenceBenchmark
{
    private const int Window = 288;
    private const int Horizon = 12;

    [Params("ssa+ridge", "gbdt+naive+seasonal_naive")]
    public string Members { get; set; } = "ssa+ridge";

    protected override void WriteModel(string path)
    {
        var rng = new Random(7);
        float[] Weights(int count) => [.. Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() - 0.5) * 0.01))];
        Predictor.Training.Models.IExportableForecaster[] members;
        int[] steps;
        if (Members == "ssa+ridge")
        {
            members =
            [
                new Predictor.Training.Models.LinearMapForecaster("ridge", Window, Horizon, Weights((Window + CalendarFeatures.Width) * Horizon), Weights(Horizon), withCalendar: true, WindowNormalization.LevelAndScale),
                new Predictor.Training.Models.LinearMapForecaster("ssa", Window, Horizon, Weights(Window * Horizon), new float[Horizon], withCalendar: false, WindowNormalization.Level),
            ];
            steps = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0];
        }
        else
        {
            var series = DailyLoad.Create();
            var rows = SupervisedWindows.Build(series.Values, series.Timestamps, 24, Horizon, withCalendar: true);
            members =
            [
                new Predictor.Training.Models.GbdtForecaster(Predictor.Training.Trees.GradientBoostedTrees.Fit(rows, 24, new Predictor.Training.Trees.GbdtOptions())),
                new Predictor.Training.Models.NaiveForecaster(Window),
                new Predictor.Training.Models.SeasonalNaiveForecaster(Window),
            ];
            steps = [0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2];
        }

        var composite = new Predictor.Training.Models.PerStepForecaster(members, steps);
        ForecastModels.WriteFile(path, composite.Export(new ModelCard { Kind = "per_step", Window = Window, Horizon = Horizon, StepSeconds = 300 }, new float[Horizon]));
    }
}

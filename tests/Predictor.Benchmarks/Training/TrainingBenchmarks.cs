using BenchmarkDotNet.Attributes;
using Predictor.Engine.Telemetry;
using Predictor.Training.Features;
using Predictor.Training.Pipeline;
using Predictor.Training.Regression;
using Predictor.Training.Ssa;

namespace Predictor.Benchmarks.Training;

/// <summary>
/// Fit time per series at 8,640 points (30 days at 5 minutes): SSA (L = 288: lag covariance, eigen-decomposition,
/// LRR, the 12-step map), ridge (features, Gram matrices, α search, solve), and the whole pipeline for one series
/// (both candidates, baselines, backtests, selection, refit, ONNX). Seeded synthetic daily load, so runs compare.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class TrainingBenchmarks
{
    private const int Points = 8640;
    private double[] _values = [];
    private long[] _timestamps = [];
    private RecordedSeries _series = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _values = new double[Points];
        _timestamps = new long[Points];
        for (int t = 0; t < Points; t++)
        {
            _timestamps[t] = 1_700_000_000_000 + (t * 300_000L);
            _values[t] = 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (6 * Math.Sin(4 * Math.PI * t / 288)) + (4 * rng.NextDouble());
        }

        _series = new RecordedSeries(new SeriesInfo("bench/daily", "percent", TimeSpan.FromSeconds(300)), _timestamps, _values);
    }

    [Benchmark]
    public double[] SsaFit()
    {
        var decomposition = SsaDecomposition.Fit([_values], 288);
        return SsaModel.From(decomposition, decomposition.RankFor(0.9, 40)).ForecastMap(288, 12);
    }

    [Benchmark]
    public double[] RidgeFit()
    {
        var rows = SupervisedWindows.Build(_values, _timestamps, 288, 12, withCalendar: true);
        return RidgeRegression.Solve([.. rows.Features.Select(v => (double)v)], [.. rows.Targets.Select(v => (double)v)], rows.Rows, rows.FeatureWidth, 12).Weights;
    }

    [Benchmark]
    public byte[] TrainOneSeries() => ModelTrainer.Train([_series], new TrainingOptions()).Model;
}

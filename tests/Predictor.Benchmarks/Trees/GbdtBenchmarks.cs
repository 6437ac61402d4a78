using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Predictor.Training.Features;
using Predictor.Training.Pipeline;
using Predictor.Training.Trees;

namespace Predictor.Benchmarks.Trees;

/// <summary>
/// Boosted-tree fit time per series at 8,640 points (30 days every 5 min of NAB's asg_misconfiguration CPU trace),
/// window 24 + calendar, horizon 12 (12 ensembles), the fit <c>predictor train</c> makes (shared trees, season moves),
/// and the allocation-free C# prediction of one row.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class GbdtBenchmarks
{
    private const int Window = 24;
    private const int Horizon = 12;

    /// <summary>The row of the trained candidate (`predictor train`'s defaults since session 6): 11 season moves from a
    /// one-day window, the last 24 values, the calendar.</summary>
    private static readonly TreeFeatures TrainedFeatures = new(288, 24, Horizon - 1);

    private SupervisedWindows _data = null!;
    private SupervisedWindows _trainedData = null!;
    private GbdtModel _model = null!;
    private float[] _row = null!;
    private float[] _output = null!;

    /// <summary>Cores used: our MaxDegreeOfParallelism (per-step trees: horizon steps fitted at once; shared trees: threads
    /// sharing a node's histograms and split search by feature).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (values, stamps) = NabTrace.Read("realKnownCause/cpu_utilization_asg_misconfiguration.csv", 8640);
        _data = SupervisedWindows.Build(values, stamps, Window, Horizon, true);
        _trainedData = SupervisedWindows.Build(values, stamps, TrainedFeatures, Horizon, true);
        _model = GradientBoostedTrees.Fit(_data, Window, new GbdtOptions { ValidationFraction = 0, Trees = GbdtTreeLayout.PerStep });
        _row = _data.Features.AsSpan(0, _data.FeatureWidth).ToArray();
        _output = new float[Horizon];
    }

    /// <summary>100 rounds × 12 steps, no early stopping: the setting of the scikit-learn comparison.</summary>
    [Benchmark]
    public GbdtModel Fit100Rounds() =>
        GradientBoostedTrees.Fit(_data, Window, new GbdtOptions { ValidationFraction = 0, MaxDegreeOfParallelism = Threads, Trees = GbdtTreeLayout.PerStep });

    /// <summary>The defaults: up to 100 rounds, early stopping on the latest 10 % of rows.</summary>
    [Benchmark]
    public GbdtModel FitDefaults() =>
        GradientBoostedTrees.Fit(_data, Window, new GbdtOptions { MaxDegreeOfParallelism = Threads, Trees = GbdtTreeLayout.PerStep });

    /// <summary>What <c>predictor train</c> fits for its gbdt candidate: shared trees with equalised step gains, season
    /// moves, early stopping, at most <see cref="TrainingOptions.GbdtMaxTrees"/> trees, on <see cref="Threads"/> threads
    /// (since session 16 a shared ensemble's nodes are split by feature over threads; the model is the same bit for bit).</summary>
    [Benchmark]
    public GbdtModel FitTrainedDefault() =>
        GradientBoostedTrees.Fit(_trainedData, TrainedFeatures, new GbdtOptions { MaxIterations = new TrainingOptions().GbdtMaxTrees, MaxDegreeOfParallelism = Threads });

    /// <summary>As <see cref="FitTrainedDefault"/> with <c>--gbdt-loss absolute</c>: sign gradients, and a median of
    /// residuals per leaf and step (quickselect) where squared loss divides a sum.</summary>
    [Benchmark]
    public GbdtModel FitTrainedAbsolute() =>
        GradientBoostedTrees.Fit(_trainedData, TrainedFeatures, new GbdtOptions { MaxIterations = new TrainingOptions().GbdtMaxTrees, Loss = GbdtLoss.AbsoluteError, MaxDegreeOfParallelism = Threads });

    /// <summary>One row, 12 steps, 1,200 trees (C#, allocation-free).</summary>
    [Benchmark]
    public float PredictOneRow()
    {
        _model.Predict(_row, _output);
        return _output[0];
    }
}

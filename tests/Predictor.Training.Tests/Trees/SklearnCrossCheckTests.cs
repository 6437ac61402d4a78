using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Predictor.TestSupport;
using Predictor.Training.Features;
using Predictor.Training.Trees;
using Xunit.Abstractions;

namespace Predictor.Training.Tests.Trees;

/// <summary>
/// Cross-check against an implementation nobody here wrote: scikit-learn's HistGradientBoostingRegressor, fitted
/// by training/scripts/gbdt_sklearn_crosscheck.py on the very feature rows and targets our trees train on, with
/// the same hyper-parameters (early stopping off on both sides), one regressor per horizon step on both sides.
/// Accuracy is asserted (ours within 10 % of scikit-learn's MAE on later data); times are printed, never asserted.
/// The class runs alone (no other test class beside it), so the two timings share the machine only with each other.
/// </summary>
[Collection(TimedCollection.Name)]
public sealed class SklearnCrossCheckTests
{
    private const int Horizon = 12;
    private const int Season = 288;

    /// <summary>The row of the trained gbdt candidate (ModelTrainer.GbdtFeatures at the defaults): 11 season moves
    /// from a window of one day, the last 24 values, then the calendar.</summary>
    private static readonly TreeFeatures Features = new(Season, 24, Horizon - 1);

    private readonly ITestOutputHelper _output;

    public SklearnCrossCheckTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, int> Series => new()
    {
        { NabSeries.Asg, 8640 },
        { NabSeries.RdsCc0c53, int.MaxValue },
        { NabSeries.RdsE47b3b, int.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Series))]
    public void Fit_SameFeaturesAsScikitLearn_AccuracyWithinTenPercent(string file, int maxPoints)
    {
        var result = Run(file, maxPoints, _output);

        Assert.True(
            result.OursMae <= 1.10 * result.SklearnMae,
            $"{file}: our MAE {result.OursMae:F3} is more than 10 % above scikit-learn's {result.SklearnMae:F3}.");
    }

    /// <summary>The experiment: 75 % of the series to train, the rest to test (no target shared).</summary>
    /// <param name="threads">Cores each side may use: our <see cref="GbdtOptions.MaxDegreeOfParallelism"/> and
    /// scikit-learn's OpenMP threads (OMP_NUM_THREADS). One by default: OpenMP's spin-waiting collapses when the
    /// machine is shared with other builds, which would time the machine, not the algorithms.</param>
    internal static CrossCheckResult Run(string file, int maxPoints, ITestOutputHelper? output, int threads = 1)
    {
        var (values, stamps) = NabSeries.Read(file, maxPoints: maxPoints);
        int split = (int)(values.Length * 0.75);
        var train = SupervisedWindows.Build(values, stamps, Features, Horizon, true, lastOrigin: split - 1 - Horizon);
        var test = SupervisedWindows.Build(values, stamps, Features, Horizon, true, firstOrigin: split - 1);
        var options = new GbdtOptions
        {
            MaxIterations = 100, LearningRate = 0.1, MaxLeaves = 31, MinSamplesLeaf = 20, L2Regularization = 1.0, MaxBins = 255, ValidationFraction = 0,
            MaxDegreeOfParallelism = threads,

            // scikit-learn's reference fits one regressor per step: compare like with like (the default is Shared).
            Trees = GbdtTreeLayout.PerStep,
        };

        // CPU time besides wall clock: on a machine shared with other builds the wall clock measures the load as much
        // as the fit; the process's CPU time (JIT and GC threads included) does not wait for the scheduler.
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var model = GradientBoostedTrees.Fit(train, Features, options);
        double oursSeconds = watch.Elapsed.TotalSeconds;
        self.Refresh();
        double oursCpuSeconds = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        var ours = model.Predict(test);

        string dir = Directory.CreateTempSubdirectory("gbdt-sklearn-").FullName;
        try
        {
            WriteFloats(Path.Combine(dir, "x_train.f32"), train.Features);
            WriteFloats(Path.Combine(dir, "y_train.f32"), train.Targets);
            WriteFloats(Path.Combine(dir, "x_test.f32"), test.Features);
            var meta = new Dictionary<string, object?>
            {
                // The script reads x(t) from column window − 1: the last of the row's part before the calendar.
                ["window"] = Features.Width,
                ["horizon"] = Horizon,
                ["width"] = train.FeatureWidth,
                ["n_train"] = train.Rows,
                ["n_test"] = test.Rows,
                ["difference"] = options.PredictDifference,
                ["params"] = new Dictionary<string, object?>
                {
                    ["max_iter"] = options.MaxIterations,
                    ["learning_rate"] = options.LearningRate,
                    ["max_leaf_nodes"] = options.MaxLeaves,
                    ["max_depth"] = options.MaxDepth == 0 ? null : options.MaxDepth,
                    ["min_samples_leaf"] = options.MinSamplesLeaf,
                    ["l2_regularization"] = options.L2Regularization,
                    ["max_bins"] = options.MaxBins,
                },
            };
            File.WriteAllText(Path.Combine(dir, "meta.json"), JsonSerializer.Serialize(meta));
            RunPython(RepoPaths.InRepo("training", "scripts", "gbdt_sklearn_crosscheck.py"), dir, threads);

            var sk = ReadFloats(Path.Combine(dir, "sklearn_pred.f32"), test.Rows * Horizon);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "sklearn.json")));
            double skSeconds = json.RootElement.GetProperty("fit_seconds").GetDouble();
            double skCpuSeconds = json.RootElement.GetProperty("fit_cpu_seconds").GetDouble();

            double scale = SeasonalNaiveScale(values.AsSpan(0, split));
            double oursMae = Mae(ours, test.Targets);
            double skMae = Mae(sk, test.Targets);
            var naive = new float[test.Rows * Horizon];
            var seasonal = new float[test.Rows * Horizon];
            for (int r = 0; r < test.Rows; r++)
            {
                int t = split - 1 + r;
                for (int h = 0; h < Horizon; h++)
                {
                    naive[(r * Horizon) + h] = (float)values[t];
                    seasonal[(r * Horizon) + h] = (float)values[t + 1 + h - Season];
                }
            }

            var result = new CrossCheckResult(
                Path.GetFileNameWithoutExtension(file), values.Length, train.Rows, oursMae, skMae, Mae(naive, test.Targets), Mae(seasonal, test.Targets), scale, oursSeconds, skSeconds)
            {
                OursMaseStep12 = Mae(ours, test.Targets, Horizon - 1) / scale,
                SklearnMaseStep12 = Mae(sk, test.Targets, Horizon - 1) / scale,
                SeasonalNaiveMaseStep12 = Mae(seasonal, test.Targets, Horizon - 1) / scale,
                OursCpuSeconds = oursCpuSeconds,
                SklearnCpuSeconds = skCpuSeconds,
            };
            output?.WriteLine(result.ToString());
            return result;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void RunPython(string script, string dir, int threads)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(dir);
        using var process = Process.Start(start)!;
        string stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"scikit-learn cross-check failed (is python3-sklearn installed? see .ci/apt-packages.txt): {stderr}");
    }

    private static void WriteFloats(string path, float[] data)
    {
        var bytes = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(path, bytes);
    }

    private static float[] ReadFloats(string path, int count)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(count * 4, bytes.Length);
        var data = new float[count];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return data;
    }

    private static double Mae(float[] forecast, float[] actual)
    {
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            sum += Math.Abs(forecast[i] - (double)actual[i]);
        }

        return sum / actual.Length;
    }

    /// <summary>MAE of one horizon step (0-based) only.</summary>
    private static double Mae(float[] forecast, float[] actual, int step)
    {
        double sum = 0;
        int n = 0;
        for (int i = step; i < actual.Length; i += Horizon)
        {
            sum += Math.Abs(forecast[i] - (double)actual[i]);
            n++;
        }

        return sum / n;
    }

    /// <summary>MASE's denominator: in-sample MAE of the one-season-back forecast over the training part.</summary>
    private static double SeasonalNaiveScale(ReadOnlySpan<double> train)
    {
        double sum = 0;
        for (int i = Season; i < train.Length; i++)
        {
            sum += Math.Abs(train[i] - train[i - Season]);
        }

        return sum / (train.Length - Season);
    }
}

/// <summary>One row of the cross-check table.</summary>
internal sealed record CrossCheckResult(
    string Series, int Points, int TrainRows, double OursMae, double SklearnMae, double NaiveMae, double SeasonalNaiveMae, double MaseScale, double OursSeconds, double SklearnSeconds)
{
    public double OursMaseStep12 { get; init; }

    /// <summary>CPU seconds of the whole test process during our fit (JIT, GC and any helper thread included).</summary>
    public double OursCpuSeconds { get; init; }

    /// <summary>CPU seconds of the Python process during scikit-learn's fits (<c>time.process_time</c>).</summary>
    public double SklearnCpuSeconds { get; init; }

    public double SklearnMaseStep12 { get; init; }

    public double SeasonalNaiveMaseStep12 { get; init; }

    /// <summary>series | points | train rows | MAE (MASE) ours | MAE (MASE) sklearn | MASE@12 ours / sklearn / seasonal naive | MASE seasonal naive | MASE naive | s ours | s sklearn | ratio | CPU s ours | CPU s sklearn | CPU ratio.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"| {Series} | {Points} | {TrainRows} | {OursMae:F3} ({OursMae / MaseScale:F3}) | {SklearnMae:F3} ({SklearnMae / MaseScale:F3}) | {OursMaseStep12:F3} / {SklearnMaseStep12:F3} / {SeasonalNaiveMaseStep12:F3} | {SeasonalNaiveMae / MaseScale:F3} | {NaiveMae / MaseScale:F3} | {OursSeconds:F2} | {SklearnSeconds:F2} | {OursSeconds / SklearnSeconds:F2} | {OursCpuSeconds:F2} | {SklearnCpuSeconds:F2} | {OursCpuSeconds / SklearnCpuSeconds:F2} |");
}

/// <summary>Test classes that time something: run with test parallelisation off.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimedCollection
{
    public const string Name = "Timed, not parallel";
}

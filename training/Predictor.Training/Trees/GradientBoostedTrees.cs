using Predictor.Engine;
using Predictor.Engine.Forecasting;
using Predictor.Training.Features;

namespace Predictor.Training.Trees;

/// <summary>
/// Gradient-boosted regression trees for direct multi-horizon forecasting (one ensemble per horizon step, or one
/// ensemble of multi-output trees for all steps: <see cref="GbdtOptions.Trees"/>), squared loss (Newton leaf values with
/// L2) or absolute loss (leaf medians; <see cref="GbdtOptions.Loss"/>), histogram splits, best-first growth, early
/// stopping on the latest rows.
/// </summary>
public static class GradientBoostedTrees
{
    /// <summary>Validation rows below which early stopping is turned off (documented in <see cref="GbdtOptions.ValidationFraction"/>'s handling).</summary>
    internal const int MinValidationRows = 10;

    /// <summary>
    /// Fits one ensemble per horizon step, or one of shared multi-output trees (<see cref="GbdtOptions.Trees"/>), on
    /// <paramref name="data"/>. Deterministic: the same data and options give the same model bit for bit, whatever
    /// the number of cores (per-step ensembles are independent and fitted in parallel, each one's arithmetic in a
    /// fixed order on one thread; shared trees spread each node's histograms and split search over threads by feature,
    /// every number computed as on one thread: see <see cref="HorizonBooster"/>).
    /// </summary>
    /// <param name="data">The supervised examples, rows in time order (oldest origin first).</param>
    /// <param name="window">W, the window length the rows were built with (<see cref="TreeFeatures.Plain(int)"/>); the
    /// rest of each row (0 or <see cref="CalendarFeatures.Width"/> floats) is calendar.</param>
    /// <param name="options">Hyper-parameters; <see langword="null"/> for the defaults.</param>
    /// <exception cref="PredictorException">Too few rows, or NaN in features or targets.</exception>
    public static GbdtModel Fit(SupervisedWindows data, int window, GbdtOptions? options = null) =>
        Fit(data, TreeFeatures.Plain(window), options);

    /// <summary>
    /// As <see cref="Fit(SupervisedWindows, int, GbdtOptions?)"/>, on rows built with <paramref name="features"/>
    /// (<see cref="SupervisedWindows.Build(ReadOnlySpan{double}, ReadOnlySpan{long}, TreeFeatures, int, bool, int, int, int)"/>);
    /// the model keeps them, so its forecaster and ONNX graph build the same row.
    /// </summary>
    public static GbdtModel Fit(SupervisedWindows data, TreeFeatures features, GbdtOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(features);
        features.Validate();
        options ??= new GbdtOptions();
        int width = data.FeatureWidth;
        int window = features.Width;
        int calendar = width - window;
        if (calendar != 0 && calendar != CalendarFeatures.Width)
        {
            throw new ArgumentException(
                $"Rows hold {width} features, which is not {window} from the window plus 0 or {CalendarFeatures.Width} calendar features; pass the window (or tree features) the rows were built with.",
                nameof(features));
        }

        int rows = data.Rows;
        int horizon = data.Horizon;
        if (options.TreesPerStep is { } fixedRounds && fixedRounds.Count != horizon)
        {
            throw new ArgumentException(
                $"GbdtOptions.TreesPerStep holds {fixedRounds.Count} tree counts for a horizon of {horizon} steps; give one count per step.",
                nameof(options));
        }

        int validation = options.TreesPerStep is null ? (int)Math.Floor(rows * options.ValidationFraction) : 0;
        if (validation < MinValidationRows)
        {
            validation = 0;
        }

        // Drop the H rows before the validation block: their targets x(t+1..t+H) reach into the validation targets.
        int train = validation > 0 ? rows - validation - horizon : rows;
        int needed = 2 * options.MinSamplesLeaf;
        if (train < needed)
        {
            throw new PredictorException(
                $"Only {train} training examples (of {rows}, after holding out {validation} for early stopping); boosted trees need at least {needed} (2 × MinSamplesLeaf). Record more data, shorten the window or horizon, or lower MinSamplesLeaf.");
        }

        for (int i = 0; i < data.Targets.Length; i++)
        {
            if (!float.IsFinite(data.Targets[i]))
            {
                throw new PredictorException(
                    $"Target {(i % horizon) + 1} of example {i / horizon} is {data.Targets[i]}; fill gaps in the series before building the supervised windows.");
            }
        }

        var binner = FeatureBinner.Fit(data.Features, train, width, options.MaxBins);
        var trainBins = binner.BinColumns(data.Features, 0, train);
        var validationBins = validation > 0 ? binner.BinColumns(data.Features, rows - validation, validation) : [];
        var shared = new SharedData(data, window, train, validation, binner, trainBins, validationBins, options);

        int threads = options.MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : options.MaxDegreeOfParallelism;
        if (options.Trees == GbdtTreeLayout.Shared)
        {
            // One ensemble: its nodes' histograms and split searches are shared out by feature.
            var all = new HorizonBooster(shared, horizon, threads).Boost(0);
            return Assemble([all], binner, features, calendar, horizon, options.PredictDifference, GbdtTreeLayout.Shared);
        }

        // One ensemble per step: the steps are shared out, each booster runs on one thread.
        var results = new HorizonTrees[horizon];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Parallel.For(
            0,
            horizon,
            parallel,
            () => new HorizonBooster(shared, outputs: 1),
            (h, _, booster) =>
            {
                results[h] = booster.Boost(h);
                return booster;
            },
            _ => { });

        return Assemble(results, binner, features, calendar, horizon, options.PredictDifference, GbdtTreeLayout.PerStep);
    }

    /// <summary>
    /// Joins the boosters' trees into one model: H results of one output each (per step, in step order), or one
    /// result of H outputs (shared trees).
    /// </summary>
    private static GbdtModel Assemble(HorizonTrees[] results, FeatureBinner binner, TreeFeatures features, int calendar, int horizon, bool difference, GbdtTreeLayout layout)
    {
        int leafWidth = layout == GbdtTreeLayout.Shared ? horizon : 1;
        int trees = 0;
        int nodes = 0;
        foreach (var r in results)
        {
            trees += r.TreeCount;
            nodes += r.NodeCount;
        }

        var feature = new int[nodes];
        var threshold = new float[nodes];
        var left = new int[nodes];
        var right = new int[nodes];
        var value = new float[nodes * leafWidth];
        var roots = new int[trees];
        var treeStep = new int[leafWidth == 1 ? trees : 0];
        var baseValues = new float[horizon];
        var treesPerStep = new int[horizon];
        int t = 0;
        int n = 0;
        for (int step = 0; step < results.Length; step++)
        {
            var r = results[step];
            r.BaseValues.CopyTo(baseValues.AsSpan(step));
            r.TreesPerOutput.CopyTo(treesPerStep.AsSpan(step));
            for (int k = 0; k < r.TreeCount; k++)
            {
                roots[t] = n + r.TreeStart[k];
                if (leafWidth == 1)
                {
                    treeStep[t] = step;
                }

                t++;
            }

            for (int i = 0; i < r.NodeCount; i++)
            {
                int f = r.Feature[i];
                feature[n + i] = f;
                if (f >= 0)
                {
                    threshold[n + i] = binner.Thresholds[f][r.Bin[i]];
                    left[n + i] = n + r.Left[i];
                    right[n + i] = n + r.Right[i];
                }
                else
                {
                    r.Value.AsSpan(i * leafWidth, leafWidth).CopyTo(value.AsSpan((n + i) * leafWidth));
                }
            }

            n += r.NodeCount;
        }

        return new GbdtModel(features, calendar, horizon, difference, layout, baseValues, treesPerStep, roots, treeStep, feature, threshold, left, right, value);
    }
}

/// <summary>What every horizon step reads and nobody writes.</summary>
internal sealed class SharedData
{
    public SharedData(SupervisedWindows data, int window, int train, int validation, FeatureBinner binner, byte[] trainBins, byte[] validationBins, GbdtOptions options)
    {
        Data = data;
        Window = window;
        Train = train;
        Validation = validation;
        Binner = binner;
        TrainBins = trainBins;
        ValidationBins = validationBins;
        Options = options;
    }

    public SupervisedWindows Data { get; }

    public int Window { get; }

    public int Train { get; }

    public int Validation { get; }

    public FeatureBinner Binner { get; }

    /// <summary>Column-major [features, Train].</summary>
    public byte[] TrainBins { get; }

    /// <summary>Column-major [features, Validation], rows Rows − Validation … Rows − 1.</summary>
    public byte[] ValidationBins { get; }

    public GbdtOptions Options { get; }
}

/// <summary>
/// The trees of one booster (one horizon step, or all steps with shared trees), nodes numbered from 0 within it
/// (split bins, not thresholds); K values per node in <see cref="Value"/>, K = <see cref="BaseValues"/>' length.
/// </summary>
internal sealed class HorizonTrees
{
    public required float[] BaseValues { get; init; }

    public required int TreeCount { get; init; }

    /// <summary>Per output, the trees that count for it (its best validation round): the first so many; its values
    /// in the later trees are 0.</summary>
    public required int[] TreesPerOutput { get; init; }

    public required int NodeCount { get; init; }

    public required int[] TreeStart { get; init; }

    public required int[] Feature { get; init; }

    public required byte[] Bin { get; init; }

    public required int[] Left { get; init; }

    public required int[] Right { get; init; }

    public required float[] Value { get; init; }
}

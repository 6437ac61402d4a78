namespace Predictor.Training.Trees;

/// <summary>How the trees of a multi-horizon model are laid out over the H forecast steps.</summary>
public enum GbdtTreeLayout
{
    /// <summary>One ensemble per horizon step: each round grows H trees, each with one value per leaf for its step.</summary>
    PerStep,

    /// <summary>
    /// One ensemble for all steps (multi-output trees): each round grows ONE tree whose split gain sums the H steps'
    /// gains and whose leaves hold H values, one per step. H times fewer trees to walk at inference.
    /// </summary>
    Shared,
}

/// <summary>The loss a <see cref="GradientBoostedTrees"/> fit minimises.</summary>
public enum GbdtLoss
{
    /// <summary>Squared error: Newton leaf values (leaf means of the residuals, shrunk by L2); the forecast is a mean.</summary>
    SquaredError,

    /// <summary>
    /// Absolute error, after Friedman's LAD_TreeBoost (2001): the base value is each step's median target, a tree's splits
    /// are chosen on the signs of the residuals (gradient ±1, hessian 1, the same gain formula with λ), and each leaf
    /// then holds η × the median of its rows' residuals for each step; early stopping reads the validation rows' mean
    /// |error|. The forecast is a median, the best point forecast under MASE, a mean absolute error. Sign gradients
    /// have the same scale at every step, so <see cref="GbdtOptions.EqualizeStepGains"/> is not applied.
    /// </summary>
    AbsoluteError,
}

/// <summary>
/// Hyper-parameters of <see cref="GradientBoostedTrees"/>. Defaults follow scikit-learn's
/// HistGradientBoostingRegressor where that is sound for short telemetry windows, and say so where they differ.
/// Every setter validates, so an options object is always usable once built.
/// </summary>
public sealed class GbdtOptions
{
    private int _maxIterations = 100;
    private double _learningRate = 0.1;
    private int _maxLeaves = 31;
    private int _maxDepth;
    private int _minSamplesLeaf = 20;
    private double _l2Regularization = 1.0;
    private int _maxBins = 255;
    private double _validationFraction = 0.1;
    private int _earlyStoppingRounds = 10;
    private double _earlyStoppingTolerance = 1e-7;
    private double _featureFraction = 1.0;
    private int _maxDegreeOfParallelism;
    private GbdtTreeLayout _trees = GbdtTreeLayout.Shared;
    private int[]? _treesPerStep;
    private GbdtLoss _loss = GbdtLoss.SquaredError;

    /// <summary>The loss the trees minimise (<see cref="GbdtLoss"/>).</summary>
    /// <value>The default value is <see cref="GbdtLoss.SquaredError"/>.</value>
    public GbdtLoss Loss
    {
        get => _loss;
        set => _loss = Defined(value, nameof(Loss));
    }

    /// <summary>Boosting rounds (trees per horizon step; with shared trees, trees in all) at most; early stopping may use fewer.</summary>
    /// <value>The default value is 100 (scikit-learn's max_iter).</value>
    public int MaxIterations
    {
        get => _maxIterations;
        set => _maxIterations = InRange(value, 1, 100_000, nameof(MaxIterations));
    }

    /// <summary>Shrinkage applied to every leaf value, in (0, 1].</summary>
    /// <value>The default value is 0.1.</value>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value > 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(LearningRate), value, "The learning rate must lie in (0, 1]; 0.05–0.2 is usual.");
            }

            _learningRate = value;
        }
    }

    /// <summary>Leaves per tree at most (trees grow best-first, the leaf with the largest gain splits next).</summary>
    /// <value>The default value is 31 (scikit-learn's max_leaf_nodes).</value>
    public int MaxLeaves
    {
        get => _maxLeaves;
        set => _maxLeaves = InRange(value, 2, 4096, nameof(MaxLeaves));
    }

    /// <summary>Depth of a tree at most (the root has depth 0); 0 means no limit beyond <see cref="MaxLeaves"/>.</summary>
    /// <value>The default value is 0 (no depth limit, as scikit-learn's max_depth=None).</value>
    public int MaxDepth
    {
        get => _maxDepth;
        set => _maxDepth = InRange(value, 0, 64, nameof(MaxDepth));
    }

    /// <summary>Training rows a leaf must hold at least; a split that leaves fewer on either side is not made.</summary>
    /// <value>The default value is 20 (scikit-learn's min_samples_leaf).</value>
    public int MinSamplesLeaf
    {
        get => _minSamplesLeaf;
        set => _minSamplesLeaf = InRange(value, 1, int.MaxValue, nameof(MinSamplesLeaf));
    }

    /// <summary>
    /// λ of the Newton leaf value −Σg / (Σh + λ) and of the split gain; with squared loss h = 1, so λ acts like λ
    /// pseudo-rows pulling every leaf towards 0 (towards the current prediction). Under <see cref="GbdtLoss.AbsoluteError"/>
    /// it enters the split gain only; leaf values are medians.
    /// </summary>
    /// <value>The default value is 1.0 (scikit-learn defaults to 0; 1 damps leaves of few rows).</value>
    public double L2Regularization
    {
        get => _l2Regularization;
        set
        {
            if (!(value >= 0 && double.IsFinite(value)))
            {
                throw new ArgumentOutOfRangeException(nameof(L2Regularization), value, "L2 regularisation must be finite and ≥ 0.");
            }

            _l2Regularization = value;
        }
    }

    /// <summary>Histogram bins per feature at most, 2–255 (a bin index fits a byte); edges are training quantiles.</summary>
    /// <value>The default value is 255.</value>
    public int MaxBins
    {
        get => _maxBins;
        set => _maxBins = InRange(value, 2, 255, nameof(MaxBins));
    }

    /// <summary>
    /// Share of rows, taken from the END of the data (the latest origins; time series are never shuffled), held out
    /// for early stopping. The <see cref="Features.SupervisedWindows.Horizon"/> rows just before them are dropped
    /// from training so that no training target is also a validation target. 0 turns early stopping off and
    /// trains on every row.
    /// </summary>
    /// <value>The default value is 0.1.</value>
    public double ValidationFraction
    {
        get => _validationFraction;
        set
        {
            if (!(value >= 0 && value < 0.5))
            {
                throw new ArgumentOutOfRangeException(nameof(ValidationFraction), value, "The validation fraction must lie in [0, 0.5); 0 turns early stopping off.");
            }

            _validationFraction = value;
        }
    }

    /// <summary>Rounds without a validation improvement after which a horizon step stops; its trees are then cut
    /// back to the best round.</summary>
    /// <value>The default value is 10 (scikit-learn's n_iter_no_change).</value>
    public int EarlyStoppingRounds
    {
        get => _earlyStoppingRounds;
        set => _earlyStoppingRounds = InRange(value, 1, 100_000, nameof(EarlyStoppingRounds));
    }

    /// <summary>A round improves when the validation loss (mean squared error, or mean absolute error under
    /// <see cref="GbdtLoss.AbsoluteError"/>) drops by more than this share of it.</summary>
    /// <value>The default value is 1e-7.</value>
    public double EarlyStoppingTolerance
    {
        get => _earlyStoppingTolerance;
        set
        {
            if (!(value >= 0 && value < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(EarlyStoppingTolerance), value, "The tolerance must lie in [0, 1).");
            }

            _earlyStoppingTolerance = value;
        }
    }

    /// <summary>
    /// Learn the change from the last observed value, <c>x(t+h) − x(t)</c>, instead of <c>x(t+h)</c>; the exported
    /// graph adds <c>x(t)</c> back, so one model extrapolates to levels it never saw (trees cannot).
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool PredictDifference { get; set; } = true;

    /// <summary>Share of features each tree may split on, drawn per tree from <see cref="Seed"/>; 1 uses all.</summary>
    /// <value>The default value is 1.0.</value>
    public double FeatureFraction
    {
        get => _featureFraction;
        set
        {
            if (!(value > 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(FeatureFraction), value, "The feature fraction must lie in (0, 1].");
            }

            _featureFraction = value;
        }
    }

    /// <summary>Seed of the only random choice (the features of each tree when <see cref="FeatureFraction"/> &lt; 1).
    /// The same data, options and seed give the same model, bit for bit, whatever the number of cores.</summary>
    /// <value>The default value is 0.</value>
    public int Seed { get; set; }

    /// <summary>
    /// One ensemble per horizon step (<see cref="GbdtTreeLayout.PerStep"/>) or one ensemble of multi-output trees for
    /// all steps (<see cref="GbdtTreeLayout.Shared"/>: a split's gain is the sum over the H steps of
    /// G_k²/(n+λ) over the children minus the parent, a leaf holds −η·G_k/(n+λ) for each step k; early stopping is per
    /// step as with per-step trees: trees are grown while any step's validation error improves, a step whose patience
    /// has run out leaves the split gains, and each step keeps its values in the trees up to its own best round).
    /// Shared is the default since session 5: with <see cref="EqualizeStepGains"/> its step-12 MASE over 20 real
    /// series is level with per-step trees' (geometric mean 0.893 against 0.896) at about a tenth of the trees to walk
    /// (README, "Gradient-boosted trees").
    /// </summary>
    /// <value>The default value is <see cref="GbdtTreeLayout.Shared"/>.</value>
    public GbdtTreeLayout Trees
    {
        get => _trees;
        set => _trees = Defined(value, nameof(Trees));
    }

    /// <summary>
    /// With shared trees, weights step k's term of the split gain by 1 / (step k's mean squared residual at round 0,
    /// i.e. its training targets' variance about their mean), so each step counts alike: far steps, whose difference
    /// targets vary most, no longer decide every split with their noise, and scaling one step's targets by a constant
    /// leaves the splits unchanged. Leaf values and early stopping are not weighted. Per-step trees have one step per
    /// ensemble and ignore it, and so does <see cref="GbdtLoss.AbsoluteError"/> (sign gradients are alike at every step).
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool EqualizeStepGains { get; set; } = true;

    /// <summary>
    /// Fixed rounds instead of early stopping: when set (one count per horizon step), no rows are held out
    /// (<see cref="ValidationFraction"/> is not read) and horizon step h keeps its first <c>TreesPerStep[h]</c> trees
    /// (shared trees: the ensemble grows to the largest count, and a step leaves the split gains as soon as it has its
    /// own; under early stopping a step leaves only when its patience runs out, up to <see cref="EarlyStoppingRounds"/>
    /// trees after its best round). Used to refit on every row with the counts an
    /// earlier fit's early stopping found (<c>predictor train --gbdt-refit-rounds training-fit</c>); a count above
    /// <see cref="MaxIterations"/>, or where no split is left, keeps what there is.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (early stopping on the latest rows).</value>
    public IReadOnlyList<int>? TreesPerStep
    {
        get => _treesPerStep;
        set
        {
            if (value is not null)
            {
                for (int h = 0; h < value.Count; h++)
                {
                    if (value[h] < 0)
                    {
                        throw new ArgumentOutOfRangeException(nameof(TreesPerStep), value[h], $"TreesPerStep[{h}] = {value[h]}: a tree count must be 0 or more.");
                    }
                }
            }

            _treesPerStep = value is null ? null : [.. value];
        }
    }

    /// <summary>Threads a fit may use; 0 means every core. With <see cref="GbdtTreeLayout.PerStep"/>, horizon steps fitted at
    /// the same time (one thread each); with <see cref="GbdtTreeLayout.Shared"/> (one ensemble), the threads that share a
    /// node's histograms and split search by feature. The model is the same, bit for bit, whatever the value.</summary>
    /// <value>The default value is 0.</value>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        set => _maxDegreeOfParallelism = InRange(value, 0, 1024, nameof(MaxDegreeOfParallelism));
    }

    /// <summary>The value when it is one of the enum's names; otherwise an error listing them ("Loss must be SquaredError or AbsoluteError.").</summary>
    private static T Defined<T>(T value, string name)
        where T : struct, Enum =>
        Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be {string.Join(" or ", Enum.GetNames<T>())}.");

    private static int InRange(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in [{min}, {max}].");
        }

        return value;
    }
}

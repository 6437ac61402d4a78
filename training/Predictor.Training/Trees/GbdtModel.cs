using Predictor.Training.Features;

namespace Predictor.Training.Trees;

/// <summary>
/// A fitted direct multi-horizon tree ensemble: for each horizon step h, a base value plus a sum of regression trees
/// over the feature row of <see cref="SupervisedWindows"/> (window oldest first, then calendar) — the trees of step h
/// alone (<see cref="GbdtTreeLayout.PerStep"/>), or every tree, each leaf holding one value per step
/// (<see cref="GbdtTreeLayout.Shared"/>). With <see cref="PredictDifference"/> the sum is the change from the last
/// observation, which is added back.
/// Nodes of all trees live in flat arrays (no object per node); a split sends a row left when
/// <c>row[feature] ≤ threshold</c> in float32, exactly as ONNX's BRANCH_LEQ, so the exported graph computes the same.
/// </summary>
public sealed class GbdtModel
{
    // Per node: split feature (−1 for a leaf), float threshold, absolute child indices, and the leaf values (learning
    // rate applied; one per node with per-step trees, H per node with shared trees, at node·H). Per tree: its root
    // node and, with per-step trees, the horizon step it adds to.
    private readonly int[] _feature;
    private readonly float[] _threshold;
    private readonly int[] _left;
    private readonly int[] _right;
    private readonly float[] _value;
    private readonly int[] _treeRoot;
    private readonly int[] _treeHorizon;
    private readonly float[] _baseValues;
    private readonly int[] _treesPerHorizon;

    internal GbdtModel(
        TreeFeatures features,
        int calendarWidth,
        int horizon,
        bool predictDifference,
        GbdtTreeLayout layout,
        float[] baseValues,
        int[] treesPerHorizon,
        int[] treeRoot,
        int[] treeHorizon,
        int[] feature,
        float[] threshold,
        int[] left,
        int[] right,
        float[] value)
    {
        Features = features;
        CalendarWidth = calendarWidth;
        Horizon = horizon;
        PredictDifference = predictDifference;
        Layout = layout;
        LeafWidth = layout == GbdtTreeLayout.Shared ? horizon : 1;
        _baseValues = baseValues;
        _treeRoot = treeRoot;
        _treeHorizon = treeHorizon;
        _feature = feature;
        _threshold = threshold;
        _left = left;
        _right = right;
        _value = value;
        _treesPerHorizon = treesPerHorizon;
    }

    /// <summary>How the row's window part is read from the model's input window (season moves, then lags).</summary>
    public TreeFeatures Features { get; }

    /// <summary>W, observations the model reads (its input <c>window</c>), oldest first.</summary>
    public int Window => Features.Window;

    /// <summary>C, calendar features after the window (0 or <see cref="Engine.Forecasting.CalendarFeatures.Width"/>).</summary>
    public int CalendarWidth { get; }

    /// <summary>H, forecast steps.</summary>
    public int Horizon { get; }

    /// <summary>Floats per row: <see cref="TreeFeatures.Width"/> + C (W + C with plain features).</summary>
    public int FeatureWidth => Features.Width + CalendarWidth;

    /// <summary>Whether the trees predict <c>x(t+h) − x(t)</c> and <c>x(t)</c> (the last window value) is added back.</summary>
    public bool PredictDifference { get; }

    /// <summary>How the trees are laid out over the steps: an ensemble per step, or shared multi-output trees.</summary>
    public GbdtTreeLayout Layout { get; }

    /// <summary>Trees in all horizon steps (with shared trees, the boosting rounds kept: each tree serves every step).</summary>
    public int TreeCount => _treeRoot.Length;

    /// <summary>Nodes (splits and leaves) in all trees.</summary>
    public int NodeCount => _feature.Length;

    /// <summary>Trees kept per horizon step (early stopping may keep fewer than the maximum). With shared trees, step h
    /// reads the first <c>TreesPerHorizon[h]</c> trees (its best validation round) and its values in the later ones
    /// are 0 (not exported); the largest of them is <see cref="TreeCount"/>.</summary>
    public IReadOnlyList<int> TreesPerHorizon => _treesPerHorizon;

    /// <summary>Per-step starting value of the sum (mean training target; median under absolute loss), before any tree.</summary>
    public IReadOnlyList<float> BaseValues => _baseValues;

    internal ReadOnlySpan<int> NodeFeatures => _feature;

    internal ReadOnlySpan<float> NodeThresholds => _threshold;

    internal ReadOnlySpan<int> NodeLeft => _left;

    internal ReadOnlySpan<int> NodeRight => _right;

    /// <summary>Values per leaf: 1 (per-step trees) or H (shared trees).</summary>
    internal int LeafWidth { get; }

    /// <summary>Per node, <see cref="LeafWidth"/> values (meaningful at leaves).</summary>
    internal ReadOnlySpan<float> NodeValues => _value;

    internal ReadOnlySpan<int> TreeRoots => _treeRoot;

    /// <summary>Per tree, the step it adds to (per-step trees); empty with shared trees.</summary>
    internal ReadOnlySpan<int> TreeHorizons => _treeHorizon;

    /// <summary>
    /// Forecasts steps 1..H for one feature row. Allocates nothing. Each step sums its trees (or its value in every
    /// shared tree's leaf, 0 after its best round, which adds nothing) in tree order in
    /// float32, then adds its base value and the last window value, as ONNX Runtime's TreeEnsembleRegressor followed by Add does.
    /// </summary>
    /// <param name="row"><see cref="FeatureWidth"/> floats: the window part (<see cref="TreeFeatures.Fill"/>), then the calendar features.</param>
    /// <param name="horizonOut">H floats, written.</param>
    public void Predict(ReadOnlySpan<float> row, Span<float> horizonOut)
    {
        if (row.Length != FeatureWidth)
        {
            throw new ArgumentException($"The row holds {row.Length} floats; this model reads {FeatureWidth} ({Features.Width} from the window + calendar {CalendarWidth}).", nameof(row));
        }

        if (horizonOut.Length < Horizon)
        {
            throw new ArgumentException($"The output holds {horizonOut.Length} floats; this model forecasts {Horizon} steps.", nameof(horizonOut));
        }

        horizonOut[..Horizon].Clear();
        for (int t = 0; t < _treeRoot.Length; t++)
        {
            int node = _treeRoot[t];
            while (_feature[node] >= 0)
            {
                node = row[_feature[node]] <= _threshold[node] ? _left[node] : _right[node];
            }

            if (LeafWidth == 1)
            {
                horizonOut[_treeHorizon[t]] += _value[node];
            }
            else
            {
                var leaf = _value.AsSpan(node * LeafWidth, LeafWidth);
                for (int h = 0; h < leaf.Length; h++)
                {
                    horizonOut[h] += leaf[h];
                }
            }
        }

        // Trees first, then the base value, then the last observation: the order of ORT's aggregator and graph.
        float last = PredictDifference ? row[Features.Width - 1] : 0f;
        for (int h = 0; h < Horizon; h++)
        {
            horizonOut[h] = horizonOut[h] + _baseValues[h] + last;
        }
    }

    /// <summary>Forecasts every row of <paramref name="data"/>: row-major [Rows, H].</summary>
    public float[] Predict(SupervisedWindows data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var result = new float[data.Rows * Horizon];
        for (int r = 0; r < data.Rows; r++)
        {
            Predict(data.Features.AsSpan(r * data.FeatureWidth, data.FeatureWidth), result.AsSpan(r * Horizon, Horizon));
        }

        return result;
    }
}

using Predictor.Training.Features;

namespace Predictor.Training.Trees;

/// <summary>
/// A fitted direct multi-horizon tree ensemble: for each horizon step h, a base value plus a sum of regression trees
/// over the feature row of <see cref="SupervisedWindows"/> (window oldest first, then calendar). With
/// <see cref="PredictDifference"/> the sum is the change from the last observation, which is added back.
/// Nodes of all trees live in flat arrays (no object per node); a split sends a row left when
/// <c>row[feature] ≤ threshold</c> in float32, exactly as ONNX's BRANCH_LEQ, so the exported graph computes the same.
/// </summary>
public sealed class GbdtModel
{
    // Per node: split feature (−1 for a leaf), float threshold, absolute child indices, and the leaf value (learning
    // rate applied). Per tree: the horizon step it adds to and its root node.
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
        int window,
        int calendarWidth,
        int horizon,
        bool predictDifference,
        float[] baseValues,
        int[] treeRoot,
        int[] treeHorizon,
        int[] feature,
        float[] threshold,
        int[] left,
        int[] right,
        float[] value)
    {
        Window = window;
        CalendarWidth = calendarWidth;
        Horizon = horizon;
        PredictDifference = predictDifference;
        _baseValues = baseValues;
        _treeRoot = treeRoot;
        _treeHorizon = treeHorizon;
        _feature = feature;
        _threshold = threshold;
        _left = left;
        _right = right;
        _value = value;
        _treesPerHorizon = new int[horizon];
        foreach (int h in treeHorizon)
        {
            _treesPerHorizon[h]++;
        }
    }

    /// <summary>W, observations per row, oldest first.</summary>
    public int Window { get; }

    /// <summary>C, calendar features after the window (0 or <see cref="Engine.Forecasting.CalendarFeatures.Width"/>).</summary>
    public int CalendarWidth { get; }

    /// <summary>H, forecast steps.</summary>
    public int Horizon { get; }

    /// <summary>W + C.</summary>
    public int FeatureWidth => Window + CalendarWidth;

    /// <summary>Whether the trees predict <c>x(t+h) − x(t)</c> and <c>x(t)</c> (the last window value) is added back.</summary>
    public bool PredictDifference { get; }

    /// <summary>Trees in all horizon steps.</summary>
    public int TreeCount => _treeRoot.Length;

    /// <summary>Nodes (splits and leaves) in all trees.</summary>
    public int NodeCount => _feature.Length;

    /// <summary>Trees kept per horizon step (early stopping may keep fewer than the maximum).</summary>
    public IReadOnlyList<int> TreesPerHorizon => _treesPerHorizon;

    /// <summary>Per-step starting value of the sum (mean training target), before any tree.</summary>
    public IReadOnlyList<float> BaseValues => _baseValues;

    internal ReadOnlySpan<int> NodeFeatures => _feature;

    internal ReadOnlySpan<float> NodeThresholds => _threshold;

    internal ReadOnlySpan<int> NodeLeft => _left;

    internal ReadOnlySpan<int> NodeRight => _right;

    internal ReadOnlySpan<float> NodeValues => _value;

    internal ReadOnlySpan<int> TreeRoots => _treeRoot;

    internal ReadOnlySpan<int> TreeHorizons => _treeHorizon;

    /// <summary>
    /// Forecasts steps 1..H for one feature row. Allocates nothing. Each step sums its trees in tree order in
    /// float32, then adds its base value and the last window value, as ONNX Runtime's TreeEnsembleRegressor followed by Add does.
    /// </summary>
    /// <param name="row">W + C floats: the window oldest first, then the calendar features.</param>
    /// <param name="horizonOut">H floats, written.</param>
    public void Predict(ReadOnlySpan<float> row, Span<float> horizonOut)
    {
        if (row.Length != FeatureWidth)
        {
            throw new ArgumentException($"The row holds {row.Length} floats; this model reads {FeatureWidth} (window {Window} + calendar {CalendarWidth}).", nameof(row));
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

            horizonOut[_treeHorizon[t]] += _value[node];
        }

        // Trees first, then the base value, then the last observation: the order of ORT's aggregator and graph.
        float last = PredictDifference ? row[Window - 1] : 0f;
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

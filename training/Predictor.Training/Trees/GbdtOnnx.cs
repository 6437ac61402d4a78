using System.Globalization;
using Predictor.Engine;
using Predictor.Training.Features;
using Predictor.Training.Onnx;

namespace Predictor.Training.Trees;

/// <summary>
/// Exports a <see cref="GbdtModel"/> as a contract model: the feature row (<c>Concat(window, calendar)</c>, or with
/// <see cref="TreeFeatures"/> that are not plain, <c>Concat(Sub(Slice(window, 1..M), Slice(window, 0)),
/// Slice(window, W−L..W−1), calendar)</c>) →
/// <c>ai.onnx.ml.TreeEnsembleRegressor</c> (opset 3, n_targets = H, SUM, base values per step) → [+ <c>x(t)</c>,
/// sliced from window column W−1, when the trees predict differences] → <c>forecast</c>; <c>upper</c> =
/// <c>forecast</c> + the per-step conformal offsets. A leaf of a per-step tree carries one target weight (its step);
/// a leaf of a shared tree carries one per step the tree counts for (the steps whose best round it does not follow).
/// Splits are BRANCH_LEQ on the model's own float thresholds, so
/// ONNX Runtime takes every branch <see cref="GbdtModel.Predict(ReadOnlySpan{float}, Span{float})"/> takes.
/// </summary>
public static class GbdtOnnx
{
    /// <summary>The card kind of boosted-tree models.</summary>
    public const string Kind = "gbdt";

    /// <summary>Card key: trees in the ensemble (all steps; with shared trees, the rounds).</summary>
    public const string TreesKey = "predictor.gbdt.trees";

    /// <summary>Card key: "true" when the trees predict x(t+h) − x(t) and the graph adds x(t) back.</summary>
    public const string PredictDifferenceKey = "predictor.gbdt.predict_difference";

    /// <summary>Card key: L, the last observations the trees read (<see cref="TreeFeatures.Lags"/>).</summary>
    public const string LagsKey = "predictor.gbdt.lags";

    /// <summary>Card key: M, the season moves the trees read (<see cref="TreeFeatures.SeasonMoves"/>; 0 = none).</summary>
    public const string SeasonMovesKey = "predictor.gbdt.season_moves";

    /// <summary>The ai.onnx.ml opset of TreeEnsembleRegressor used (3: float thresholds, every ORT since 1.9 runs it).</summary>
    public const int MlOpset = 3;

    /// <summary>Serializes <paramref name="model"/> (deterministic bytes).</summary>
    /// <param name="model">The fitted model.</param>
    /// <param name="card">Its card: kind <see cref="Kind"/>, window and horizon those of the model.</param>
    /// <param name="upperOffsets">H finite offsets (split-conformal quantiles of backtest residuals), step 1 first.</param>
    public static byte[] Export(GbdtModel model, ModelCard card, ReadOnlySpan<float> upperOffsets)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(card);
        if (card.Kind != Kind)
        {
            throw new PredictorException($"The card says kind '{card.Kind}' but this exporter writes '{Kind}'; set Kind = \"{Kind}\".");
        }

        if (card.Window != model.Window || card.Horizon != model.Horizon)
        {
            throw new PredictorException(
                $"The card says window {card.Window} and horizon {card.Horizon} but the model was fitted with window {model.Window} and horizon {model.Horizon}; build the card from the model.");
        }

        var extra = new Dictionary<string, string>(card.Extra, StringComparer.Ordinal)
        {
            [TreesKey] = model.TreeCount.ToString(CultureInfo.InvariantCulture),
            [PredictDifferenceKey] = model.PredictDifference ? "true" : "false",
            [LagsKey] = model.Features.Lags.ToString(CultureInfo.InvariantCulture),
            [SeasonMovesKey] = model.Features.SeasonMoves.ToString(CultureInfo.InvariantCulture),
        };
        var builder = new ContractModelBuilder(card with { Extra = extra }, model.CalendarWidth > 0);
        return GraphBuilder.Serialize(builder.Build(Emit(builder, "", model), upperOffsets));
    }

    /// <summary>
    /// Emits the trees as a branch of <paramref name="builder"/>'s graph (names prefixed with <paramref name="prefix"/>);
    /// returns the name of the [N, H] forecast. The graph's W may exceed the model's: the branch then reads the
    /// model's features from the window's last W_model columns, so the trees see the same row <see cref="GbdtModel.Predict(ReadOnlySpan{float}, Span{float})"/> does.
    /// </summary>
    internal static string Emit(ContractModelBuilder builder, string prefix, GbdtModel model)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(model);
        int graphWindow = builder.Card.Window;
        if (graphWindow < model.Window || builder.Card.Horizon != model.Horizon || (model.CalendarWidth > 0 && builder.CalendarInput is null))
        {
            throw new InvalidOperationException(
                $"A tree branch of W = {model.Window}, H = {model.Horizon} cannot sit in a model of W = {graphWindow}, H = {builder.Card.Horizon}{(builder.CalendarInput is null ? " without a calendar" : "")}.");
        }

        var g = builder.Graph;
        g.UseOpset(GraphBuilder.MlDomain, MlOpset);
        var rowFeatures = model.Features;
        string features;
        if (prefix.Length == 0 && graphWindow == model.Window && rowFeatures == TreeFeatures.Plain(model.Window))
        {
            // The stand-alone model of plain features: exactly the graph GbdtOnnx.Export has always written.
            features = builder.FeatureRow();
        }
        else
        {
            // The row of TreeFeatures.Fill, from the model's W columns at the end of the graph's window: season moves
            // (columns 1..M minus column 0), the last L columns, then the calendar.
            int offset = graphWindow - model.Window;
            var parts = new List<string>(3);
            if (rowFeatures.SeasonMoves > 0)
            {
                string later = EmitColumns(g, builder.WindowInput, offset + 1, rowFeatures.SeasonMoves, prefix + "season_later");
                string start = EmitColumns(g, builder.WindowInput, offset, 1, prefix + "season_start");
                g.AddNode("Sub", [later, start], [prefix + "season_moves"]);
                parts.Add(prefix + "season_moves");
            }

            string lags = builder.WindowInput;
            if (rowFeatures.Lags < graphWindow)
            {
                lags = EmitColumns(g, lags, graphWindow - rowFeatures.Lags, rowFeatures.Lags, prefix + "window_tail");
            }

            parts.Add(lags);
            if (model.CalendarWidth > 0)
            {
                parts.Add(builder.CalendarInput!);
            }

            features = parts[0];
            if (parts.Count > 1)
            {
                features = prefix + "features";
                g.AddNode("Concat", [.. parts], [features], GraphBuilder.OnnxDomain, OnnxAttributes.Int("axis", 1));
            }
        }

        string sum = prefix + (model.PredictDifference ? "tree_change" : "tree_forecast");
        g.AddNode("TreeEnsembleRegressor", [features], [sum], GraphBuilder.MlDomain, [.. Attributes(model)]);
        string forecast = sum;
        if (model.PredictDifference)
        {
            string last = EmitColumns(g, builder.WindowInput, graphWindow - 1, 1, prefix + "last_value");
            g.AddNode("Add", [sum, last], [prefix + "tree_forecast"]);
            forecast = prefix + "tree_forecast";
        }

        return forecast;
    }

    /// <summary>
    /// Emits columns <paramref name="from"/> … + <paramref name="count"/> − 1 of the [N, W] tensor
    /// <paramref name="input"/> as <c>Slice</c> on axis 1 (starts, ends, axes as initializers, opset ≥ 10); returns
    /// <paramref name="name"/>. Slice copies each row's run at once, where Gather of the same columns costs ONNX
    /// Runtime 1.30 a division and a 4-byte copy per element (README, "Tree budget").
    /// </summary>
    private static string EmitColumns(GraphBuilder g, string input, long from, long count, string name)
    {
        string starts = g.AddInitializer(name + "_starts", [from], 1);
        string ends = g.AddInitializer(name + "_ends", [from + count], 1);
        string axes = g.AddInitializer(name + "_axes", [1L], 1);
        g.AddNode("Slice", [input, starts, ends, axes], [name]);
        return name;
    }

    private static List<Onnx.Proto.AttributeProto> Attributes(GbdtModel model)
    {
        var feature = model.NodeFeatures;
        var threshold = model.NodeThresholds;
        var left = model.NodeLeft;
        var right = model.NodeRight;
        var value = model.NodeValues;
        var roots = model.TreeRoots;
        var horizons = model.TreeHorizons;
        int width = model.LeafWidth;
        var perStep = model.TreesPerHorizon;

        var treeIds = new List<long>();
        var nodeIds = new List<long>();
        var featureIds = new List<long>();
        var values = new List<float>();
        var modes = new List<string>();
        var trueIds = new List<long>();
        var falseIds = new List<long>();
        var targetIds = new List<long>();
        var targetNodeIds = new List<long>();
        var targetTreeIds = new List<long>();
        var targetWeights = new List<float>();
        if (roots.Length == 0)
        {
            // No tree (a constant series): one leaf that adds nothing keeps the operator well-formed.
            treeIds.Add(0);
            nodeIds.Add(0);
            featureIds.Add(0);
            values.Add(0);
            modes.Add("LEAF");
            trueIds.Add(0);
            falseIds.Add(0);
            targetIds.Add(0);
            targetNodeIds.Add(0);
            targetTreeIds.Add(0);
            targetWeights.Add(0);
        }

        for (int t = 0; t < roots.Length; t++)
        {
            // A tree's nodes are contiguous and its root comes first, so local id = index − root (0, 1, 2, ...).
            int root = roots[t];
            int end = t + 1 < roots.Length ? roots[t + 1] : feature.Length;
            for (int i = root; i < end; i++)
            {
                treeIds.Add(t);
                nodeIds.Add(i - root);
                if (feature[i] >= 0)
                {
                    featureIds.Add(feature[i]);
                    values.Add(threshold[i]);
                    modes.Add("BRANCH_LEQ");
                    trueIds.Add(left[i] - root);
                    falseIds.Add(right[i] - root);
                }
                else
                {
                    featureIds.Add(0);
                    values.Add(0);
                    modes.Add("LEAF");
                    trueIds.Add(0);
                    falseIds.Add(0);

                    // One weight per step the leaf serves: its own step (per-step trees), or every step whose best
                    // round comes after this tree (shared; the others' values here are 0 and are left out).
                    for (int k = 0; k < width; k++)
                    {
                        if (width > 1 && t >= perStep[k])
                        {
                            continue;
                        }

                        targetIds.Add(width == 1 ? horizons[t] : k);
                        targetNodeIds.Add(i - root);
                        targetTreeIds.Add(t);
                        targetWeights.Add(value[(i * width) + k]);
                    }
                }
            }
        }

        var baseValues = new float[model.Horizon];
        for (int h = 0; h < model.Horizon; h++)
        {
            baseValues[h] = model.BaseValues[h];
        }

        return
        [
            OnnxAttributes.String("aggregate_function", "SUM"),
            OnnxAttributes.Floats("base_values", baseValues),
            OnnxAttributes.Int("n_targets", model.Horizon),
            OnnxAttributes.Ints("nodes_falsenodeids", [.. falseIds]),
            OnnxAttributes.Ints("nodes_featureids", [.. featureIds]),
            // NaN fails x ≤ threshold and goes to the false (right) child, as in GbdtModel.Predict.
            OnnxAttributes.Ints("nodes_missing_value_tracks_true", new long[treeIds.Count]),
            OnnxAttributes.Strings("nodes_modes", [.. modes]),
            OnnxAttributes.Ints("nodes_nodeids", [.. nodeIds]),
            OnnxAttributes.Ints("nodes_treeids", [.. treeIds]),
            OnnxAttributes.Ints("nodes_truenodeids", [.. trueIds]),
            OnnxAttributes.Floats("nodes_values", [.. values]),
            OnnxAttributes.String("post_transform", "NONE"),
            OnnxAttributes.Ints("target_ids", [.. targetIds]),
            OnnxAttributes.Ints("target_nodeids", [.. targetNodeIds]),
            OnnxAttributes.Ints("target_treeids", [.. targetTreeIds]),
            OnnxAttributes.Floats("target_weights", [.. targetWeights]),
        ];
    }
}

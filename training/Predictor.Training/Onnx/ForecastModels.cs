using System.Globalization;
using Predictor.Engine;
using Predictor.Training.Onnx.Proto;

namespace Predictor.Training.Onnx;

/// <summary>
/// Writes forecasting models as ONNX files that honour the model contract. Each method returns the model's bytes
/// (deterministic: the same arguments give the same bytes); <see cref="WriteFile"/> stores them.
/// </summary>
public static class ForecastModels
{
    /// <summary>Kind of the last-value model.</summary>
    public const string NaiveKind = "naive";

    /// <summary>Kind of the one-season-ago model.</summary>
    public const string SeasonalNaiveKind = "seasonal_naive";

    /// <summary>Kind of a plain linear map (forecast = features · A + b).</summary>
    public const string LinearKind = "linear";

    /// <summary>Card key holding the season length (in steps) of a seasonal-naive model.</summary>
    public const string SeasonKey = "predictor.season";

    /// <summary>
    /// Naive: every step forecasts the last observation x(t). Built as a <c>Gather</c> of window column W−1,
    /// repeated H times, rather than a MatMul with a 0/1 selection matrix: the gather copies the value exactly,
    /// and a NaN or ±∞ elsewhere in the window cannot leak into the forecast (a MatMul would compute 0·NaN = NaN).
    /// </summary>
    /// <param name="card">The card; its kind must be <see cref="NaiveKind"/>.</param>
    /// <param name="upperOffsets">H offsets added to the forecast to give <c>upper</c>.</param>
    public static byte[] Naive(ModelCard card, ReadOnlySpan<float> upperOffsets)
    {
        ArgumentNullException.ThrowIfNull(card);
        RequireKind(card, NaiveKind);
        var indices = new long[card.Horizon];
        Array.Fill(indices, card.Window - 1);
        return GraphBuilder.Serialize(GatherModel(card, indices, upperOffsets));
    }

    /// <summary>
    /// Seasonal naive: step h forecasts the value one season ago, x(t + h − S·⌈h/S⌉), gathered from the window
    /// (index W − 1 + h − S·⌈h/S⌉). Needs W ≥ S. The season is recorded in the card under <see cref="SeasonKey"/>.
    /// </summary>
    /// <param name="card">The card; its kind must be <see cref="SeasonalNaiveKind"/>.</param>
    /// <param name="season">S, the season length in steps (≥ 1, ≤ W).</param>
    /// <param name="upperOffsets">H offsets added to the forecast to give <c>upper</c>.</param>
    public static byte[] SeasonalNaive(ModelCard card, int season, ReadOnlySpan<float> upperOffsets)
    {
        ArgumentNullException.ThrowIfNull(card);
        RequireKind(card, SeasonalNaiveKind);
        if (season < 1 || season > card.Window)
        {
            throw new PredictorException(
                $"Seasonal naive: season {season} steps does not fit window {card.Window}; the window must hold at least one season (use a window ≥ {Math.Max(season, 1)} or a shorter season).");
        }

        var indices = SeasonalIndices(card.Window, card.Horizon, season);
        var extra = new Dictionary<string, string>(card.Extra, StringComparer.Ordinal) { [SeasonKey] = season.ToString(CultureInfo.InvariantCulture) };
        return GraphBuilder.Serialize(GatherModel(card with { Extra = extra }, indices, upperOffsets));
    }

    /// <summary>
    /// A linear map: <c>forecast = features · A + b</c> with features = window (then calendar when
    /// <paramref name="withCalendar"/>, as in <see cref="Features.SupervisedWindows"/>), exported as MatMul + Add.
    /// </summary>
    /// <param name="card">The card (any kind whose forecast is linear: linear, ridge, ssa, ...).</param>
    /// <param name="weights">A, row-major [F, H] with F = W (+ C with a calendar).</param>
    /// <param name="bias">b, H values.</param>
    /// <param name="withCalendar">Whether the model takes the <c>calendar</c> input.</param>
    /// <param name="upperOffsets">H offsets added to the forecast to give <c>upper</c>.</param>
    public static byte[] Linear(ModelCard card, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, bool withCalendar, ReadOnlySpan<float> upperOffsets) =>
        Linear(card, weights, bias, withCalendar, WindowNormalization.None, upperOffsets);

    /// <summary>
    /// A linear map applied to the per-window normalised window (see <see cref="WindowNormalization"/>):
    /// with μ the window mean and s = std + ε (or s = 1 for <see cref="WindowNormalization.Level"/>),
    /// <c>forecast = ([(window − μ)/s, calendar] · A + b) · s + μ</c>. One model then serves series of any level
    /// (and scale). Exported as ReduceMean, Sub, (Mul, ReduceMean, Sqrt, Add, Div,) Concat, MatMul, Add, (Mul,) Add.
    /// </summary>
    /// <param name="card">The card.</param>
    /// <param name="weights">A, row-major [F, H] with F = W (+ C with a calendar), acting on normalised features.</param>
    /// <param name="bias">b, H values, in normalised units.</param>
    /// <param name="withCalendar">Whether the model takes the <c>calendar</c> input.</param>
    /// <param name="normalization">Which per-window normalisation the graph applies.</param>
    /// <param name="upperOffsets">H offsets (series units) added to the forecast to give <c>upper</c>.</param>
    public static byte[] Linear(ModelCard card, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, bool withCalendar, WindowNormalization normalization, ReadOnlySpan<float> upperOffsets)
    {
        ArgumentNullException.ThrowIfNull(card);
        var builder = new ContractModelBuilder(card, withCalendar);
        string result = EmitLinear(builder, "", weights, bias, withCalendar, normalization);
        return GraphBuilder.Serialize(builder.Build(result, upperOffsets));
    }

    /// <summary>
    /// The mean of several member forecasts, each a branch of the same graph reading the same inputs
    /// (<c>Sum</c> of the members' [N, H] outputs, times 1/k). Members emit their nodes with a prefix <c>m{i}_</c>.
    /// </summary>
    internal static byte[] Mean(ModelCard card, bool withCalendar, IReadOnlyList<Func<ContractModelBuilder, string, string>> members, ReadOnlySpan<float> upperOffsets)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count < 2)
        {
            throw new ArgumentException("A mean needs at least two members.", nameof(members));
        }

        var builder = new ContractModelBuilder(card, withCalendar);
        return GraphBuilder.Serialize(builder.Build(EmitMean(builder, "", members), upperOffsets));
    }

    /// <summary>Emits the mean of <paramref name="members"/> (branches <c>{prefix}m{i}_</c>) into a graph; returns the [N, H] output's name.</summary>
    internal static string EmitMean(ContractModelBuilder builder, string prefix, IReadOnlyList<Func<ContractModelBuilder, string, string>> members)
    {
        var outputs = members.Select((emit, i) => emit(builder, $"{prefix}m{i}_")).ToArray();
        var g = builder.Graph;
        g.AddNode("Sum", outputs, [prefix + "members_sum"]);
        string k = g.AddInitializer(prefix + "members_inverse_count", [1f / members.Count], 1);
        g.AddNode("Mul", [prefix + "members_sum", k], [prefix + "members_mean"]);
        return prefix + "members_mean";
    }

    /// <summary>Emits <c>Gather(window, indices)</c> on axis 1; returns the [N, H] output's name.</summary>
    internal static string EmitGather(ContractModelBuilder builder, string prefix, long[] indices)
    {
        var g = builder.Graph;
        string idx = g.AddInitializer(prefix + "gather_indices", indices, indices.Length);
        g.AddNode("Gather", [builder.WindowInput, idx], [prefix + "gathered"], GraphBuilder.OnnxDomain, OnnxAttributes.Int("axis", 1));
        return prefix + "gathered";
    }

    /// <summary>Emits the normalised linear map of <see cref="Linear(ModelCard, ReadOnlySpan{float}, ReadOnlySpan{float}, bool, WindowNormalization, ReadOnlySpan{float})"/>; returns the [N, H] output's name.</summary>
    internal static string EmitLinear(ContractModelBuilder builder, string prefix, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, bool withCalendar, WindowNormalization normalization)
    {
        var card = builder.Card;
        if (withCalendar && builder.CalendarInput is null)
        {
            throw new InvalidOperationException("A linear branch that reads the calendar needs a model declaring the calendar input.");
        }

        int f = card.Window + (withCalendar ? Predictor.Engine.Forecasting.CalendarFeatures.Width : 0);
        int h = card.Horizon;
        if (weights.Length != f * h || bias.Length != h)
        {
            throw new PredictorException(
                $"Linear model '{card.Kind}': weights hold {weights.Length} values and bias {bias.Length}; a [{f}×{h}] map needs {f * h} weights and {h} biases.");
        }

        var g = builder.Graph;
        string window = builder.WindowInput;
        string? mean = null, scale = null;
        if (normalization != WindowNormalization.None)
        {
            var reduce = new[] { OnnxAttributes.Ints("axes", 1), OnnxAttributes.Int("keepdims", 1) };
            mean = prefix + "window_mean";
            g.AddNode("ReduceMean", [window], [mean], GraphBuilder.OnnxDomain, reduce);
            g.AddNode("Sub", [window, mean], [prefix + "window_centered"]);
            window = prefix + "window_centered";
            if (normalization == WindowNormalization.LevelAndScale)
            {
                string eps = g.AddInitializer(prefix + "scale_epsilon", [WindowNormalizer.Epsilon], 1);
                g.AddNode("Mul", [window, window], [prefix + "window_squares"]);
                g.AddNode("ReduceMean", [prefix + "window_squares"], [prefix + "window_variance"], GraphBuilder.OnnxDomain, reduce);
                g.AddNode("Sqrt", [prefix + "window_variance"], [prefix + "window_std"]);
                g.AddNode("Add", [prefix + "window_std", eps], [prefix + "window_scale"]);
                g.AddNode("Div", [window, prefix + "window_scale"], [prefix + "window_normalized"]);
                scale = prefix + "window_scale";
                window = prefix + "window_normalized";
            }
        }

        string features = window;
        if (withCalendar)
        {
            features = prefix + "features";
            g.AddNode("Concat", [window, builder.CalendarInput!], [features], GraphBuilder.OnnxDomain, OnnxAttributes.Int("axis", 1));
        }

        string a = g.AddInitializer(prefix + "weights", weights, f, h);
        string b = g.AddInitializer(prefix + "bias", bias, h);
        g.AddNode("MatMul", [features, a], [prefix + "linear"]);
        g.AddNode("Add", [prefix + "linear", b], [prefix + "linear_biased"]);
        string result = prefix + "linear_biased";
        if (scale is not null)
        {
            g.AddNode("Mul", [result, scale], [prefix + "linear_rescaled"]);
            result = prefix + "linear_rescaled";
        }

        if (mean is not null)
        {
            g.AddNode("Add", [result, mean], [prefix + "linear_relevelled"]);
            result = prefix + "linear_relevelled";
        }

        return result;
    }

    /// <summary>Writes model bytes to <paramref name="path"/> (through a temporary file, so a reader never sees half a model).</summary>
    public static void WriteFile(string path, byte[] modelBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(modelBytes);
        string full = Path.GetFullPath(path);
        string temp = full + ".tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(temp, modelBytes);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing half-written is left beside the target: the temporary file goes, the target is as it was.
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The temporary file could not be created or cannot be removed; the error below is the one that matters.
            }

            throw new PredictorException($"Cannot write model '{full}': {ex.Message.TrimEnd('.')}. Check that it is a file path in a writable directory.", ex);
        }
    }

    /// <summary>Window indices (0 = oldest) that seasonal naive reads for steps 1..H.</summary>
    internal static long[] SeasonalIndices(int window, int horizon, int season)
    {
        var indices = new long[horizon];
        for (int h = 1; h <= horizon; h++)
        {
            int seasonsBack = (h + season - 1) / season; // ⌈h/S⌉ ≥ 1, so the index is always ≤ W − 1
            indices[h - 1] = window - 1 + h - (season * seasonsBack);
        }

        return indices;
    }

    private static ModelProto GatherModel(ModelCard card, long[] indices, ReadOnlySpan<float> upperOffsets)
    {
        var builder = new ContractModelBuilder(card, withCalendar: false);
        return builder.Build(EmitGather(builder, "", indices), upperOffsets);
    }

    private static void RequireKind(ModelCard card, string kind)
    {
        if (card.Kind != kind)
        {
            throw new PredictorException($"The card says kind '{card.Kind}' but this writer builds '{kind}'; set Kind = \"{kind}\".");
        }
    }
}

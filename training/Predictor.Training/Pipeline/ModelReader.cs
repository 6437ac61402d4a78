using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using Predictor.Engine;
using Predictor.Engine.Onnx;
using Predictor.Training.Models;
using Predictor.Training.Onnx;
using Predictor.Training.Onnx.Proto;

namespace Predictor.Training.Pipeline;

/// <summary>
/// Reads back a model this writer produced: its card and <c>upper</c> offsets (<see cref="ReadCard"/>), and, for
/// the kinds whose graph it understands, a C# forecaster (naive and seasonal naive from the card, linear maps and
/// combinations from their initializers and normalisation nodes), which tests compare with ONNX Runtime's output.
/// </summary>
internal static class ModelReader
{
    /// <summary>A model read back: card, forecaster and the <c>upper</c> offsets it ships.</summary>
    public sealed record LoadedModel(ModelCard Card, IPointForecaster Forecaster, double[] UpperOffsets);

    /// <summary>The card and the shipped <c>upper</c> offsets only (any graph of the contract builder).</summary>
    public static (ModelCard Card, double[] UpperOffsets) ReadCard(byte[] bytes, string source)
    {
        var model = Parse(bytes, source);
        var card = ModelCard.FromMetadata(model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)), source);
        var offsets = model.Graph.Initializer.FirstOrDefault(t => t.Name == "upper_offsets");
        return (card, offsets is null ? new double[card.Horizon] : [.. Floats(offsets).Select(v => (double)v)]);
    }

    public static LoadedModel Read(byte[] bytes, string source)
    {
        var model = Parse(bytes, source);
        var card = ModelCard.FromMetadata(model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)), source);
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        double[] offsets = initializers.TryGetValue("upper_offsets", out var o) ? [.. Floats(o).Select(v => (double)v)] : new double[card.Horizon];
        IPointForecaster forecaster;
        if (card.Kind == ForecastModels.NaiveKind)
        {
            forecaster = new NaiveForecaster(card.Window);
        }
        else if (card.Kind == ForecastModels.SeasonalNaiveKind)
        {
            if (!card.Extra.TryGetValue(ForecastModels.SeasonKey, out string? season) || !int.TryParse(season, NumberStyles.Integer, CultureInfo.InvariantCulture, out int s))
            {
                throw new PredictorException($"{source}: a seasonal_naive model needs '{ForecastModels.SeasonKey}' in its card.");
            }

            forecaster = new SeasonalNaiveForecaster(s);
        }
        else if (card.Kind == CombinationForecaster.CombinationKind)
        {
            string members = card.Extra.GetValueOrDefault(CombinationForecaster.MembersKey)
                ?? throw new PredictorException($"{source}: a combination model needs '{CombinationForecaster.MembersKey}' in its card.");
            int count = members.Split(',').Length;
            forecaster = new CombinationForecaster([.. Enumerable.Range(0, count).Select(i => Branch(model, initializers, card, $"m{i}_", source))], card.Horizon);
        }
        else if (initializers.TryGetValue("weights", out var w) && initializers.TryGetValue("bias", out var b) && model.Graph.Node.Any(n => n.OpType == "MatMul"))
        {
            var ops = model.Graph.Node.Select(n => n.OpType).ToHashSet(StringComparer.Ordinal);
            var normalization = ops.Contains("Sqrt") ? WindowNormalization.LevelAndScale : ops.Contains("ReduceMean") ? WindowNormalization.Level : WindowNormalization.None;
            bool calendar = model.Graph.Input.Any(i => i.Name == ModelContract.CalendarInput);
            forecaster = new LinearMapForecaster(card.Kind, card.Window, card.Horizon, Floats(w), Floats(b), calendar, normalization);
        }
        else
        {
            throw new PredictorException(
                $"{source}: kind '{card.Kind}' is not a graph the offline reader interprets (naive, seasonal_naive, linear maps); score it with ONNX Runtime through the engine instead.");
        }

        return new LoadedModel(card, forecaster, offsets);
    }

    private static ModelProto Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PredictorException($"{source}: not an ONNX model ({ex.Message}); check the path.", ex);
        }

        return model.Graph is null ? throw new PredictorException($"{source}: the ONNX model has no graph.") : model;
    }

    private static IPointForecaster Branch(ModelProto model, Dictionary<string, TensorProto> initializers, ModelCard card, string prefix, string source)
    {
        if (initializers.TryGetValue(prefix + "gather_indices", out var gather))
        {
            var raw = gather.RawData.Span;
            var indices = new long[raw.Length / sizeof(long)];
            for (int i = 0; i < indices.Length; i++)
            {
                indices[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * sizeof(long))..]);
            }

            return new GatherForecaster("gather", card.Window, indices);
        }

        if (initializers.TryGetValue(prefix + "weights", out var w) && initializers.TryGetValue(prefix + "bias", out var b))
        {
            var outputs = model.Graph.Node.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
            var normalization = outputs.Contains(prefix + "window_std") ? WindowNormalization.LevelAndScale
                : outputs.Contains(prefix + "window_mean") ? WindowNormalization.Level : WindowNormalization.None;
            return new LinearMapForecaster("linear", card.Window, card.Horizon, Floats(w), Floats(b), outputs.Contains(prefix + "features"), normalization);
        }

        throw new PredictorException($"{source}: branch '{prefix}' of the combination is neither a gather nor a linear map.");
    }

    private static float[] Floats(TensorProto t)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw new PredictorException($"Initializer '{t.Name}' is not float32.");
        }

        var raw = t.RawData.Span;
        var values = new float[raw.Length / sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
        }

        return values;
    }
}

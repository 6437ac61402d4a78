using System.Globalization;
using System.Text.Json;
using Predictor.Engine;
using Predictor.Engine.Onnx;

namespace Predictor.Training.Onnx;

/// <summary>
/// The model card: what a model is and how it was made, stored in the ONNX file's <c>metadata_props</c> under the
/// keys of <see cref="ModelContract.Card"/>. Numbers are written in the invariant culture with round-trip precision.
/// </summary>
public sealed record ModelCard
{
    /// <summary>Prefix every card key carries; extra entries must carry it too.</summary>
    public const string KeyPrefix = "predictor.";

    /// <summary>Model kind: <c>naive</c>, <c>seasonal_naive</c>, <c>linear</c>, <c>ssa</c>, <c>ridge</c>, <c>gbdt</c>, ...</summary>
    public required string Kind { get; init; }

    /// <summary>W: observations per series the model reads (≥ 1).</summary>
    public required int Window { get; init; }

    /// <summary>H: steps forecast (≥ 1).</summary>
    public required int Horizon { get; init; }

    /// <summary>Seconds between two observations (&gt; 0).</summary>
    public required double StepSeconds { get; init; }

    /// <summary>The quantile <c>upper</c> covers, in (0, 1).</summary>
    /// <value>The default value is 0.9.</value>
    public double Quantile { get; init; } = 0.9;

    /// <summary>Names of the series the model was trained on (written as a JSON array).</summary>
    /// <value>The default value is empty (a model fitted to nothing, such as naive).</value>
    public IReadOnlyList<string> Series { get; init; } = [];

    /// <summary>Backtest metrics against baselines, as a JSON document; omitted when null.</summary>
    /// <value>The default value is null.</value>
    public string? MetricsJson { get; init; }

    /// <summary>Lower-case hex SHA-256 of the training data; omitted when null.</summary>
    /// <value>The default value is null.</value>
    public string? TrainingDataSha256 { get; init; }

    /// <summary>Further entries (keys start with <see cref="KeyPrefix"/>), written after the standard ones in ordinal key order.</summary>
    /// <value>The default value is empty.</value>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    /// <summary>Checks every field; throws <see cref="PredictorException"/> saying which one is wrong and how.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Kind) || Kind.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')))
        {
            throw new PredictorException($"Model card: kind '{Kind}' must be non-empty lower-case ASCII letters, digits or '_' (e.g. 'seasonal_naive').");
        }

        if (Window is < 1 or > ModelContract.MaxWindow || Horizon is < 1 or > ModelContract.MaxHorizon)
        {
            throw new PredictorException($"Model card: window ({Window}) must be from 1 to {ModelContract.MaxWindow} and horizon ({Horizon}) from 1 to {ModelContract.MaxHorizon}.");
        }

        if (!(StepSeconds > 0 && StepSeconds <= ModelContract.MaxStepSeconds))
        {
            throw new PredictorException($"Model card: step_seconds ({StepSeconds}) must be a positive number of seconds, at most {ModelContract.MaxStepSeconds} (a year).");
        }

        if (!(Quantile > 0 && Quantile < 1))
        {
            throw new PredictorException($"Model card: quantile ({Quantile}) must lie strictly between 0 and 1 (e.g. 0.9).");
        }

        if (TrainingDataSha256 is { } sha && (sha.Length != 64 || sha.Any(c => !(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))))
        {
            throw new PredictorException($"Model card: training_data_sha256 '{sha}' must be 64 lower-case hex digits.");
        }

        var standard = new HashSet<string>(StandardKeys, StringComparer.Ordinal);
        foreach (string key in Extra.Keys)
        {
            if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal) || standard.Contains(key))
            {
                throw new PredictorException($"Model card: extra key '{key}' must start with '{KeyPrefix}' and must not be one of the standard keys.");
            }
        }
    }

    /// <summary>
    /// The card as ordered metadata entries: the required keys in <see cref="ModelContract.Card.Required"/> order,
    /// then series, metrics and data hash, then <see cref="Extra"/> in ordinal key order. The order is fixed so the
    /// same card always gives the same bytes.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToMetadata()
    {
        Validate();
        var entries = new List<KeyValuePair<string, string>>();
        foreach (string key in ModelContract.Card.Required)
        {
            entries.Add(new(key, RequiredValue(key)));
        }

        entries.Add(new(ModelContract.Card.Series, JsonSerializer.Serialize(Series)));
        if (MetricsJson is not null)
        {
            entries.Add(new(ModelContract.Card.Metrics, MetricsJson));
        }

        if (TrainingDataSha256 is not null)
        {
            entries.Add(new(ModelContract.Card.TrainingDataSha256, TrainingDataSha256));
        }

        foreach (var key in Extra.Keys.Order(StringComparer.Ordinal))
        {
            entries.Add(new(key, Extra[key]));
        }

        return entries;
    }

    /// <summary>Reads a card back from metadata entries; throws <see cref="PredictorException"/> naming a missing or malformed key.</summary>
    public static ModelCard FromMetadata(IEnumerable<KeyValuePair<string, string>> metadata, string source)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in metadata)
        {
            map[k] = v;
        }

        string Get(string key) => map.TryGetValue(key, out string? v)
            ? v
            : throw new PredictorException($"{source}: the model card lacks '{key}'; write the model with Predictor's ONNX writer or add the key to metadata_props.");

        int GetInt(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new PredictorException($"{source}: card key '{key}' = '{map[key]}' is not an integer.");

        double GetDouble(string key) => double.TryParse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v
            : throw new PredictorException($"{source}: card key '{key}' = '{map[key]}' is not a number.");

        int schema = GetInt(ModelContract.Card.SchemaVersion);
        if (schema != ModelContract.SchemaVersion)
        {
            throw new PredictorException($"{source}: card schema version {schema} is not {ModelContract.SchemaVersion}, the one this build reads; retrain the model with this build.");
        }

        IReadOnlyList<string> series = [];
        if (map.TryGetValue(ModelContract.Card.Series, out string? seriesJson))
        {
            try
            {
                series = JsonSerializer.Deserialize<string[]>(seriesJson) ?? [];
            }
            catch (JsonException ex)
            {
                throw new PredictorException($"{source}: card key '{ModelContract.Card.Series}' is not a JSON array of names ({ex.Message}).", ex);
            }
        }

        var standard = new HashSet<string>(StandardKeys, StringComparer.Ordinal);
        var card = new ModelCard
        {
            Kind = Get(ModelContract.Card.Kind),
            Window = GetInt(ModelContract.Card.Window),
            Horizon = GetInt(ModelContract.Card.Horizon),
            StepSeconds = GetDouble(ModelContract.Card.StepSeconds),
            Quantile = GetDouble(ModelContract.Card.Quantile),
            Series = series,
            MetricsJson = map.GetValueOrDefault(ModelContract.Card.Metrics),
            TrainingDataSha256 = map.GetValueOrDefault(ModelContract.Card.TrainingDataSha256),
            Extra = map.Where(kv => !standard.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        };
        card.Validate();
        return card;
    }

    /// <summary>Value equality that compares the lists and dictionaries by content (records compare them by reference).</summary>
    public bool SameAs(ModelCard other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ToMetadata().SequenceEqual(other.ToMetadata());
    }

    private static IEnumerable<string> StandardKeys =>
        [.. ModelContract.Card.Required, ModelContract.Card.Series, ModelContract.Card.Metrics, ModelContract.Card.TrainingDataSha256];

    private string RequiredValue(string key) => key switch
    {
        ModelContract.Card.Kind => Kind,
        ModelContract.Card.Window => Window.ToString(CultureInfo.InvariantCulture),
        ModelContract.Card.Horizon => Horizon.ToString(CultureInfo.InvariantCulture),
        ModelContract.Card.StepSeconds => StepSeconds.ToString("R", CultureInfo.InvariantCulture),
        ModelContract.Card.Quantile => Quantile.ToString("R", CultureInfo.InvariantCulture),
        ModelContract.Card.SchemaVersion => ModelContract.SchemaVersion.ToString(CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"ModelContract.Card.Required lists '{key}', which this writer does not know; extend ModelCard."),
    };
}

namespace Predictor.Engine.Onnx;

/// <summary>
/// Names of the model contract (DESIGN.md, "The model contract"): the seam between training, which writes ONNX
/// files, and the engine, which loads them. Both sides use these constants; nothing spells the names twice.
/// </summary>
public static class ModelContract
{
    /// <summary>Input: float32 [N, W], the last W observations of N series, oldest first.</summary>
    public const string WindowInput = "window";

    /// <summary>Optional input: float32 [N, C], calendar features of the forecast origin.</summary>
    public const string CalendarInput = "calendar";

    /// <summary>Output: float32 [N, H], point forecasts for steps 1..H.</summary>
    public const string ForecastOutput = "forecast";

    /// <summary>Output: float32 [N, H], upper bound at the card's quantile.</summary>
    public const string UpperOutput = "upper";

    /// <summary>The model card schema this build writes and reads.</summary>
    public const int SchemaVersion = 1;

    /// <summary>The largest window W a model may read (a year of 5-minute steps is 105,120; the engine holds W values per series).</summary>
    public const int MaxWindow = 100_000;

    /// <summary>The largest horizon H a model may forecast.</summary>
    public const int MaxHorizon = 10_000;

    /// <summary>The longest step a model may declare, in seconds: one year (365 days).</summary>
    public const double MaxStepSeconds = 365 * 86_400;

    /// <summary>Keys of the model card, stored in the ONNX model's <c>metadata_props</c>.</summary>
    public static class Card
    {
        /// <summary>Model kind: naive, seasonal_naive, linear, ssa, ridge, gbdt, ...</summary>
        public const string Kind = "predictor.kind";

        /// <summary>W, as a decimal integer.</summary>
        public const string Window = "predictor.window";

        /// <summary>H, as a decimal integer.</summary>
        public const string Horizon = "predictor.horizon";

        /// <summary>Seconds between two observations, as a decimal number (invariant culture).</summary>
        public const string StepSeconds = "predictor.step_seconds";

        /// <summary>The quantile <c>upper</c> covers, in (0, 1), invariant culture.</summary>
        public const string Quantile = "predictor.quantile";

        /// <summary>The series the model was trained on, as a JSON array of names.</summary>
        public const string Series = "predictor.series";

        /// <summary>Backtest metrics against baselines, as JSON.</summary>
        public const string Metrics = "predictor.metrics";

        /// <summary>Lower-case hex SHA-256 of the training data.</summary>
        public const string TrainingDataSha256 = "predictor.training_data_sha256";

        /// <summary>The card schema version, <see cref="ModelContract.SchemaVersion"/>.</summary>
        public const string SchemaVersion = "predictor.schema_version";

        /// <summary>Keys every model must carry; the engine refuses a model that lacks one.</summary>
        public static IReadOnlyList<string> Required { get; } =
            [Kind, Window, Horizon, StepSeconds, Quantile, SchemaVersion];
    }
}

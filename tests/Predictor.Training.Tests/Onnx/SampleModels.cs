using Predictor.Engine.Forecasting;
using Predictor.Training.Onnx;

namespace Predictor.Training.Tests.Onnx;

/// <summary>One model of every kind the writer emits, with fixed parameters, for the round-trip and checker tests.</summary>
internal static class SampleModels
{
    public const int Window = 48;
    public const int Horizon = 12;
    public const int Season = 24;

    public static TheoryData<string> Kinds => ["naive", "seasonal_naive", "linear", "linear_calendar"];

    public static ModelCard Card(string kind) => new()
    {
        Kind = kind,
        Window = Window,
        Horizon = Horizon,
        StepSeconds = 300,
        Quantile = 0.9,
        Series = ["nab/rds_cc0c53", "azure/vm 7"],
        MetricsJson = """{"mase":0.81}""",
        TrainingDataSha256 = new string('a', 64),
    };

    public static float[] Offsets() => [.. Enumerable.Range(1, Horizon).Select(h => 0.5f * h)];

    public static byte[] Build(string kind) => kind switch
    {
        "naive" => ForecastModels.Naive(Card(ForecastModels.NaiveKind), Offsets()),
        "seasonal_naive" => ForecastModels.SeasonalNaive(Card(ForecastModels.SeasonalNaiveKind), Season, Offsets()),
        "linear" => ForecastModels.Linear(Card("linear"), Weights(Window), Bias(), withCalendar: false, Offsets()),
        "linear_calendar" => ForecastModels.Linear(Card("ridge"), Weights(Window + CalendarFeatures.Width), Bias(), withCalendar: true, Offsets()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>A [F, H] map with distinct, exactly representable entries.</summary>
    public static float[] Weights(int features) =>
        [.. Enumerable.Range(0, features * Horizon).Select(i => ((i % 17) - 8) / 64f)];

    public static float[] Bias() => [.. Enumerable.Range(0, Horizon).Select(h => h / 4f)];
}

using System.Globalization;
using Predictor.Engine.Telemetry;
using Predictor.Training.Backtesting;
using Predictor.Training.Data;
using Predictor.Training.Models;
using Predictor.Training.Onnx;

namespace Predictor.Training.Pipeline;

/// <summary>
/// Scores an existing model file on other series, beside the same baselines as training: on each series the last
/// <see cref="TrainingOptions.BacktestShare"/>/2 is the test part (rolling origin every step), the model's own
/// <c>upper</c> offsets are scored as shipped, and the baselines are calibrated on the part before. The model runs
/// on ONNX Runtime through the engine's forecaster, so any graph that fits the contract can be scored.
/// </summary>
public static class ModelEvaluator
{
    /// <summary>Evaluates the model file at <paramref name="path"/> on <paramref name="series"/>.</summary>
    public static IReadOnlyList<SeriesScores> Evaluate(string path, IReadOnlyList<RecordedSeries> series, TrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        return Evaluate(path, _ => series, options);
    }

    /// <summary>
    /// Evaluates the model file at <paramref name="path"/> on the series <paramref name="load"/> returns when given the
    /// model's step: a reader that can average while it reads (the store) need not hold a fine recording whole.
    /// </summary>
    public static IReadOnlyList<SeriesScores> Evaluate(string path, Func<TimeSpan, IReadOnlyList<RecordedSeries>> load, TrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(load);
        var loaded = ModelReader.ReadCard(File.ReadAllBytes(path), path);
        // Data recorded at a finer step is averaged into the model's steps, as the running loop does; coarser data is refused.
        var modelStep = TimeSpan.FromSeconds(loaded.Card.StepSeconds);
        var why = string.Create(CultureInfo.InvariantCulture, $"{path}: the model's step is {loaded.Card.StepSeconds} s. ");
        IReadOnlyList<RecordedSeries> series = [.. load(modelStep).Select(s => ModelTrainer.Setup.AtStep(s, modelStep, why))];
        using var runtime = new OnnxRuntimePointForecaster(path, loaded.Card.Kind);
        options = OptionsFor(loaded.Card, options);
        var setup = ModelTrainer.Setup.From(series, options);

        var backtests = setup.Prepared.Select(p => new Backtest(p, options.Horizon, setup.SeasonSteps, options.BacktestShare)).ToList();
        var table = new List<SeriesScores>();
        var naive = ModelTrainer.Evaluate("naive", "", "baseline", _ => new NaiveForecaster(1), backtests, options);
        var seasonal = ModelTrainer.Evaluate("seasonal_naive", "", "baseline", _ => new SeasonalNaiveForecaster(setup.SeasonSteps), backtests, options);
        var decayed = ModelTrainer.Evaluate("decayed_p" + Math.Round(options.Quantile * 100).ToString(CultureInfo.InvariantCulture), "", "baseline",
            b => new DecayedPercentileForecaster(b.Series.Values.AsSpan(0, b.TrainEnd).ToArray().Max(Math.Abs), options.DecayHalfLife.TotalSeconds / setup.StepSeconds, options.Quantile),
            backtests, options, constantUpper: true);
        for (int i = 0; i < backtests.Count; i++)
        {
            var b = backtests[i];
            double[] residuals = b.Residuals(runtime, b.TestOrigins);
            var modelScore = new ModelScore(loaded.Card.Kind, "model", double.NaN, b.Score(residuals, b.TestOrigins, loaded.UpperOffsets, options.Quantile));
            table.Add(new SeriesScores(b.Series.Name, b.Series.Values.Length, b.Series.FilledCount,
                [modelScore, .. new[] { naive, seasonal, decayed }.Select(e => new ModelScore(e.Kind, e.Role, e.ValidationMase, e.Test[i]))]));
        }

        return table;
    }

    /// <summary>
    /// The options the model file at <paramref name="path"/> is scored with by <see cref="Evaluate(string, Func{TimeSpan, IReadOnlyList{RecordedSeries}}, TrainingOptions?)"/>:
    /// the defaults with the model's own horizon, quantile and window. What <c>evaluate --json</c> records beside the table.
    /// </summary>
    public static TrainingOptions OptionsFor(string path) => OptionsFor(ModelReader.ReadCard(File.ReadAllBytes(path), path).Card, null);

    private static TrainingOptions OptionsFor(ModelCard card, TrainingOptions? options) =>
        (options ?? new TrainingOptions()) with { Horizon = card.Horizon, Quantile = card.Quantile, Window = card.Window, Step = null };
}

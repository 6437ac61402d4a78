using Predictor.Training.Backtesting;
using Predictor.Training.Onnx;

namespace Predictor.Training.Pipeline;

/// <summary>What training produced: the model file's bytes, its card, and the backtest table behind the choice.</summary>
/// <param name="Model">The ONNX model bytes (deterministic for the same data and options).</param>
/// <param name="Card">The card written into the model.</param>
/// <param name="Series">Per-series backtest scores of every candidate and baseline.</param>
public sealed record TrainingResult(byte[] Model, ModelCard Card, IReadOnlyList<SeriesScores> Series)
{
    /// <summary>The selected kind.</summary>
    public string SelectedKind => Card.Kind;
}

/// <summary>Backtest scores on one series.</summary>
/// <param name="Series">Series name.</param>
/// <param name="Points">Points on the regular grid.</param>
/// <param name="Filled">Points that were missing or NaN and were interpolated.</param>
/// <param name="Scores">One row per model, the selected one first, then the other candidates, then the baselines.</param>
public sealed record SeriesScores(string Series, int Points, int Filled, IReadOnlyList<ModelScore> Scores);

/// <summary>One model's scores on one series.</summary>
/// <param name="Model">Kind (with its hyper-parameter, e.g. <c>ssa</c>).</param>
/// <param name="Role"><c>selected</c>, <c>candidate</c> or <c>baseline</c>.</param>
/// <param name="ValidationMase">MASE on the calibration part (what selection compared); NaN for evaluation runs.</param>
/// <param name="Test">Scores on the test part, <c>upper</c> calibrated on the calibration part.</param>
public sealed record ModelScore(string Model, string Role, double ValidationMase, BacktestMetrics Test);

/// <summary>Progress of a training run: a stage name and the fraction done, in [0, 1].</summary>
public readonly record struct TrainingProgress(string Stage, double Fraction);

namespace Predictor.Training.Backtesting;

/// <summary>
/// Scores of one forecaster on one series over a set of rolling origins, averaged over origins and steps 1..H.
/// MASE divides by the in-sample (training part) mean absolute seasonal-naive error, mean |x(t) − x(t−S)|; it is
/// NaN when that error is 0. Pinball loss and coverage score the <c>upper</c> bound at the card's quantile q:
/// pinball = mean max(q·(y − u), (q − 1)·(y − u)); coverage = share of y ≤ u.
/// </summary>
/// <param name="Origins">Number of forecast origins scored.</param>
/// <param name="Mae">Mean absolute error.</param>
/// <param name="Rmse">Root mean squared error.</param>
/// <param name="Smape">Symmetric MAPE in percent, 200·|e|/(|y| + |ŷ|) (0 when both are 0).</param>
/// <param name="Mase">MAE / in-sample seasonal-naive MAE, over all steps.</param>
/// <param name="MaseAtHorizon">MASE of step H alone.</param>
/// <param name="Pinball">Pinball loss of <c>upper</c> at q.</param>
/// <param name="Coverage">Share of actuals at or below <c>upper</c> as the model writes it (static conformal offsets).</param>
/// <param name="TrackedCoverage">
/// Share of actuals at or below <c>upper</c> as the engine serves it: corrected online by
/// <see cref="Predictor.Engine.Forecasting.UpperTracker"/> (default options), replayed over the origins in order from a
/// cold start, each origin seeing only the values up to it.
/// </param>
public sealed record BacktestMetrics(int Origins, double Mae, double Rmse, double Smape, double Mase, double MaseAtHorizon, double Pinball, double Coverage, double TrackedCoverage);

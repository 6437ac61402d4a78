using Predictor.Engine.Forecasting;
using Predictor.Training.Data;
using Predictor.Training.Models;

namespace Predictor.Training.Backtesting;

/// <summary>
/// Rolling-origin evaluation. A series of n points is cut into a training part [0, TrainEnd), a calibration part
/// [TrainEnd, CalibrationEnd) and a test part [CalibrationEnd, n). Forecasters that forecast the calibration part are
/// fitted on the training part only; those that forecast the test part on the training part, or on training +
/// calibration (<see cref="Pipeline.TrainingOptions.RefitBeforeTest"/>). Every origin t whose H targets lie in the
/// calibration part (resp. test part) is forecast from x(0..t). Calibration residuals choose hyper-parameters and the
/// conformal offsets; test residuals give the reported metrics, so the reported numbers come from data that chose nothing.
/// </summary>
internal sealed class Backtest
{
    public Backtest(PreparedSeries series, int horizon, int season, double backtestShare)
    {
        Series = series;
        Horizon = horizon;
        Season = season;
        int n = series.Values.Length;
        int backtest = (int)Math.Round(n * backtestShare);
        TrainEnd = n - backtest;
        CalibrationEnd = TrainEnd + (backtest / 2);
        Scale = SeasonalNaiveScale(series.Values.AsSpan(0, TrainEnd), season);
    }

    public PreparedSeries Series { get; }

    public int Horizon { get; }

    public int Season { get; }

    /// <summary>End (exclusive) of the training part.</summary>
    public int TrainEnd { get; }

    /// <summary>End (exclusive) of the calibration part; the test part runs to the end.</summary>
    public int CalibrationEnd { get; }

    /// <summary>In-sample mean |x(t) − x(t−S)| on the training part: the MASE denominator.</summary>
    public double Scale { get; }

    /// <summary>Origins whose targets lie in the calibration part.</summary>
    public (int First, int Last) CalibrationOrigins => (TrainEnd - 1, CalibrationEnd - Horizon - 1);

    /// <summary>Origins whose targets lie in the test part.</summary>
    public (int First, int Last) TestOrigins => (CalibrationEnd - 1, Series.Values.Length - Horizon - 1);

    /// <summary>Residuals (actual − forecast), [origins × H] row-major, for origins first..last.</summary>
    public double[] Residuals(IPointForecaster forecaster, (int First, int Last) origins)
    {
        var values = Series.Values;
        int count = Math.Max(0, origins.Last - origins.First + 1);
        var residuals = new double[count * Horizon];
        var forecast = new double[Horizon];
        for (int i = 0; i < count; i++)
        {
            int t = origins.First + i;
            forecaster.Forecast(values.AsSpan(0, t + 1), Series.Timestamps[t], forecast);
            for (int h = 0; h < Horizon; h++)
            {
                residuals[(i * Horizon) + h] = values[t + 1 + h] - forecast[h];
            }
        }

        return residuals;
    }

    /// <summary>Per origin, mean |residual| over the H steps ÷ <see cref="Scale"/> (that origin's MASE; NaN when the scale is 0).</summary>
    public double[] OriginLosses(ReadOnlySpan<double> residuals)
    {
        int count = residuals.Length / Horizon;
        var losses = new double[count];
        for (int i = 0; i < count; i++)
        {
            double abs = 0;
            for (int h = 0; h < Horizon; h++)
            {
                abs += Math.Abs(residuals[(i * Horizon) + h]);
            }

            losses[i] = Scale > 0 ? abs / Horizon / Scale : double.NaN;
        }

        return losses;
    }

    /// <summary>Scores residuals of origins first..last, with <c>upper</c> = forecast + offsets.</summary>
    public BacktestMetrics Score(ReadOnlySpan<double> residuals, (int First, int Last) origins, ReadOnlySpan<double> upperOffsets, double quantile)
    {
        var values = Series.Values;
        int count = residuals.Length / Horizon;
        double abs = 0, sq = 0, smape = 0, absAtH = 0, pinball = 0;
        int covered = 0;
        for (int i = 0; i < count; i++)
        {
            int t = origins.First + i;
            for (int h = 0; h < Horizon; h++)
            {
                double e = residuals[(i * Horizon) + h];
                double y = values[t + 1 + h];
                double yHat = y - e;
                abs += Math.Abs(e);
                sq += e * e;
                double denominator = Math.Abs(y) + Math.Abs(yHat);
                smape += denominator == 0 ? 0 : 200 * Math.Abs(e) / denominator;
                if (h == Horizon - 1)
                {
                    absAtH += Math.Abs(e);
                }

                double overUpper = e - upperOffsets[h]; // y − u
                pinball += Math.Max(quantile * overUpper, (quantile - 1) * overUpper);
                if (overUpper <= 0)
                {
                    covered++;
                }
            }
        }

        double cells = (double)count * Horizon;
        double mae = abs / cells;
        double tracked = TrackedCoverage(residuals, origins.First, count, upperOffsets, quantile);
        return new BacktestMetrics(
            count,
            mae,
            Math.Sqrt(sq / cells),
            smape / cells,
            Scale > 0 ? mae / Scale : double.NaN,
            Scale > 0 ? absAtH / count / Scale : double.NaN,
            pinball / cells,
            covered / cells,
            tracked);
    }

    /// <summary>
    /// Coverage of <c>upper</c> as the engine serves it: the origins replayed in order through an
    /// <see cref="UpperTracker"/> (default options, cold start), which at origin t has observed x(first..t) only.
    /// </summary>
    private double TrackedCoverage(ReadOnlySpan<double> residuals, int first, int count, ReadOnlySpan<double> upperOffsets, double quantile)
    {
        if (count == 0 || !(quantile is > 0 and < 1))
        {
            return double.NaN;
        }

        var values = Series.Values;
        var tracker = new UpperTracker(1, Horizon, quantile);
        var forecast = new float[Horizon];
        var upper = new float[Horizon];
        var observed = new double[1];
        int covered = 0;
        for (int i = 0; i < count; i++)
        {
            int t = first + i;
            observed[0] = values[t];
            tracker.Observe(observed);
            for (int h = 0; h < Horizon; h++)
            {
                double e = residuals[(i * Horizon) + h];
                forecast[h] = (float)(values[t + 1 + h] - e);
                upper[h] = (float)(forecast[h] + upperOffsets[h]);
            }

            tracker.Correct(forecast, upper);
            for (int h = 0; h < Horizon; h++)
            {
                if (values[t + 1 + h] <= upper[h])
                {
                    covered++;
                }
            }
        }

        return covered / ((double)count * Horizon);
    }

    /// <summary>mean |x(t) − x(t−S)| over t ≥ S.</summary>
    public static double SeasonalNaiveScale(ReadOnlySpan<double> values, int season)
    {
        if (values.Length <= season)
        {
            return double.NaN;
        }

        double acc = 0;
        for (int t = season; t < values.Length; t++)
        {
            acc += Math.Abs(values[t] - values[t - season]);
        }

        return acc / (values.Length - season);
    }
}

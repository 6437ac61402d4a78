using Predictor.Training.Backtesting;
using Predictor.Training.Data;
using Predictor.Training.Models;

namespace Predictor.Training.Tests.Backtesting;

public sealed class BacktestTests
{
    private static PreparedSeries Series(double[] values) =>
        new("test/s", [.. Enumerable.Range(0, values.Length).Select(i => i * 300_000L)], values, 300, 0);

    [Fact]
    public void Offsets_UniformResiduals_AreTheCeilQuantile()
    {
        // Residuals 1..99 at one step: n = 99, q = 0.9 → rank ⌈100·0.9⌉ = 90 → offset 90.
        double[] residuals = [.. Enumerable.Range(1, 99).Select(i => (double)(100 - i))];

        var offsets = SplitConformal.Offsets(residuals, 1, 0.9);

        Assert.Equal(90.0, offsets[0]);
    }

    [Fact]
    public void Offsets_TooFewResidualsForTheQuantile_UseTheLargest()
    {
        Assert.Equal(3.0, SplitConformal.Offsets([1.0, 3.0, 2.0], 1, 0.9)[0]);
    }

    [Fact]
    public void Score_SeasonalNaiveOnAPerfectlyPeriodicSeries_HasZeroErrorAndFullCoverage()
    {
        double[] x = [.. Enumerable.Range(0, 500).Select(t => Math.Sin(2 * Math.PI * t / 24) + 2)];
        var b = new Backtest(Series(x), 6, 24, 0.3);
        var f = new SeasonalNaiveForecaster(24);

        var residuals = b.Residuals(f, b.TestOrigins);
        var metrics = b.Score(residuals, b.TestOrigins, [1e-9, 1e-9, 1e-9, 1e-9, 1e-9, 1e-9], 0.9); // residuals are ±1e-15 rounding

        Assert.True(metrics.Mae < 1e-12);
        Assert.Equal(1.0, metrics.Coverage);
        Assert.True(b.Scale < 1e-12, "the in-sample seasonal-naive error of an exactly periodic series is 0");
    }

    [Fact]
    public void Score_KnownResiduals_GiveTheTextbookMetrics()
    {
        // Series 0..n: naive errors at step h are exactly h (the series rises by 1 per step).
        double[] x = [.. Enumerable.Range(0, 200).Select(t => (double)t)];
        var b = new Backtest(Series(x), 2, 4, 0.3);
        var residuals = b.Residuals(new NaiveForecaster(1), b.TestOrigins);

        var m = b.Score(residuals, b.TestOrigins, [1.0, 1.0], 0.9);

        Assert.Equal(1.5, m.Mae, 12);                     // mean of 1 and 2
        Assert.Equal(Math.Sqrt(2.5), m.Rmse, 12);         // sqrt((1 + 4) / 2)
        Assert.Equal(1.5 / 4, m.Mase, 12);                // in-sample seasonal-naive error is 4 (season 4)
        Assert.Equal(2.0 / 4, m.MaseAtHorizon, 12);
        Assert.Equal(0.5, m.Coverage, 12);                // step 1 covered (e = 1 ≤ 1), step 2 not
        Assert.Equal(0.9 * 1 / 2, m.Pinball, 12);         // step 2: q·(2 − 1) = 0.9; step 1: 0
    }

    [Fact]
    public void Score_NoiseGrowsInTheTestPart_TrackedCoverageReturnsTowardTheQuantile()
    {
        // A random walk whose steps are σ = 1 for the first 70 % and σ = 3 after: the offsets (the 0.9 quantile of
        // residuals at σ = 1, with the naive forecaster) under-cover the test part; the engine's tracker, replayed over
        // the test origins, moves the bound back toward 0.9.
        var random = new Random(3);
        var x = new double[20_000];
        for (var t = 1; t < x.Length; t++)
        {
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            x[t] = x[t - 1] + ((t < 14_000 ? 1.0 : 3.0) * z);
        }

        var b = new Backtest(Series(x), 2, 24, 0.3);
        var residuals = b.Residuals(new NaiveForecaster(1), b.TestOrigins);
        double[] offsets = [1.2816, 1.2816 * Math.Sqrt(2)]; // the 0.9 quantiles of N(0, 1) and N(0, 2)

        var m = b.Score(residuals, b.TestOrigins, offsets, 0.9);

        Assert.InRange(m.Coverage, 0.6, 0.72);           // P(3z ≤ 1.28) ≈ 0.665
        Assert.InRange(m.TrackedCoverage, 0.85, 0.92);
    }

    [Fact]
    public void DecayedPercentile_StepFromLowToHigh_FollowsWithinAFewHalfLives()
    {
        // 400 steps at 10 then 400 at 50, half-life 50 steps: after the step the p90 moves to the new level.
        double[] x = [.. Enumerable.Repeat(10.0, 400), .. Enumerable.Repeat(50.0, 400)];
        var f = new DecayedPercentileForecaster(50, 50, 0.9);
        var forecast = new double[1];

        f.Forecast(x.AsSpan(0, 400), 0, forecast);
        Assert.InRange(forecast[0], 10, 10 * 1.06);
        f.Forecast(x.AsSpan(0, 800), 0, forecast);
        Assert.InRange(forecast[0], 50, 50 * 1.06);
    }
}

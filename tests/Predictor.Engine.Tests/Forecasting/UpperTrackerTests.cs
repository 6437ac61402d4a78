using Predictor.Engine.Forecasting;

namespace Predictor.Engine.Tests.Forecasting;

public class UpperTrackerTests
{
    /// <summary>
    /// Runs a one-series, horizon-H "model" over <paramref name="values"/>: the point forecast is the last value, the
    /// upper bound last value + <paramref name="offset"/> (a static conformal offset), corrected by the tracker when one
    /// is given. Returns the share of later values at or below their (served) bound, over origins from <paramref name="scoreFrom"/>.
    /// </summary>
    private static double Coverage(double[] values, int horizon, float offset, UpperTracker? tracker, int scoreFrom)
    {
        var forecast = new float[horizon];
        var upper = new float[horizon];
        int covered = 0, scored = 0;
        for (var t = 0; t + horizon < values.Length; t++)
        {
            tracker?.Observe([values[t]]);
            Array.Fill(forecast, (float)values[t]);
            Array.Fill(upper, (float)values[t] + offset);
            tracker?.Correct(forecast, upper);
            if (t < scoreFrom)
            {
                continue;
            }

            for (var h = 0; h < horizon; h++)
            {
                scored++;
                covered += values[t + 1 + h] <= upper[h] ? 1 : 0;
            }
        }

        return covered / (double)scored;
    }

    /// <summary>A random walk whose step noise is σ for the first part and 4σ after <paramref name="shiftAt"/>.</summary>
    private static double[] NoisyWalk(int n, int shiftAt, int seed)
    {
        var random = new Random(seed);
        var x = new double[n];
        for (var t = 1; t < n; t++)
        {
            var sigma = t < shiftAt ? 1.0 : 4.0;
            // Box–Muller: a standard normal from two uniforms.
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            x[t] = x[t - 1] + (sigma * z);
        }

        return x;
    }

    [Fact]
    public void NoiseQuadruples_StaticOffsetUnderCovers_TrackedBoundReturnsToTheQuantile()
    {
        // Offset ≈ the 0.9 quantile of one-step errors at σ = 1 (1.2816 σ); after the shift the errors are 4 × larger.
        var values = NoisyWalk(20_000, shiftAt: 2_000, seed: 7);
        var staticCoverage = Coverage(values, 1, 1.2816f, null, scoreFrom: 4_000);
        var tracked = Coverage(values, 1, 1.2816f, new UpperTracker(1, 1, 0.9), scoreFrom: 4_000);

        Assert.InRange(staticCoverage, 0.5, 0.75);   // the shipped offset no longer fits
        Assert.InRange(tracked, 0.88, 0.92);         // the tracker brings it back near 0.9
    }

    [Fact]
    public void OffsetFarTooWide_TrackerNarrowsTheBoundToTheQuantile()
    {
        var values = NoisyWalk(20_000, shiftAt: int.MaxValue, seed: 11);
        var staticCoverage = Coverage(values, 3, 20f, null, scoreFrom: 4_000);
        var tracked = Coverage(values, 3, 20f, new UpperTracker(1, 3, 0.9), scoreFrom: 4_000);

        Assert.Equal(1.0, staticCoverage);
        Assert.InRange(tracked, 0.87, 0.93);
    }

    [Fact]
    public void Observe_ScoresStepKAgainstTheForecastMadeKStepsEarlier()
    {
        // Horizon 3, quantile 0.5 (α = 0.5), rate 1, half-life 1: each update is ±0.5 × max(|y − forecast|, 0.1 × width).
        var tracker = new UpperTracker(1, 3, 0.5, new UpperTrackerOptions { LearningRate = 1, ScaleHalfLife = 1 });
        tracker.Observe([0]);                            // step 0 closes; the forecast below is made from origin 0
        tracker.Correct([10f, 20f, 30f], new float[] { 11f, 21f, 31f });
        tracker.Observe([15]);                           // step 1: the origin-0 step-1 forecast (10, upper 11) missed by 5
        Assert.Equal(0.5 * 5, tracker.Correction(0, 1), 9);  // scale = |15 − 10| = 5; miss → + (1 − 0.5) × 5
        Assert.Equal(0, tracker.Correction(0, 2));       // step 2 of origin 0 is not due yet
        tracker.Observe([20]);                           // step 2: origin 0's step-2 forecast (20, upper 21) held
        Assert.Equal(-0.5 * 0.1, tracker.Correction(0, 2), 9); // error 0: the scale falls back to 0.1 × width (21 − 20); hit → − 0.5 × 0.1
        tracker.Observe([40]);                           // step 3: origin 0's step-3 forecast (30, upper 31) missed by 10
        Assert.Equal(0.5 * 10, tracker.Correction(0, 3), 9);
        Assert.Equal(4, tracker.Steps);
    }

    [Fact]
    public void Correct_NeverPutsTheBoundBelowThePointForecast_AndLeavesNaNAlone()
    {
        var tracker = new UpperTracker(2, 1, 0.9, new UpperTrackerOptions { LearningRate = 5 });
        var upper = new float[2];
        for (var t = 0; t < 50; t++)
        {
            // Series 0 always lands far below its bound (hits push the correction down); series 1 has no data.
            tracker.Observe([0, double.NaN]);
            upper[0] = 110f;
            upper[1] = float.NaN;
            tracker.Correct([100f, float.NaN], upper);
        }

        Assert.True(tracker.Correction(0, 1) < -10);
        Assert.Equal(100f, upper[0]);                    // clamped at the point forecast
        Assert.True(float.IsNaN(upper[1]));
        Assert.Equal(0, tracker.Correction(1, 1));       // missing values move nothing
    }

    [Fact]
    public void BadArguments_SayWhatIsWrong()
    {
        Assert.Contains("quantile", Assert.Throws<PredictorException>(() => new UpperTracker(1, 12, 1.0)).Message, StringComparison.Ordinal);
        Assert.Contains("LearningRate", Assert.Throws<PredictorException>(() => new UpperTrackerOptions { LearningRate = 0 }).Message, StringComparison.Ordinal);
        Assert.Contains("ScaleHalfLife", Assert.Throws<PredictorException>(() => new UpperTrackerOptions { ScaleHalfLife = 0 }).Message, StringComparison.Ordinal);
        var tracker = new UpperTracker(2, 3, 0.9);
        Assert.Contains("2 series", Assert.Throws<PredictorException>(() => tracker.Observe([1.0])).Message, StringComparison.Ordinal);
    }
}

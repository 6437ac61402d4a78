using Predictor.Engine.Forecasting;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Forecasting;

public class NaiveForecasterTests
{
    private static IForecaster Create(int window = 4, int horizon = 3) => ForecasterLoader.Naive(new NaiveForecasterOptions { Window = window, Horizon = horizon });

    [Fact]
    public void Forecast_TwoSeries_RepeatsLastValueAndAddsWindowRange()
    {
        using var naive = Create();
        float[] window = [1, 5, 2, 3, /* second series */ 10, 10, 10, 10];
        var forecast = new float[6];
        var upper = new float[6];

        naive.Forecast(window, [], 2, forecast, upper);

        Assert.Equal([3, 3, 3, 10, 10, 10], forecast);
        // Range of the first window is 5 − 1 = 4; a flat window has no margin.
        Assert.Equal([7, 7, 7, 10, 10, 10], upper);
    }

    [Fact]
    public void Forecast_NaNInsideWindow_IsSkippedForTheRange()
    {
        using var naive = Create();
        var forecast = new float[3];
        var upper = new float[3];

        naive.Forecast([2, float.NaN, 6, 4], [], 1, forecast, upper);

        Assert.Equal([4, 4, 4], forecast);
        Assert.Equal([8, 8, 8], upper);
    }

    [Fact]
    public void Forecast_WindowOfWrongLength_ThrowsSayingTheSizes()
    {
        using var naive = Create();

        var ex = Assert.Throws<ArgumentException>(() => naive.Forecast(new float[7], [], 2, new float[6], new float[6]));

        Assert.Contains("2 series × W=4 need 8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forecast_AfterWarmUp_AllocatesNothing()
    {
        using var naive = Create(48, 12);
        var window = new float[64 * 48];
        var forecast = new float[64 * 12];
        var upper = new float[64 * 12];
        naive.Forecast(window, [], 64, forecast, upper);

        Allocations.AssertSteadyStateAllocatesNothing(100, () => naive.Forecast(window, [], 64, forecast, upper));
    }

    [Fact]
    public void Options_InvalidValues_AreRefusedWhenSet()
    {
        var options = new NaiveForecasterOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.Window = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.NominalQuantile = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.Step = TimeSpan.Zero);
        Assert.Equal(48, options.Window);
    }
}

using Predictor.Engine.Forecasting;

namespace Predictor.Engine.Tests.Forecasting;

public sealed class CalendarFeaturesTests
{
    [Fact]
    public void Fill_ThreeRows_EachRowIsWhatComputeWritesForTheOrigin()
    {
        const long origin = 1_578_310_200_000; // Monday 2020-01-06 11:50 UTC
        var expected = new float[CalendarFeatures.Width];
        CalendarFeatures.Compute(origin, expected);
        var rows = new float[3 * CalendarFeatures.Width];
        rows.AsSpan().Fill(float.NaN);

        CalendarFeatures.Fill(origin, rows, CalendarFeatures.Width);

        Assert.Equal([.. expected, .. expected, .. expected], rows);
        Assert.NotEqual(0f, expected[0]); // not a vacuous match: 11:50 has a day phase away from 0
    }

    [Theory]
    [InlineData(10, 4)] // not a whole number of rows
    [InlineData(6, 3)] // rows narrower than the features
    public void Fill_BadShape_SaysWhatIsWrong(int length, int rowWidth)
    {
        var e = Assert.Throws<ArgumentException>(() => CalendarFeatures.Fill(0, new float[length], rowWidth));

        Assert.Contains("whole number of rows", e.Message, StringComparison.Ordinal);
    }
}

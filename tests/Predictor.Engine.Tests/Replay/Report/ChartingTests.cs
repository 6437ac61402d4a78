using Predictor.Engine.Replay.Report;

namespace Predictor.Engine.Tests.Replay.Report;

public sealed class ChartingTests
{
    [Fact]
    public void Indices_ShortSeries_KeepsEveryPoint()
    {
        Assert.Equal([0, 1, 2, 3, 4], MinMaxDownsampler.Indices([5, 4, 3, 2, 1], 10));
    }

    [Fact]
    public void Indices_ThirtyDaysWithOneTickSpike_SpikeAndDipSurviveWithinBudget()
    {
        var values = new double[30 * 288];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = 10 + Math.Sin(i * 2 * Math.PI / 288);
        }

        values[4321] = 100;   // a five-minute surge
        values[777] = -50;    // a one-tick dip

        var kept = MinMaxDownsampler.Indices(values, 1400);

        Assert.InRange(kept.Length, 2, 1400);
        Assert.Contains(4321, kept);
        Assert.Contains(777, kept);
        Assert.Equal(kept.Order().ToArray(), kept);
        Assert.Equal(kept.Length, kept.Distinct().Count());
    }

    [Fact]
    public void ValueTicks_NineAndAHalf_RoundsToTenInStepsOfTwo()
    {
        var (top, ticks) = ChartScales.ValueTicks(9.5);

        Assert.Equal(10, top);
        Assert.Equal(["0", "2", "4", "6", "8", "10"], ticks.Select(t => t.Label));
    }

    [Fact]
    public void ValueTicks_SmallValues_LabelsCarryEnoughDecimals()
    {
        var (top, ticks) = ChartScales.ValueTicks(0.9, 4);

        Assert.Equal(1.0, top, 12);
        Assert.Equal(["0.00", "0.25", "0.50", "0.75", "1.00"], ticks.Select(t => t.Label));
    }

    [Fact]
    public void TimeTicks_WallClockTwoWeeks_DailyOrLongerStepsOnUtcMidnight()
    {
        // 2014-02-14 14:30 UTC, 14 days of 5-minute ticks.
        var start = new DateTimeOffset(2014, 2, 14, 14, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var ticks = ChartScales.TimeTicks(14 * 288, TimeSpan.FromMinutes(5), start, 10);

        Assert.InRange(ticks.Count, 2, 10);
        // First label is midnight of 02-15, 9.5 h = 114 ticks after the start.
        Assert.Equal(114, ticks[0].Value, 9);
        Assert.Equal("Sat 02-15", ticks[0].Label);
    }

    [Fact]
    public void TimeTicks_NoWallClock_LabelsElapsedDays()
    {
        var ticks = ChartScales.TimeTicks(28 * 288, TimeSpan.FromMinutes(5), null, 8);

        Assert.Equal("day 0", ticks[0].Label);
        Assert.All(ticks, t => Assert.StartsWith("day ", t.Label, StringComparison.Ordinal));
    }

    [Fact]
    public void WriteTo_StepSeries_HoldsValueUntilNextPoint()
    {
        var chart = new LineChart(3, TimeSpan.FromMinutes(5), null) { Width = 272, Height = 100, YMax = 10 };
        chart.Series.Add(new ChartSeries("allocation", [2, 8, 8], "#000", SeriesStyle.Step));
        var html = new System.Text.StringBuilder();

        chart.WriteTo(html);

        // Plot spans x 56..256 (width 272 − margins 56 + 16); three ticks at x = 56, 156, 256. y(2) and y(8) differ, and
        // the step repeats y(2) at x = 156 before jumping to y(8).
        var points = System.Text.RegularExpressions.Regex.Match(html.ToString(), "points=\"([^\"]*)\"").Groups[1].Value.Split(' ');
        Assert.Equal(5, points.Length);
        Assert.Equal("156", points[1].Split(',')[0]);
        Assert.Equal(points[0].Split(',')[1], points[1].Split(',')[1]);
        Assert.Equal(points[2].Split(',')[1], points[3].Split(',')[1]);
        Assert.NotEqual(points[1].Split(',')[1], points[2].Split(',')[1]);
    }
}

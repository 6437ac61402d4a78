using Predictor.Engine.Forecasting;
using Predictor.Training.Features;

namespace Predictor.Training.Tests.Features;

public sealed class TreeFeaturesTests
{
    [Fact]
    public void Fill_SeasonMovesThenLags_MovesAreFloat32DifferencesFromTheFirstValue()
    {
        double[] window = [10.1, 10.7, 9.3, 12.9, 11.0, 11.5];
        var features = new TreeFeatures(Window: 6, Lags: 2, SeasonMoves: 3);
        var row = new float[features.Width];

        features.Fill(window, row);

        Assert.Equal(5, features.Width);
        Assert.Equal((float)10.7 - (float)10.1, row[0]);
        Assert.Equal((float)9.3 - (float)10.1, row[1]);
        Assert.Equal((float)12.9 - (float)10.1, row[2]);
        Assert.Equal((float)11.0, row[3]);
        Assert.Equal((float)11.5, row[4]);
    }

    [Fact]
    public void Build_WindowOfOneSeason_MovesAreYesterdaysPathFromTheValueASeasonBeforeTheNextStep()
    {
        const int season = 24;
        const int horizon = 4;
        var values = Enumerable.Range(0, 200).Select(i => (i * 0.37) + Math.Sin(i)).ToArray();
        var stamps = Enumerable.Range(0, 200).Select(i => i * 300_000L).ToArray();
        var features = new TreeFeatures(season, Lags: 3, SeasonMoves: horizon - 1);

        var rows = SupervisedWindows.Build(values, stamps, features, horizon, withCalendar: true, firstOrigin: 100, lastOrigin: 100);

        Assert.Equal(1, rows.Rows);
        Assert.Equal(features.Width + CalendarFeatures.Width, rows.FeatureWidth);
        var row = rows.Features;
        const int t = 100;
        for (int k = 2; k <= horizon; k++)
        {
            // Step k's target is x(t+k); a season earlier the series went from x(t+1−S) to x(t+k−S).
            Assert.Equal((float)values[t + k - season] - (float)values[t + 1 - season], row[k - 2]);
        }

        Assert.Equal([(float)values[t - 2], (float)values[t - 1], (float)values[t]], row[(horizon - 1)..(horizon + 2)]);
        Assert.Equal((float)values[t + 1], rows.Targets[0]);
    }

    [Fact]
    public void Build_PlainFeatures_SameRowsAsTheWindowOverload()
    {
        var values = Enumerable.Range(0, 120).Select(i => Math.Cos(i / 5.0) * 7).ToArray();
        var stamps = Enumerable.Range(0, 120).Select(i => 1_700_000_000_000L + (i * 300_000L)).ToArray();

        var a = SupervisedWindows.Build(values, stamps, 10, 3, withCalendar: true, stride: 3);
        var b = SupervisedWindows.Build(values, stamps, TreeFeatures.Plain(10), 3, withCalendar: true, stride: 3);

        Assert.Equal(a.Features, b.Features);
        Assert.Equal(a.Targets, b.Targets);
        Assert.Equal(a.OriginTimestamps, b.OriginTimestamps);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(5, 0, 0)]
    [InlineData(5, 6, 0)]
    [InlineData(5, 2, 5)]
    [InlineData(5, 2, -1)]
    public void Validate_ImpossibleLayout_ThrowsNamingTheNumbers(int window, int lags, int moves)
    {
        var features = new TreeFeatures(window, lags, moves);

        var e = Assert.Throws<ArgumentOutOfRangeException>(features.Validate);
        Assert.Contains($"window {window}, lags {lags}, season moves {moves}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fill_WindowOfAnotherLength_Throws()
    {
        var features = new TreeFeatures(6, 2, 3);

        Assert.Throws<ArgumentException>(() => features.Fill(new double[5], new float[5]));
    }
}

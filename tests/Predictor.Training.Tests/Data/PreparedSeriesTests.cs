using Predictor.Engine;
using Predictor.Engine.Telemetry;
using Predictor.Training.Data;

namespace Predictor.Training.Tests.Data;

public sealed class PreparedSeriesTests
{
    private static RecordedSeries Recorded(long[] ts, double[] vs) => new(new SeriesInfo("test/s", "percent", TimeSpan.FromSeconds(300)), ts, vs);

    [Fact]
    public void From_MissingTimestampAndNaN_AreFilledLinearlyAndCounted()
    {
        // Grid every 300 s over 20 slots, values = slot index; slot 5 is missing, slot 9 is NaN.
        long[] ts = [.. Enumerable.Range(0, 20).Where(i => i != 5).Select(i => i * 300_000L)];
        double[] vs = [.. Enumerable.Range(0, 20).Where(i => i != 5).Select(i => i == 9 ? double.NaN : i)];

        var p = PreparedSeries.From(Recorded(ts, vs), 3);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (double)i), p.Values);
        Assert.Equal(2, p.FilledCount);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * 300_000L), p.Timestamps);
    }

    [Fact]
    public void FillLinear_UnknownEnds_HoldTheNearestValue()
    {
        double[] v = [0, 4, 0, 8, 0];
        bool[] known = [false, true, false, true, false];

        Assert.Equal(3, PreparedSeries.FillLinear(v, known));
        Assert.Equal([4.0, 4, 6, 8, 8], v);
    }

    [Fact]
    public void From_ConstantSeries_ThrowsSayingItIsConstant()
    {
        var ex = Assert.Throws<PredictorException>(() => PreparedSeries.From(Recorded([0, 300_000, 600_000], [4, 4, 4]), 2));

        Assert.Contains("constant", ex.Message, StringComparison.Ordinal);
        Assert.Contains("test/s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_TooShort_ThrowsNamingTheNeededLength()
    {
        var ex = Assert.Throws<PredictorException>(() => PreparedSeries.From(Recorded([0, 300_000, 600_000], [1, 2, 3]), 100));

        Assert.Contains("at least 100", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_MostlyMissing_Throws()
    {
        var ex = Assert.Throws<PredictorException>(() => PreparedSeries.From(Recorded([0, 300_000, 3_000_000], [1, 2, 3]), 2));

        Assert.Contains("missing or NaN", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_AllNaN_Throws()
    {
        Assert.Throws<PredictorException>(() => PreparedSeries.From(Recorded([0, 300_000], [double.NaN, double.NaN]), 1));
    }
}

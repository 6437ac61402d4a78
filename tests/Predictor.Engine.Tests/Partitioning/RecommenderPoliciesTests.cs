using Predictor.Engine.Partitioning;

namespace Predictor.Engine.Tests.Partitioning;

public sealed class RecommenderPoliciesTests
{
    private const long Total = 10_000;
    private const long Minute = 60_000;

    [Fact]
    public void VpaStyle_SteadyUse_AllocatesAboutP90PlusFifteenPercent()
    {
        var policy = PartitionPolicies.VpaStyle();
        var split = PartitionSplit.Even(Total);
        for (var t = 0; t < 1000; t++)
        {
            // user use cycles through 1000..1990 evenly: p90 ≈ 1900
            split = policy.Propose(split, new PartitionObservation(t * Minute, 1000 + (t % 100 * 10), 3000, double.NaN, double.NaN));
        }

        Assert.InRange(split.User, 1900 * 1.15 * 0.95, 1900 * 1.15 * 1.06); // bucket resolution is ±5 %
        Assert.InRange(split.System, 3000 * 1.15, 3000 * 1.15 * 1.06);
        Assert.Equal(Total, split.User + split.System + split.Pool);
    }

    [Fact]
    public void VpaStyle_OldPeakDecays_RecommendationFollowsRecentUse()
    {
        var policy = PartitionPolicies.VpaStyle(new VpaStyleOptions { HalfLife = TimeSpan.FromHours(1) });
        var split = PartitionSplit.Even(Total);
        var t = 0L;
        for (; t < 60; t++)
        {
            split = policy.Propose(split, new PartitionObservation(t * Minute, 6000, 2000, double.NaN, double.NaN));
        }

        Assert.True(split.User > 6000);
        for (; t < 60 + (24 * 60); t++)
        {
            split = policy.Propose(split, new PartitionObservation(t * Minute, 2500, 2000, double.NaN, double.NaN));
        }

        Assert.InRange(split.User, 2500 * 1.15, 2500 * 1.15 * 1.06);
    }

    [Fact]
    public void AutopilotStyle_Surge_RisesAtOnceAndHoldsForAnHour()
    {
        var policy = PartitionPolicies.AutopilotStyle(new AutopilotStyleOptions { Window = TimeSpan.FromMinutes(10), Hold = TimeSpan.FromHours(1) });
        var split = PartitionSplit.Even(Total);
        var t = 0L;
        for (; t < 30; t++)
        {
            split = policy.Propose(split, new PartitionObservation(t * Minute, 2500, 2500, double.NaN, double.NaN));
        }

        Assert.Equal(2750, split.User); // p95 of a flat 2500 + 10 %
        for (; t < 40; t++)
        {
            split = policy.Propose(split, new PartitionObservation(t * Minute, 5000, 2500, double.NaN, double.NaN));
        }

        Assert.Equal(5500, split.User);
        for (; t < 80; t++)
        {
            split = policy.Propose(split, new PartitionObservation(t * Minute, 2500, 2500, double.NaN, double.NaN));
        }

        Assert.Equal(5500, split.User); // window long past the surge, but the hour's max holds
        for (; t < 110; t++)
        {
            split = policy.Propose(split, new PartitionObservation(t * Minute, 2500, 2500, double.NaN, double.NaN));
        }

        Assert.Equal(2750, split.User);
    }

    [Fact]
    public void AutopilotStyle_RandomUse_InvariantHolds()
    {
        var random = new Random(7);
        var policy = PartitionPolicies.AutopilotStyle(new AutopilotStyleOptions { MaxSamples = 64 });
        var split = PartitionSplit.Even(Total);
        for (var t = 0; t < 2000; t++)
        {
            split = policy.Propose(split, new PartitionObservation(t * Minute, random.NextDouble() * Total, random.NextDouble() * Total, double.NaN, double.NaN));
            Assert.Equal(Total, split.User + split.System + split.Pool);
            Assert.True(split.Pool >= 0);
            Assert.InRange(split.User, 2000, 8000);
        }
    }

    [Fact]
    public void VpaStyle_RandomUse_InvariantAndBoundsHold()
    {
        var random = new Random(11);
        var policy = PartitionPolicies.VpaStyle();
        var split = PartitionSplit.Even(Total);
        for (var t = 0; t < 3000; t++)
        {
            // Hourly samples over ~4 months: 125 half-lives of 24 h, so the histogram rebases on the way.
            split = policy.Propose(split, new PartitionObservation(t * 60 * Minute, random.NextDouble() * Total, random.NextDouble() * Total, double.NaN, double.NaN));
            Assert.Equal(Total, split.User + split.System + split.Pool);
            Assert.True(split.Pool >= 0);
            Assert.InRange(split.User, 2000, 8000);
            Assert.InRange(split.System, 2000, 8000);
        }
    }

    [Fact]
    public void DecayingHistogram_ManyHalfLives_RebasesAndStaysFinite()
    {
        var histogram = new DecayingHistogram(100, 0.1, 1.05, TimeSpan.FromHours(1));
        for (var h = 0; h < 500; h++)
        {
            histogram.Add(h < 490 ? 90 : 10, h * 3_600_000L); // 500 half-lives: crosses the 64-half-life rebase several times
        }

        Assert.InRange(histogram.Percentile(0.5), 9.5, 10.6); // the last 10 samples weigh ~all
        Assert.True(double.IsFinite(histogram.Percentile(0.99)));
    }

    [Fact]
    public void DecayingHistogram_HalfLifeAgo_SampleCountsHalf()
    {
        var histogram = new DecayingHistogram(100, 0.1, 1.05, TimeSpan.FromHours(1));
        histogram.Add(10, 0);
        histogram.Add(50, 3_600_000); // one half-life later: weights 1 and 2
        Assert.InRange(histogram.Percentile(0.30), 9.5, 10.6);   // 1/3 of weight is at 10
        Assert.InRange(histogram.Percentile(0.34), 47.5, 52.6);
    }
}

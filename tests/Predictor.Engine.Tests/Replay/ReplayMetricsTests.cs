using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

public sealed class ReplayMetricsTests
{
    private static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);

    [Fact]
    public void ForPartition_HandComputedCase_CountsUnderSlackAndChanges()
    {
        // tick:        0   1   2   3   4
        double[] d = [5, 12, 8, 10, 3];
        double[] a = [10, 10, 10, 10, 6];
        // under: tick 1 only (12 > 10); tick 3 is equal, not under.
        // slack: 5 + 0 + 2 + 0 + 3 = 10; allocation sum 46.
        // changes: 10→6 at tick 4 only → 1.
        var m = ReplayMetrics.ForPartition(d, a, FiveMinutes);

        Assert.Equal(5, m.Ticks);
        Assert.Equal(1, m.UnderProvisionedTicks);
        Assert.Equal(0.2, m.UnderProvisionedShare, 12);
        Assert.Equal(10, m.SlackSum, 12);
        Assert.Equal(46, m.AllocationSum, 12);
        Assert.Equal(10.0 / 46.0, m.RelativeSlack, 12);
        Assert.Equal(1, m.Changes);
        // 5 ticks × 5 min = 25 min = 25/1440 day → 1 / (25/1440) = 57.6 changes per day.
        Assert.Equal(57.6, m.ChangesPerPartitionDay, 9);
    }

    [Fact]
    public void ForPartition_OneDayOfHourlyTicksWithThreeChanges_ThreeChangesPerDay()
    {
        var d = new double[24];
        var a = new double[24];
        for (var t = 0; t < 24; t++)
        {
            d[t] = 1;
            a[t] = t < 6 ? 2 : t < 12 ? 3 : t < 18 ? 2 : 4;
        }

        var m = ReplayMetrics.ForPartition(d, a, TimeSpan.FromHours(1));

        Assert.Equal(3, m.Changes);
        Assert.Equal(3.0, m.ChangesPerPartitionDay, 12);
        Assert.Equal(0, m.UnderProvisionedTicks);
    }

    [Fact]
    public void ForPartition_NothingAllocated_SlackIsZeroAndEveryPositiveDemandIsShort()
    {
        var m = ReplayMetrics.ForPartition([0, 1, 2], [0, 0, 0], FiveMinutes);

        Assert.Equal(0, m.RelativeSlack);
        Assert.Equal(2, m.UnderProvisionedTicks);
    }

    [Fact]
    public void ForPartition_MisalignedArrays_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => ReplayMetrics.ForPartition([1, 2, 3], [1, 2], FiveMinutes));
        Assert.Contains("align", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForPartition_NaNDemand_ThrowsNamingTheTick()
    {
        var e = Assert.Throws<ArgumentException>(() => ReplayMetrics.ForPartition([1, double.NaN], [1, 1], FiveMinutes));
        Assert.Contains("demand[1]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Combine_TwoPartitions_PoolsSumsNotAverages()
    {
        // Partition A: 4 ticks, 1 under, slack 2 of 10. Partition B: 4 ticks, 3 under, slack 1 of 30.
        var a = ReplayMetrics.ForPartition([1, 1, 1, 3], [2, 2, 2, 4], FiveMinutes);      // under 0, slack 4 of 10
        var b = ReplayMetrics.ForPartition([9, 9, 9, 5], [7, 7, 7, 9], FiveMinutes);      // under 3, slack 4 of 30
        var pooled = PartitionMetrics.Combine([a, b]);

        Assert.Equal(8, pooled.Ticks);
        Assert.Equal(3.0 / 8.0, pooled.UnderProvisionedShare, 12);
        Assert.Equal(8.0 / 40.0, pooled.RelativeSlack, 12);   // not the mean of 0.4 and 0.133
        Assert.Equal(2, pooled.Changes);
        Assert.Equal(2 / ReplayMetrics.Days(8, FiveMinutes), pooled.ChangesPerPartitionDay, 9);
    }

    [Fact]
    public void FreedPoolShare_HandComputedCase_MeanShareLeftToPool()
    {
        // Budget 10. Tick 0: 4+6 = 10 → 0 free. Tick 1: 3+2 = 5 → 0.5. Tick 2: 1+1 = 2 → 0.8. Mean 1.3/3.
        var share = ReplayMetrics.FreedPoolShare([[4, 3, 1], [6, 2, 1]], 10);

        Assert.Equal(1.3 / 3, share, 12);
    }

    [Fact]
    public void FreedPoolShare_AllocationsAboveBudget_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => ReplayMetrics.FreedPoolShare([[6, 3], [6, 2]], 10));
        Assert.Contains("tick 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverloadedTicks_LoadAtCapacity_IsNotOverloaded()
    {
        Assert.Equal(2, ReplayMetrics.OverloadedTicks([0.5, 1.0, 1.01, 2.0], 1.0));
    }

    [Fact]
    public void MigrationsPerModuleDay_FourMigrationsTwoModulesTwoDays_One()
    {
        // 2 days of 5-minute ticks = 576 ticks; 2 modules → 4 module-days.
        Assert.Equal(1.0, ReplayMetrics.MigrationsPerModuleDay(4, 2, 576, FiveMinutes), 12);
    }

    [Fact]
    public void IsAheadOfSurge_SourceWouldHaveOverflowedWithinHorizon_True()
    {
        // Source capacity 1, threshold 0.9 → limit 0.9. Module leaves at tick 1 (source held 0.7 with it).
        // Afterwards the source carries 0.2; the module's demand climbs to 0.8 at tick 3: 0.2 + 0.8 = 1.0 > 0.9.
        double[] source = [0.7, 0.7, 0.2, 0.2, 0.2, 0.2];
        double[] module = [0.5, 0.5, 0.6, 0.8, 0.8, 0.8];
        var surge = new SurgeDefinition { Threshold = 0.9, HorizonTicks = 2 };

        Assert.True(ReplayMetrics.IsAheadOfSurge(new MigrationEvent(1, "m", "s", "d"), source, 1.0, module, null, surge));
    }

    [Fact]
    public void IsAheadOfSurge_SurgeBeyondHorizon_False()
    {
        double[] source = [0.7, 0.7, 0.2, 0.2, 0.2, 0.2];
        double[] module = [0.5, 0.5, 0.6, 0.6, 0.8, 0.8];     // would overflow only at tick 4 = t + 3
        var surge = new SurgeDefinition { Threshold = 0.9, HorizonTicks = 2 };

        Assert.False(ReplayMetrics.IsAheadOfSurge(new MigrationEvent(1, "m", "s", "d"), source, 1.0, module, null, surge));
        surge.HorizonTicks = 3;
        Assert.True(ReplayMetrics.IsAheadOfSurge(new MigrationEvent(1, "m", "s", "d"), source, 1.0, module, null, surge));
    }

    [Fact]
    public void IsAheadOfSurge_SourceAlreadyAboveThresholdAtDecision_FalseBecauseReactive()
    {
        double[] source = [0.95, 0.95, 0.2, 0.2];
        double[] module = [0.8, 0.8, 0.9, 0.9];
        var surge = new SurgeDefinition { Threshold = 0.9, HorizonTicks = 3 };

        Assert.False(ReplayMetrics.IsAheadOfSurge(new MigrationEvent(1, "m", "s", "d"), source, 1.0, module, null, surge));
    }

    [Fact]
    public void IsAheadOfSurge_NextMigrationBeforeSurge_WindowStopsThere()
    {
        double[] source = [0.5, 0.5, 0.2, 0.2, 0.2];
        double[] module = [0.3, 0.3, 0.3, 0.3, 0.9];          // overflow at tick 4 only
        var surge = new SurgeDefinition { Threshold = 0.9, HorizonTicks = 10 };

        Assert.False(ReplayMetrics.IsAheadOfSurge(new MigrationEvent(1, "m", "s", "d"), source, 1.0, module, 3, surge));
        Assert.True(ReplayMetrics.IsAheadOfSurge(new MigrationEvent(1, "m", "s", "d"), source, 1.0, module, 4, surge));
    }

    [Fact]
    public void ForPlacement_HandComputedCase_CountsEveryPlacementMetric()
    {
        // Two locations of capacity 1, two modules, 4 ticks of 6 h (one day).
        // m1 moves a→b at tick 0 (a held 0.8 ≤ 0.9) ahead of its surge at tick 1 (a would carry 0.3 + 0.9 = 1.2 > 0.9).
        // m2 moves b→a at tick 2 while b is already overloaded (1.2): a reaction, not ahead of a surge.
        var a = new LocationTrace("a", 1.0, [0.8, 0.3, 0.3, 0.4]);
        var b = new LocationTrace("b", 1.0, [0.2, 1.1, 1.2, 0.9]);
        var m1 = new ModuleTrace("m1", [0.7, 0.9, 0.9, 0.9]);
        var m2 = new ModuleTrace("m2", [0.2, 0.2, 0.3, 0.1]);
        MigrationEvent[] moves = [new(0, "m1", "a", "b"), new(2, "m2", "b", "a")];

        var p = ReplayMetrics.ForPlacement([a, b], [m1, m2], moves, TimeSpan.FromHours(6), new SurgeDefinition());

        Assert.Equal(8, p.LocationTicks);
        Assert.Equal(2, p.OverloadedLocationTicks);           // b at ticks 1 and 2
        Assert.Equal(2, p.Migrations);
        Assert.Equal(2.0, p.ModuleDays, 12);
        Assert.Equal(1.0, p.MigrationsPerModuleDay, 12);
        Assert.Equal(1, p.MigrationsAheadOfSurge);
        Assert.Equal(0.5, p.AheadOfSurgeShare);
    }

    [Fact]
    public void ForPlacement_NoMigrations_AheadShareIsNull()
    {
        var p = ReplayMetrics.ForPlacement(
            [new LocationTrace("a", 1, [0.5, 0.5])], [new ModuleTrace("m", [0.5, 0.5])], [], FiveMinutes, new SurgeDefinition());

        Assert.Null(p.AheadOfSurgeShare);
        Assert.Equal(0, p.MigrationsPerModuleDay);
    }

    [Fact]
    public void SurgeDefinition_InvalidValues_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SurgeDefinition { Threshold = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SurgeDefinition { HorizonTicks = 0 });
    }
}

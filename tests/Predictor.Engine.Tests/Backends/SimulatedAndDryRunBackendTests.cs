using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Tests.Backends;

public sealed class SimulatedAndDryRunBackendTests
{
    private static readonly HardwareLocation[] Cores =
    [
        new("core0", LocationKind.CoreSet, [0], 0, 1.0, 1L << 30, new HashSet<string>()),
        new("core1", LocationKind.CoreSet, [1], 0, 1.0, 1L << 30, new HashSet<string>()),
    ];

    private static readonly ModuleSpec[] Modules =
    [
        new("web", "module/web/cpu", 0.2, 1, 1, new HashSet<string>()),
        new("db", "module/db/cpu", 0.2, 1, 1, new HashSet<string>()),
    ];

    [Fact]
    public void Simulated_DemandAboveAllocation_ReportsWhatDidNotFitAgainstTheSplitInForce()
    {
        using var backend = new SimulatedBackend(Cores, [0, 0], PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        backend.SetPartitionDemand(ResourceKind.Memory, 700, 100);
        backend.SetPartitionDemand(ResourceKind.Cpu, 900, 1300);
        var decision = new Decision(new PartitionSplit(1000, 600, 300), new PartitionSplit(2000, 700, 1300));
        var first = backend.Apply(decision); // tick t: demand meets the split in force (even), the decision applies from t+1
        Assert.Equal(200, first.UnmetMemoryBytes);
        Assert.Equal(300, first.UnmetCpuMillicores);
        var second = backend.Apply(decision); // tick t+1: the same demand meets the decided split
        Assert.Equal(100, second.UnmetMemoryBytes);
        Assert.Equal(200, second.UnmetCpuMillicores);
    }

    [Fact]
    public void Simulated_MigrationRelievesOverload()
    {
        using var backend = new SimulatedBackend(Cores, [0, 0], PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        backend.SetModuleLoad(0, 0.7);
        backend.SetModuleLoad(1, 0.6);
        var decision = new Decision(PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        Assert.Equal(1, backend.Apply(decision).OverloadedLocations);
        decision.MigrationBuffer[0] = new Migration(1, 0, 1, 0.1);
        decision.SetMigrationCount(1);
        var report = backend.Apply(decision);
        Assert.Equal(1, report.OverloadedLocations); // this tick still ran on the old placement
        Assert.Equal(1, report.MigrationsApplied);
        Assert.Equal(1, backend.Assignment[1]);
        decision.SetMigrationCount(0);
        Assert.Equal(0, backend.Apply(decision).OverloadedLocations);
        Assert.Equal(0.6, backend.LocationLoad(1), 9);
    }

    [Fact]
    public void Simulated_MigrationFromWrongLocation_RefusedAsFailure()
    {
        using var backend = new SimulatedBackend(Cores, [0, 0], PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        var decision = new Decision(PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        decision.MigrationBuffer[0] = new Migration(1, 1, 0, 0.1);
        decision.SetMigrationCount(1);
        var report = backend.Apply(decision);
        Assert.Equal(1, report.Failures);
        Assert.Equal(0, backend.Assignment[1]);
    }

    [Fact]
    public void Simulated_MixedMoves_RefusedMoveRemovedFromDecisionAppliedMoveKept()
    {
        // The loop updates its placement from the moves left in the decision, so a refused move must not stay there.
        using var backend = new SimulatedBackend(Cores, [0, 0], PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        var decision = new Decision(PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        decision.MigrationBuffer[0] = new Migration(0, 1, 0, 0.1); // module 0 is not at location 1: refused
        decision.MigrationBuffer[1] = new Migration(1, 0, 1, 0.1); // module 1 is at location 0: applied
        decision.SetMigrationCount(2);

        var report = backend.Apply(decision);

        Assert.Equal(1, report.Failures);
        Assert.Equal(1, report.MigrationsApplied);
        Assert.Equal(1, decision.MigrationCount);
        Assert.Equal(new Migration(1, 0, 1, 0.1), decision.Migrations[0]);
        Assert.Equal(new[] { 0, 1 }, backend.Assignment.ToArray());
    }

    [Fact]
    public void DryRun_LogsChangesOnlyAndTouchesNothing()
    {
        var log = new StringWriter();
        using var backend = new DryRunBackend(log, Modules, Cores);
        var decision = new Decision(new PartitionSplit(1000, 600, 300), PartitionSplit.Even(2000));
        backend.Apply(decision);
        backend.Apply(decision);
        decision.MigrationBuffer[0] = new Migration(1, 0, 1, 0.25);
        decision.SetMigrationCount(1);
        backend.Apply(decision);
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("would set memory user=600 system=300 pool=100", lines[0], StringComparison.Ordinal);
        Assert.Contains("would set cpu", lines[1], StringComparison.Ordinal);
        Assert.Contains("would migrate db core0 -> core1 (cost 0.25 s)", lines[2], StringComparison.Ordinal);
    }
}

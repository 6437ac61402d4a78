using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Modules.Hosting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;
using Predictor.Engine.Tests.Control;
using Predictor.Engine.Tests.Modules;

namespace Predictor.Engine.Tests.Backends;

[Collection(Predictor.Engine.Tests.HostCpuCollection.Name)]
public sealed partial class HostedModuleBackendTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    private static readonly HardwareLocation Core0 = new("core0", LocationKind.CoreSet, [0], 0, 1.0, 1L << 30, new HashSet<string> { "avx2" });
    private static readonly HardwareLocation Core1 = new("core1", LocationKind.CoreSet, [1], 0, 1.0, 1L << 30, new HashSet<string>());
    private static readonly HardwareLocation[] Cores = [Core0, Core1];

    // Placement does not know about avx2 (the specs require nothing): the host's requirement is what refuses.
    private static readonly ModuleSpec[] Modules =
    [
        new("a", "module/a/cpu", 0.2, 1, 1_000_000, new HashSet<string>()),
        new("b", "module/b/cpu", 0.2, 1, 1_000_000, new HashSet<string>()),
    ];

    private static readonly string[] Series = ["host/mem/user", "host/mem/system", "host/cpu/user", "host/cpu/system", "module/a/cpu", "module/b/cpu"];

    [Fact]
    public void RunOnce_PredictedSurgeWithHostedModules_ThreadMovesToTargetCoreWithStateAndNoWorkLost()
    {
        using var rig = new Rig(new LinuxCpuAffinity(), required: null);
        var producer = new Thread(rig.Produce);
        producer.Start();
        try
        {
            for (var t = 0; t < 10; t++)
            {
                Assert.Equal(0, rig.Step().MigrationCount);
            }

            rig.WaitForProduced(2000); // work is in flight on core0 when the move comes
            foreach (var id in new[] { "a", "b" })
            {
                // Produced is not processed: under load a module thread may not have run yet, and the "worked on
                // both cores" check below needs work done on core0 before the move.
                Assert.True(rig.WaitForCount(id, 1).Count >= 1, $"module {id} processed nothing on core0 in 60 s");
            }

            rig.Forecaster.Upper = (s, h) => s == 5 && h == 2 ? 0.8f : 0.3f; // module b will surge
            var decision = rig.Step();
            var producedAtMove = rig.Produced;

            Assert.Equal(1, decision.MigrationCount);
            var move = decision.Migrations[0];
            var moved = Modules[move.Module].Name;
            var other = Modules[1 - move.Module].Name;
            Assert.Equal((0, 1), (move.From, move.To));
            Assert.Equal((1, 0, (string?)null), (rig.Loop.LastReport.MigrationsApplied, rig.Loop.LastReport.Failures, rig.Loop.LastReport.FirstFailure));
            Assert.Equal("core1", rig.Migrator.LocationOf(moved).Id);
            Assert.Equal("core0", rig.Migrator.LocationOf(other).Id);
            Assert.Equal(1, rig.Loop.Assignment[move.Module]);
            Assert.Equal(0, rig.Loop.Assignment[1 - move.Module]);
            Assert.Equal([1], rig.Affinity.Get(rig.Host(moved).OsThreadId));
            Assert.Equal([0], rig.Affinity.Get(rig.Host(other).OsThreadId));

            // The module thread itself observed CPU 1 right after the move, and the restored state hashed equal.
            Assert.Matches(MovedLine(), rig.LogText);
            Assert.Contains($"'{moved}' moved core0 -> core1: cpu 1,", rig.LogText, StringComparison.Ordinal);
            Assert.Equal(660, rig.Backend.Split(ResourceKind.Memory).User); // the inner backend still got the decision

            for (var t = 0; t < 5; t++)
            {
                Assert.Equal(0, rig.Step().MigrationCount); // placement now fits: no flapping
            }

            rig.WaitForProduced(producedAtMove + 2000); // and more work after it, done on core1
        }
        finally
        {
            rig.StopProducing();
            producer.Join();
        }

        foreach (var id in new[] { "a", "b" })
        {
            var produced = rig.Produced;
            var state = rig.WaitForCount(id, produced);
            Assert.Null(rig.Host(id).Fault);
            Assert.Equal(produced, state.Count);
            Assert.Equal(produced * (produced + 1) / 2, state.Sum);
            Assert.Equal(0, state.OutOfOrder);
            Assert.Equal(0, state.MismatchedCpuObservations);
        }

        Assert.True(rig.Produced > 0);
        var movedState = CounterModule.Read(rig.Host(rig.Loop.Assignment[0] == 1 ? "a" : "b").SnapshotNow());
        Assert.True(movedState.PerLocation.GetValueOrDefault("core0") > 0 && movedState.PerLocation.GetValueOrDefault("core1") > 0,
            "the moved module worked on both cores");
    }

    [Fact]
    public void RunOnce_HostRefusesMove_ReportedModuleStaysLoopKeepsOldPlacementAndTicks()
    {
        using var rig = new Rig(new SimulatedCpuAffinity(2), required: new HashSet<string> { "avx2" });
        for (var t = 0; t < 10; t++)
        {
            rig.Step();
        }

        rig.Forecaster.Upper = (s, h) => s == 5 && h == 2 ? 0.8f : 0.3f;
        var decision = rig.Step();

        var report = rig.Loop.LastReport;
        Assert.Equal(0, decision.MigrationCount); // the refused move is not listed as done
        Assert.True(decision.Reasons.HasFlag(DecisionReasons.MigrationRefused));
        Assert.Equal(1, report.Failures);
        Assert.Equal(0, report.MigrationsApplied);
        Assert.Contains("lacks avx2", report.FirstFailure, StringComparison.Ordinal);
        Assert.Contains("refused, module stays at 'core0'", report.FirstFailure, StringComparison.Ordinal);
        Assert.Contains(report.FirstFailure!, rig.LogText, StringComparison.Ordinal);
        Assert.Equal([0, 0], rig.Loop.Assignment.ToArray());
        Assert.Equal("core0", rig.Migrator.LocationOf("a").Id);
        Assert.Equal("core0", rig.Migrator.LocationOf("b").Id);
        Assert.Equal([0], rig.Affinity.Get(rig.Host("a").OsThreadId));
        Assert.Equal([0], rig.Affinity.Get(rig.Host("b").OsThreadId));

        // The loop keeps ticking: the next tick proposes again from the true placement and is refused again.
        var ticks = rig.Loop.Ticks;
        var next = rig.Step();
        Assert.Equal(ticks + 1, rig.Loop.Ticks);
        Assert.False(next.Held);
        Assert.Equal(1, rig.Loop.LastReport.Failures);
        Assert.Equal([0, 0], rig.Loop.Assignment.ToArray());
        Assert.Null(rig.Host("a").Fault);
        Assert.Null(rig.Host("b").Fault);
    }

    [Fact]
    public void Apply_HostedAndProcessModules_HostedMovedHereOthersPassedToInnerOnce()
    {
        var affinity = new SimulatedCpuAffinity(2);
        using var host = new ModuleHost("a", new CounterModule(new ConcurrentQueue<long>()), Core0, affinity, TimeProvider.System);
        var migrator = new ModuleMigrator(TimeProvider.System);
        migrator.Register(host);
        host.Start();
        var inner = new SimulatedBackend(Cores, [0, 0], PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        using var backend = HostedModules.Wrap(inner, migrator, Modules, Cores);
        var decision = new Decision(PartitionSplit.Even(1000), PartitionSplit.Even(2000));
        decision.MigrationBuffer[0] = new Migration(0, 0, 1, 0.01); // hosted
        decision.MigrationBuffer[1] = new Migration(1, 0, 1, 0.01); // not hosted: the inner backend's
        decision.SetMigrationCount(2);

        var report = backend.Apply(decision);

        Assert.Equal(2, report.MigrationsApplied);
        Assert.Equal(0, report.Failures);
        Assert.Equal("core1", migrator.LocationOf("a").Id);
        Assert.Equal([0, 1], inner.Assignment.ToArray()); // the inner backend saw only module b's move
        Assert.Equal([new Migration(0, 0, 1, 0.01), new Migration(1, 0, 1, 0.01)], decision.Migrations.ToArray());

        // A move whose From is not where the module really is: refused, nothing moves.
        decision.MigrationBuffer[0] = new Migration(0, 0, 1, 0.01);
        decision.SetMigrationCount(1);
        report = backend.Apply(decision);
        Assert.Equal(1, report.Failures);
        Assert.Contains("runs at 'core1', not at 'core0'", report.FirstFailure, StringComparison.Ordinal);
        Assert.Equal(0, decision.MigrationCount);
        Assert.Equal("core1", migrator.LocationOf("a").Id);
    }

    [GeneratedRegex(@"moved core0 -> core1: cpu 1, state \d+ B sha256 [0-9a-f]{64} verified")]
    private static partial Regex MovedLine();

    private sealed class Rig : IDisposable
    {
        private readonly Dictionary<string, (ModuleHost Host, ConcurrentQueue<long> Queue)> _hosts = new(StringComparer.Ordinal);
        private readonly StringWriter _log = new();
        private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero));
        private long _produced;
        private volatile bool _stop;

        public Rig(ICpuAffinity affinity, IReadOnlySet<string>? required)
        {
            Affinity = affinity;
            Migrator = new ModuleMigrator(TimeProvider.System);
            foreach (var spec in Modules)
            {
                var queue = new ConcurrentQueue<long>();
                var host = new ModuleHost(spec.Name, new CounterModule(queue), Core0, affinity, TimeProvider.System, required);
                _hosts[spec.Name] = (host, queue);
                Migrator.Register(host);
                host.Start();
            }

            var source = new ArraySource(Series.Length);
            source.Values[0] = 400;
            source.Values[1] = 200;
            source.Values[2] = 0.5;
            source.Values[3] = 0.3;
            source.Values[4] = 0.2;
            source.Values[5] = 0.2;
            Backend = new SimulatedBackend(Cores, [0, 0], PartitionSplit.Even(1000), PartitionSplit.Even(2000));
            Loop = new ControlLoop(new ControlLoopSetup
            {
                Series = Series,
                Memory = new PartitionBinding(ResourceKind.Memory, 1000, 0, 1),
                Cpu = new PartitionBinding(ResourceKind.Cpu, 2000, 2, 3, Scale: 1000),
                MemoryPolicy = PartitionPolicies.Predictive(new PredictivePolicyOptions { Headroom = 0.1, MaxStepShare = 1, DeadBandShare = 0, ShrinkAfterTicks = 3 }),
                CpuPolicy = PartitionPolicies.Predictive(new PredictivePolicyOptions { Headroom = 0.1, MaxStepShare = 1, DeadBandShare = 0, ShrinkAfterTicks = 3 }),
                Modules = Modules,
                ModuleSeries = [4, 5],
                Locations = Cores,
                InitialAssignment = [0, 0],
                Placement = Placements.Planner(Cores, Modules),
                Models = [new ModelBinding(Forecaster, [0, 1, 2, 3, 4, 5])],
                Source = source,
                Backend = HostedModules.Wrap(Backend, Migrator, Modules, Cores, _log),
                Time = _time,
                InferenceEveryTicks = 1,
                UpperTracking = null, // scripted bounds, used as written
                PartitionLeadSteps = null,
            });
        }

        public ICpuAffinity Affinity { get; }

        public ModuleMigrator Migrator { get; }

        public ScriptedForecaster Forecaster { get; } = new();

        public SimulatedBackend Backend { get; }

        public ControlLoop Loop { get; }

        public string LogText => _log.ToString();

        public long Produced => Volatile.Read(ref _produced);

        public ModuleHost Host(string id) => _hosts[id].Host;

        public Decision Step()
        {
            _time.Advance(Tick);
            return Loop.RunOnce();
        }

        /// <summary>Feeds both modules the same ids until stopped, so moves happen while state changes.</summary>
        public void Produce()
        {
            for (long i = 1; !_stop; i++)
            {
                foreach (var (_, queue) in _hosts.Values)
                {
                    queue.Enqueue(i);
                }

                Volatile.Write(ref _produced, i);
                if (i % 500 == 0)
                {
                    Thread.Sleep(1);
                }
            }
        }

        public void StopProducing() => _stop = true;

        public void WaitForProduced(long count)
        {
            var until = DateTime.UtcNow.AddSeconds(30);
            while (Produced < count)
            {
                Assert.True(DateTime.UtcNow < until, $"the producer made only {Produced} of {count} items in 30 s");
                Thread.Sleep(1);
            }
        }

        public CounterModule.State WaitForCount(string id, long count)
        {
            var until = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var state = CounterModule.Read(Host(id).SnapshotNow());
                if (state.Count >= count || DateTime.UtcNow > until)
                {
                    return state;
                }

                Thread.Sleep(5);
            }
        }

        public void Dispose()
        {
            _stop = true;
            Loop.Dispose();
            foreach (var (host, _) in _hosts.Values)
            {
                host.Dispose();
            }
        }
    }
}

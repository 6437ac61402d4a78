using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Predictor.Engine.Modules;
using Predictor.Engine.Modules.Hosting;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Tests.Modules;

[Collection(Predictor.Engine.Tests.HostCpuCollection.Name)]
public class ModuleMigrationTests
{
    private static readonly HardwareLocation Core0 = new("core0", LocationKind.CoreSet, [0], 0, 1.0, 1L << 30, new HashSet<string> { "avx2" });
    private static readonly HardwareLocation Core1 = new("core1", LocationKind.CoreSet, [1], 0, 1.0, 1L << 30, new HashSet<string> { "avx2" });
    private static readonly HardwareLocation Gpu0 = new("gpu0", LocationKind.Accelerator, [1], 0, 1.0, 8L << 30, new HashSet<string> { "avx2", "accelerator:gpu", "accelerator:npu" });

    public static TheoryData<string> Backends() => new() { "linux", "simulated" };

    [Theory]
    [MemberData(nameof(Backends))]
    public void Migrate_UnderLoadManyTimes_NoWorkLostOrDuplicatedAndThreadOnTarget(string backend)
    {
        ICpuAffinity affinity = backend == "linux" ? new LinuxCpuAffinity() : new SimulatedCpuAffinity(2);
        var queue = new ConcurrentQueue<long>();
        var progress = new StrongBox<long>();
        using var host = new ModuleHost("counter", new CounterModule(queue, progress: progress), Core0, affinity, TimeProvider.System, new HashSet<string> { "avx2" });
        var migrator = new ModuleMigrator(TimeProvider.System);
        migrator.Register(host);
        host.Start();
        Assert.Equal([0], affinity.Get(host.OsThreadId));

        // Work keeps arriving until the last move is done, so every move happens while items are in flight.
        var stop = false;
        long produced = 0;
        var producer = new Thread(() =>
        {
            for (long i = 1; !Volatile.Read(ref stop); i++)
            {
                queue.Enqueue(i);
                Volatile.Write(ref produced, i);
                if (i % 1000 == 0)
                {
                    Thread.Sleep(1);
                }
            }
        });
        producer.Start();

        var records = new List<MigrationRecord>();
        for (var m = 0; m < 200; m++)
        {
            var target = m % 2 == 0 ? Core1 : Core0;

            // Let at least 500 more items through between moves: every move snapshots a state that is changing.
            var seen = Volatile.Read(ref progress.Value);
            var until = DateTime.UtcNow.AddSeconds(30);
            while (Volatile.Read(ref progress.Value) < seen + 500)
            {
                Assert.True(DateTime.UtcNow < until, $"the module processed nothing for 30 s before move {m} (fault: {host.Fault?.Message})");
                Thread.Sleep(0);
            }

            var record = migrator.Migrate("counter", target);
            records.Add(record);
            Assert.Equal(target.Id, record.To);
            Assert.Equal(target.CpuIds[0], record.ObservedCpu);
            Assert.Equal(target.CpuIds, record.AffinityAfter);
            Assert.Equal(target, migrator.LocationOf("counter"));
        }

        Volatile.Write(ref stop, true);
        producer.Join();
        var items = Volatile.Read(ref produced);
        Assert.True(items >= 100_000, $"only {items} items produced");
        var final = WaitForCount(host, items);
        host.Stop();

        Assert.Null(host.Fault);
        Assert.Equal(items, final.Count);
        Assert.Equal(items * (items + 1) / 2, final.Sum);
        Assert.Equal(0, final.OutOfOrder);
        Assert.Equal(items, final.PerLocation.Values.Sum());
        Assert.Equal(items, final.PerKey.Values.Sum());
        Assert.Contains("core0", final.PerLocation.Keys);
        Assert.Contains("core1", final.PerLocation.Keys);
        Assert.All(records, r => Assert.Equal(64, r.StateSha256.Length));

        // The state really moved while work flowed: every move carried a different state.
        Assert.Equal(200, records.Select(r => r.StateSha256).Distinct().Count());
        Assert.True(records[^1].SnapshotBytes > 0);
        Assert.True(final.MismatchedCpuObservations == 0, $"{final.MismatchedCpuObservations} steps saw a CPU outside their location");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void LocationView_SameModuleOnEitherBackend_SeesCoresNumaAndAccelerators(string backend)
    {
        ICpuAffinity affinity = backend == "linux" ? new LinuxCpuAffinity() : new SimulatedCpuAffinity(2);
        var probe = new ProbeModule();
        using var host = new ModuleHost("probe", probe, Core0, affinity, TimeProvider.System);
        var migrator = new ModuleMigrator(TimeProvider.System);
        migrator.Register(host);
        host.Start();

        migrator.Migrate("probe", Gpu0);

        // The probe records its view in Step, and a snapshot is taken at the next safe point, which may come before the
        // first Step at the new location (CI saw "core0" once): read until it has stepped there, for at most 30 s.
        var seen = ProbeModule.Read(host.SnapshotNow());
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (seen.Id != Gpu0.Id && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
            seen = ProbeModule.Read(host.SnapshotNow());
        }

        host.Stop();

        Assert.Equal("gpu0", seen.Id);
        Assert.Equal(LocationKind.Accelerator, seen.Kind);
        Assert.Equal([1], seen.Cores);
        Assert.Equal(["gpu", "npu"], seen.Accelerators);
        Assert.True(seen.OffersGpu);
        Assert.Equal(1, seen.Cpu);
    }

    [Fact]
    public void Migrate_TargetLacksRequiredCapability_RefusedAndModuleStays()
    {
        var affinity = new SimulatedCpuAffinity(2);
        using var host = new ModuleHost("gpu-module", new ProbeModule(), Gpu0, affinity, TimeProvider.System, new HashSet<string> { "accelerator:gpu" });
        var migrator = new ModuleMigrator(TimeProvider.System);
        migrator.Register(host);
        host.Start();

        var ex = Assert.Throws<ModuleOperationException>(() => migrator.Migrate("gpu-module", Core0));

        Assert.Contains("lacks accelerator:gpu", ex.Message, StringComparison.Ordinal);
        Assert.Equal("gpu0", migrator.LocationOf("gpu-module").Id);
        Assert.Equal([1], affinity.Get(host.OsThreadId));
    }

    [Fact]
    public void Migrate_RestoreNotInverseOfSnapshot_MoveUndoneAndOldStateKept()
    {
        var affinity = new SimulatedCpuAffinity(2);
        var queue = new ConcurrentQueue<long>();
        using var host = new ModuleHost("lossy", new CounterModule(queue, lossyRestore: true), Core0, affinity, TimeProvider.System);
        var migrator = new ModuleMigrator(TimeProvider.System);
        migrator.Register(host);
        host.Start();
        for (long i = 1; i <= 100; i++)
        {
            queue.Enqueue(i);
        }

        WaitForCount(host, 100);
        var ex = Assert.Throws<ModuleOperationException>(() => migrator.Migrate("lossy", Core1));

        Assert.Contains("hashes to", ex.Message, StringComparison.Ordinal);
        Assert.Equal("core0", migrator.LocationOf("lossy").Id);
        Assert.Equal([0], affinity.Get(host.OsThreadId));
        Assert.Equal(100, CounterModule.Read(host.SnapshotNow()).Count);
    }

    [Fact]
    public void Migrate_UnknownModule_NamesRegisteredOnes()
    {
        var migrator = new ModuleMigrator(TimeProvider.System);
        var ex = Assert.Throws<ModuleOperationException>(() => migrator.Migrate("nope", Core1));
        Assert.Contains("no hosted module with id 'nope'", ex.Message, StringComparison.Ordinal);
    }

    private static CounterModule.State WaitForCount(ModuleHost host, long count)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var state = CounterModule.Read(host.SnapshotNow());
            if (state.Count >= count || DateTime.UtcNow > until)
            {
                return state;
            }

            Thread.Sleep(5);
        }
    }
}

/// <summary>
/// A module that changes state with every work item: count, sum, a per-key counter map, items per location, and a
/// check that ids arrive in order (a lost or duplicated item shows as out-of-order).
/// </summary>
internal sealed class CounterModule : IStatefulModule
{
    private readonly ConcurrentQueue<long> _queue;
    private readonly bool _lossyRestore;
    private readonly StrongBox<long> _progress;
    private State _state;
    private string? _checkedLocation;

    public CounterModule(ConcurrentQueue<long> queue, bool lossyRestore = false, State? state = null, StrongBox<long>? progress = null)
    {
        _queue = queue;
        _progress = progress ?? new StrongBox<long>();
        _lossyRestore = lossyRestore;
        _state = state ?? new State(0, 0, 0, 0, 0, new SortedDictionary<int, long>(), new SortedDictionary<string, long>(StringComparer.Ordinal));
    }

    public bool Step(ILocationView location)
    {
        if (_checkedLocation != location.Id)
        {
            // Once per location: the thread must be running on one of the location's cores.
            _checkedLocation = location.Id;
            if (!location.Cores.Contains(location.CurrentCpu()))
            {
                _state = _state with { MismatchedCpuObservations = _state.MismatchedCpuObservations + 1 };
            }
        }

        if (!_queue.TryDequeue(out var id))
        {
            return false;
        }

        var s = _state;
        s.PerKey[(int)(id % 17)] = s.PerKey.GetValueOrDefault((int)(id % 17)) + 1;
        s.PerLocation[location.Id] = s.PerLocation.GetValueOrDefault(location.Id) + 1;
        _state = s with { Count = s.Count + 1, Sum = s.Sum + id, LastId = id, OutOfOrder = s.OutOfOrder + (id == s.LastId + 1 ? 0 : 1) };
        Volatile.Write(ref _progress.Value, _state.Count); // for the test's pacing only; not part of the state
        return true;
    }

    public byte[] Snapshot()
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            w.Write(_state.Count);
            w.Write(_state.Sum);
            w.Write(_state.LastId);
            w.Write(_state.OutOfOrder);
            w.Write(_state.MismatchedCpuObservations);
            w.Write(_state.PerKey.Count);
            foreach (var (k, v) in _state.PerKey)
            {
                w.Write(k);
                w.Write(v);
            }

            w.Write(_state.PerLocation.Count);
            foreach (var (k, v) in _state.PerLocation)
            {
                w.Write(k);
                w.Write(v);
            }
        }

        return buffer.ToArray();
    }

    public IStatefulModule Restore(ReadOnlySpan<byte> snapshot)
    {
        var state = Read(snapshot.ToArray());
        return new CounterModule(_queue, _lossyRestore, _lossyRestore ? state with { Sum = state.Sum - 1 } : state, _progress);
    }

    public static State Read(byte[] snapshot)
    {
        using var r = new BinaryReader(new MemoryStream(snapshot));
        var count = r.ReadInt64();
        var sum = r.ReadInt64();
        var last = r.ReadInt64();
        var ooo = r.ReadInt64();
        var mismatched = r.ReadInt64();
        var perKey = new SortedDictionary<int, long>();
        for (var n = r.ReadInt32(); n > 0; n--)
        {
            perKey[r.ReadInt32()] = r.ReadInt64();
        }

        var perLocation = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var n = r.ReadInt32(); n > 0; n--)
        {
            perLocation[r.ReadString()] = r.ReadInt64();
        }

        return new State(count, sum, last, ooo, mismatched, perKey, perLocation);
    }

    internal sealed record State(long Count, long Sum, long LastId, long OutOfOrder, long MismatchedCpuObservations, SortedDictionary<int, long> PerKey, SortedDictionary<string, long> PerLocation);
}

/// <summary>Records what the HAL view tells it; uses nothing but <see cref="ILocationView"/>.</summary>
internal sealed class ProbeModule : IStatefulModule
{
    private Seen _seen = new(string.Empty, LocationKind.CoreSet, [], [], false, -1);

    public bool Step(ILocationView location)
    {
        if (_seen.Id != location.Id)
        {
            _seen = new Seen(location.Id, location.Kind, location.Cores.ToArray(), location.AcceleratorKinds.ToArray(), location.Offers("accelerator:gpu"), location.CurrentCpu());
        }

        return false;
    }

    public byte[] Snapshot() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_seen);

    public IStatefulModule Restore(ReadOnlySpan<byte> snapshot) => new ProbeModule { _seen = Read(snapshot.ToArray()) };

    public static Seen Read(byte[] snapshot) => System.Text.Json.JsonSerializer.Deserialize<Seen>(snapshot)!;

    internal sealed record Seen(string Id, LocationKind Kind, int[] Cores, string[] Accelerators, bool OffersGpu, int Cpu);
}

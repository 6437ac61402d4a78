using BenchmarkDotNet.Attributes;
using Predictor.Engine.Control;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Benchmarks.Hosting;

/// <summary>
/// What the hosted default adds to a tick on this machine, on the real kernel files: the collect step
/// (<see cref="HostTelemetry"/> through <see cref="CollectorSource"/>: /proc/stat, /proc/meminfo, /proc/pressure/*, one
/// module's /proc/&lt;pid&gt;/{stat,status}; 40 series here) and the hand-off into the sample channel (<c>Tick</c>); and,
/// off the tick, the drain of that sample into the SQLite store's queue with <c>TryAppend</c> (<c>TickAndStore</c>;
/// the store's writer commits on its own thread). Indicative: /proc reads are system calls whose cost depends on
/// the kernel and on the load of this shared machine.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class HostedCollectBenchmark
{
    private HostTelemetry _telemetry = null!;
    private CollectorSource _source = null!;
    private SampleChannel _channel = null!;
    private StoreSampleSink _sink = null!;
    private TimeSeriesStore _store = null!;
    private SampleHandler _drain = null!;
    private SampleHandler _discard = null!;
    private double[] _values = null!;
    private string _dir = null!;
    private long _now = 1_800_000_000_000;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = new SeriesCatalog();
        var options = new HostTelemetryOptions();
        options.Modules.Add(new ModuleProcess("self", Environment.ProcessId));
        _telemetry = new HostTelemetry(options, catalog, TimeProvider.System);
        var names = Enumerable.Range(1, catalog.Count).Select(id => catalog[id].Name).ToArray();
        _source = new CollectorSource(_telemetry, catalog, names);
        _values = new double[names.Length];
        _channel = new SampleChannel(names.Length, 64);
        _dir = Directory.CreateTempSubdirectory("predictor-bench-hosted-").FullName;
        _store = TimeSeriesStore.Open(Path.Combine(_dir, "bench.db"), new StoreOptions { Synchronous = StoreSynchronous.Normal });
        _sink = new StoreSampleSink(_store, [.. Enumerable.Range(1, catalog.Count).Select(id => catalog[id])]);
        _drain = (t, v) => _sink.TryWrite(t, v);
        _discard = static (_, _) => { };
        Console.WriteLine($"// hosted collect: {names.Length} series");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// store dropped {_store.DroppedSamples} samples (refused because its queue was full)");
        _store.Dispose();
        _telemetry.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The tick's share: read every collector and hand the values to the channel.</summary>
    [Benchmark(Baseline = true)]
    public int Tick()
    {
        _now += 100;
        _source.Read(_now, _values);
        _channel.TryWrite(_now, _values);
        return _channel.Drain(_discard);
    }

    /// <summary>The tick plus the drain task's work: every non-NaN value queued to the SQLite store.</summary>
    [Benchmark]
    public int TickAndStore()
    {
        _now += 100;
        _source.Read(_now, _values);
        _channel.TryWrite(_now, _values);
        return _channel.Drain(_drain);
    }
}

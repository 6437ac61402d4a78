using BenchmarkDotNet.Attributes;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;

namespace Predictor.Benchmarks.Storage;

/// <summary>
/// Reads one day (288 samples at 300 s) from the middle of NAB's 62-day asg_misconfiguration series (18,050 samples,
/// 18 chunks) stored in the default configuration; and the latest 288 points (ring-buffer warm-up).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[MemoryDiagnoser]
public class RangeReadBenchmarks
{
    private const string Name = "nab/cpu_utilization_asg_misconfiguration";
    private string _dir = "";
    private TimeSeriesStore _store = null!;
    private long _from;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("predictor-bench-read-").FullName;
        _store = TimeSeriesStore.Open(Path.Combine(_dir, "read.db"));
        var file = Path.Combine(RepoPaths.SharedDatasets, "nab", "data", "realKnownCause", "cpu_utilization_asg_misconfiguration.csv");
        var s = TraceImporter.Import(TraceFormat.Nab, file).Series[0];
        var id = _store.Register(s.Info);
        _store.AppendAsync(id, s.Timestamps, s.Values).AsTask().GetAwaiter().GetResult();
        _store.FlushAsync().GetAwaiter().GetResult();
        _from = s.Timestamps[s.Count / 2];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public RecordedSeries OneDay() => _store.ReadRange(Name, _from, _from + 86_400_000L);

    [Benchmark]
    public RecordedSeries Latest288() => _store.ReadLatest(Name, 288);
}

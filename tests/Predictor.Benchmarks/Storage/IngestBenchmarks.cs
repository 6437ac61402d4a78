using BenchmarkDotNet.Attributes;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Benchmarks.Storage;

/// <summary>
/// Ingest rate: 100 series × 10,000 samples (Azure V1 values, 300 s steps) appended in batches and committed
/// (FlushAsync waits for the writer). Time is per sample (OperationsPerInvoke), so samples/s = 1 / Mean.
/// TryAppend shows the loop's single-sample path (no allocation).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
[MemoryDiagnoser]
public class IngestBenchmarks
{
    private const int Series = 100;
    private const int PerSeries = 10_000;
    private const int Singles = 100_000;
    private string _dir = "";
    private TimeSeriesStore _store = null!;
    private int[] _ids = [];
    private double[][] _values = [];
    private long _offset;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("predictor-bench-ingest-").FullName;
        _store = TimeSeriesStore.Open(Path.Combine(_dir, "ingest.db"));
        var source = StorageDatasets.Load("azure_v1");
        _ids = [.. Enumerable.Range(0, Series).Select(i => _store.Register(new SeriesInfo($"bench/s{i}", "percent", TimeSpan.FromSeconds(300))))];
        _values = [.. Enumerable.Range(0, Series).Select(i => source[i % source.Count].Values.Concat(source[(i + 1) % source.Count].Values).Take(PerSeries).ToArray())];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Series * PerSeries)]
    public async Task AppendBatchesAndCommit()
    {
        var start = _offset;
        for (var s = 0; s < Series; s++)
        {
            var t = new long[PerSeries];
            for (var i = 0; i < PerSeries; i++)
            {
                t[i] = (start + i) * 300_000L;
            }

            await _store.AppendAsync(_ids[s], t, _values[s]);
        }

        await _store.FlushAsync();
        _offset += PerSeries;
    }

    [Benchmark(OperationsPerInvoke = Singles)]
    public async Task TryAppendSinglesAndCommit()
    {
        var start = _offset;
        for (var i = 0; i < Singles; i++)
        {
            var s = i % Series;
            while (!_store.TryAppend(_ids[s], (start + (i / Series)) * 300_000L, _values[s][i % PerSeries]))
            {
                await _store.FlushAsync();
            }
        }

        await _store.FlushAsync();
        _offset += (Singles / Series) + 1;
    }
}

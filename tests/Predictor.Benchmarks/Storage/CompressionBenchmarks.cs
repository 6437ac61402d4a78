using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Benchmarks.Storage;

/// <summary>
/// Bytes per sample (lossless, bit-exact) of the store's codec against plain Gorilla on every shared dataset, in chunks
/// of the store's default 1024 samples, headers included; plus the encoding time of each. The sizes are computed by
/// the two custom columns (deterministic), the times by BenchmarkDotNet.
/// </summary>
[Config(typeof(CompressionConfig))]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
[MemoryDiagnoser]
public class CompressionBenchmarks
{
    private IReadOnlyList<RecordedSeries> _series = [];
    private readonly ChunkEncoder _encoder = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);

    [ParamsSource(nameof(Datasets))]
    public string Dataset { get; set; } = "nab";

    public static IEnumerable<string> Datasets => StorageDatasets.Names;

    [GlobalSetup]
    public void Setup() => _series = StorageDatasets.Load(Dataset);

    [Benchmark(Baseline = true)]
    public long Gorilla() => Encode(_series, _encoder, _buffer, gorilla: true).Bytes;

    [Benchmark]
    public long StoreCodec() => Encode(_series, _encoder, _buffer, gorilla: false).Bytes;

    internal static (long Bytes, long Samples) Encode(IReadOnlyList<RecordedSeries> series, ChunkEncoder encoder, ArrayBufferWriter<byte> buffer, bool gorilla)
    {
        const int Chunk = 1024;
        long bytes = 0, samples = 0;
        foreach (var s in series)
        {
            for (var i = 0; i < s.Count; i += Chunk)
            {
                var n = Math.Min(Chunk, s.Count - i);
                buffer.ResetWrittenCount();
                if (gorilla)
                {
                    encoder.EncodeGorilla(s.Timestamps.AsSpan(i, n), s.Values.AsSpan(i, n), buffer);
                }
                else
                {
                    encoder.Encode(s.Timestamps.AsSpan(i, n), s.Values.AsSpan(i, n), buffer);
                }

                bytes += buffer.WrittenCount;
                samples += n;
            }
        }

        return (bytes, samples);
    }

    private sealed class CompressionConfig : ManualConfig
    {
        public CompressionConfig()
        {
            AddColumn(new BytesPerSampleColumn(gorilla: false), new BytesPerSampleColumn(gorilla: true));
        }
    }

    /// <summary>Bytes per sample of one codec on the case's dataset (the same for both methods of a dataset).</summary>
    private sealed class BytesPerSampleColumn(bool gorilla) : IColumn
    {
        private static readonly Dictionary<(string, bool), double> Cache = [];

        public string Id => ColumnName;

        public string ColumnName => gorilla ? "Gorilla B/sample" : "Store B/sample";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => gorilla ? 1 : 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => $"Bytes per sample with {(gorilla ? "plain Gorilla" : "the store's codec")}, chunks of 1024, headers included";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var dataset = (string)benchmarkCase.Parameters["Dataset"];
            lock (Cache)
            {
                if (!Cache.TryGetValue((dataset, gorilla), out var value))
                {
                    var (bytes, samples) = Encode(StorageDatasets.Load(dataset), new ChunkEncoder(), new ArrayBufferWriter<byte>(), gorilla);
                    value = (double)bytes / samples;
                    Cache[(dataset, gorilla)] = value;
                }

                return value.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}

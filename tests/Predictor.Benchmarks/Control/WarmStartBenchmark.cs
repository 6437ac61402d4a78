using BenchmarkDotNet.Attributes;
using Predictor.Benchmarks.Storage;
using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Benchmarks.Control;

/// <summary>
/// The warm start of a restarted service (<see cref="ControlLoop.WarmUp"/> over the store, as PredictorService calls
/// it): a store holding one day of 100 ms ticks (864,000 samples) for each of the model's series, and a model of
/// 288 five-minute steps (a day), so the whole day is read and averaged into the window.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class WarmStartBenchmark
{
    private const long Start = RecordedDay.Start;
    private string _dir = "";
    private TimeSeriesStore _store = null!;
    private string[] _series = [];

    [Params(4, 16)]
    public int Series { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("predictor-bench-warm-").FullName;
        _store = TimeSeriesStore.Open(Path.Combine(_dir, "warm.db"));
        _series = [.. Enumerable.Range(0, Series).Select(i => i switch
        {
            0 => "host/mem/user",
            1 => "host/mem/system",
            2 => "host/cpu/user",
            3 => "host/cpu/system",
            _ => $"module/m{i - 4}/cpu",
        })];
        RecordedDay.Write(_store, _series);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>What PredictorService does: the store averages each series into the model's steps as it decodes.</summary>
    [Benchmark(Baseline = true, Description = "warm start, store averages while reading (PredictorService)")]
    public int StoreAveraged() => WarmUp((name, from, to, step) => _store.FindSeries(name) is null ? null : _store.Downsample(name, from, to, step, Aggregation.Mean));

    /// <summary>Session 19's read: the raw day of each series, averaged by the loop.</summary>
    [Benchmark(Description = "warm start, raw samples averaged by the loop")]
    public int RawSamples() => WarmUp((name, from, to, _) => _store.FindSeries(name) is null ? null : _store.ReadRange(name, from, to));

    private int WarmUp(Func<string, long, long, TimeSpan, RecordedSeries?> read)
    {
        using var loop = NewLoop();
        var filled = loop.WarmUp(read)[0];
        if (filled != 288)
        {
            throw new InvalidOperationException($"The warm start filled {filled} of 288 steps.");
        }

        return filled;
    }

    private ControlLoop NewLoop()
    {
        var locations = new[] { new HardwareLocation("core0", LocationKind.CoreSet, [0], 0, 4.0, 8L << 30, new HashSet<string>()) };
        return new ControlLoop(new ControlLoopSetup
        {
            Series = _series,
            Memory = new PartitionBinding(ResourceKind.Memory, 16L << 30, 0, 1),
            Cpu = new PartitionBinding(ResourceKind.Cpu, 16_000, 2, 3, Scale: 1000),
            MemoryPolicy = PartitionPolicies.Predictive(),
            CpuPolicy = PartitionPolicies.Predictive(),
            Modules = [],
            ModuleSeries = [],
            Locations = locations,
            InitialAssignment = [],
            Placement = Placements.Planner(locations, []),
            Models = [new ModelBinding(new DayModel(), [.. Enumerable.Range(0, _series.Length)])],
            Source = new ZeroSource(),
            Backend = new SimulatedBackend(locations, [], PartitionSplit.Even(16L << 30), PartitionSplit.Even(16_000)),
            Log = new DecisionLogBuffer(16),
            Time = new FixedClock(Start + 86_400_000L),
        });
    }

    private sealed class FixedClock(long ms) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }

    private sealed class ZeroSource : ISampleSource
    {
        public void Read(long timestampMs, Span<double> values) => values.Clear();
    }

    /// <summary>A day of five-minute steps; the warm start never calls Forecast.</summary>
    private sealed class DayModel : IForecaster
    {
        public ForecastShape Shape { get; } = new(288, 12, 0, TimeSpan.FromMinutes(5), 0.9);

        public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper) =>
            throw new InvalidOperationException("not called by the warm start");

        public void Dispose()
        {
        }
    }
}

using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Benchmarks.Control;

/// <summary>
/// One steady-state tick of the control loop: 64 series, 32 modules, 8 locations, inference every tick (one batched
/// call for all 64 series, W = 48, H = 12: models/naive.onnx on ONNX Runtime, or the same maths in managed code), predictive partition policies, placement, the default safety steps, the
/// simulated backend, the sample channel (drained) and the in-memory decision log. Target: p99 ≤ 100 µs and 0 B per
/// tick. BenchmarkDotNet reports the mean and allocations; the per-tick p50/p99/max over 200 000 ticks are measured
/// in GlobalCleanup with a Stopwatch per tick and printed (BenchmarkDotNet's percentiles are over iterations).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class ControlLoopTickBenchmark
{
    private const int SeriesCount = 64;
    private const int ModuleCount = 32;
    private const int LocationCount = 8;
    private ControlLoop _loop = null!;
    private BenchClock _clock = null!;
    private SampleChannel _channel = null!;
    private SampleHandler _drain = null!;
    private IForecaster _forecaster = null!;

    [ParamsSource(nameof(Forecasters))]
    public string Forecaster { get; set; } = "managed-naive";

    public static IEnumerable<string> Forecasters() => ["onnx-naive", "managed-naive"];

    [GlobalSetup]
    public void Setup()
    {
        _clock = new BenchClock();
        IForecaster forecaster = Forecaster == "onnx-naive"
            ? ForecasterLoader.OpenOnnx(Predictor.TestSupport.RepoPaths.InRepo("models", "naive.onnx"))
            : new ManagedNaive(48, 12);
        _forecaster = forecaster;
        var series = Enumerable.Range(0, SeriesCount).Select(i => i switch
        {
            0 => "host/mem/user",
            1 => "host/mem/system",
            2 => "host/cpu/user",
            3 => "host/cpu/system",
            < 4 + ModuleCount => $"module/m{i - 4}/cpu",
            _ => $"extra/{i}",
        }).ToArray();
        var locations = Enumerable.Range(0, LocationCount)
            .Select(l => new HardwareLocation($"core{l}", LocationKind.CoreSet, [l], 0, 4.0, 8L << 30, new HashSet<string>()))
            .ToArray();
        var modules = Enumerable.Range(0, ModuleCount)
            .Select(m => new ModuleSpec($"m{m}", series[4 + m], 0.5, 64L << 20, (m + 1) * 10_000_000L, new HashSet<string>()))
            .ToArray();
        var assignment = Enumerable.Range(0, ModuleCount).Select(m => m % LocationCount).ToArray();
        _channel = new SampleChannel(SeriesCount, 64);
        _drain = static (_, _) => { };
        _loop = new ControlLoop(new ControlLoopSetup
        {
            Series = series,
            Memory = new PartitionBinding(ResourceKind.Memory, 16L << 30, 0, 1),
            Cpu = new PartitionBinding(ResourceKind.Cpu, 16_000, 2, 3, Scale: 1000),
            MemoryPolicy = PartitionPolicies.Predictive(),
            CpuPolicy = PartitionPolicies.Predictive(),
            Modules = modules,
            ModuleSeries = [.. Enumerable.Range(4, ModuleCount)],
            Locations = locations,
            InitialAssignment = assignment,
            Placement = Placements.Planner(locations, modules),
            Models = [new ModelBinding(forecaster, [.. Enumerable.Range(0, SeriesCount)])],
            Source = new WaveSource(),
            Sink = _channel,
            Backend = new SimulatedBackend(locations, assignment, PartitionSplit.Even(16L << 30), PartitionSplit.Even(16_000)),
            Log = new DecisionLogBuffer(4096),
            Time = _clock,
            InferenceEveryTicks = 1,
        });
        // Warm up until the model's window is full (W steps of the model's step at 100 ms per tick), and then some.
        var warmup = (int)(forecaster.Shape.Window * forecaster.Shape.Step.TotalMilliseconds / 100) + 2000;
        for (var i = 0; i < warmup; i++)
        {
            Tick();
        }

        if (double.IsNaN(_loop.UpperMax[0]))
        {
            throw new InvalidOperationException("The benchmark's warm-up did not fill the model window: no forecast yet.");
        }
    }

    [Benchmark(Description = "one tick (64 series, 32 modules, 8 locations, inference)")]
    public Decision Tick()
    {
        _clock.Advance();
        var decision = _loop.RunOnce();
        _channel.Drain(_drain);
        return decision;
    }

    [GlobalCleanup]
    public void PerTickPercentiles()
    {
        const int n = 200_000;
        var samples = new double[n];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < n; i++)
        {
            var start = Stopwatch.GetTimestamp();
            Tick();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Array.Sort(samples);
        Console.WriteLine(
            $"// per-tick over {n} ticks: p50 {samples[n / 2]:0.0} µs, p99 {samples[(int)(n * 0.99)]:0.0} µs, p99.9 {samples[(int)(n * 0.999)]:0.0} µs, max {samples[^1]:0.0} µs, allocated {allocated} B ({(double)allocated / n:0.###} B/tick)");
        _loop.Dispose();
        _forecaster.Dispose();
    }

    /// <summary>A recorded-clock stand-in: 100 ms per tick.</summary>
    private sealed class BenchClock : TimeProvider
    {
        private long _ms = 1_795_000_000_000;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(_ms);

        public void Advance() => _ms += 100;
    }

    /// <summary>Daily-ish waves with a per-series phase, from a precomputed table (no allocation).</summary>
    private sealed class WaveSource : ISampleSource
    {
        private readonly double[] _table = [.. Enumerable.Range(0, 1024).Select(i => 0.5 + (0.4 * Math.Sin(2 * Math.PI * i / 1024)))];
        private int _t;

        public void Read(long timestampMs, Span<double> values)
        {
            _t++;
            for (var s = 0; s < values.Length; s++)
            {
                var w = _table[(_t + (s * 37)) & 1023];
                values[s] = s switch
                {
                    0 or 1 => w * (4L << 30),
                    2 or 3 => w * 6,
                    _ => w,
                };
            }
        }
    }

    /// <summary>Last value, upper = last + range of the window: the shape of the engine's naive fallback, in managed code.</summary>
    private sealed class ManagedNaive : IForecaster
    {
        public ManagedNaive(int window, int horizon) => Shape = new ForecastShape(window, horizon, 0, TimeSpan.FromMilliseconds(100), 0.9);

        public ForecastShape Shape { get; }

        public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper)
        {
            var w = Shape.Window;
            var h = Shape.Horizon;
            for (var s = 0; s < seriesCount; s++)
            {
                var row = window.Slice(s * w, w);
                float min = float.MaxValue, max = float.MinValue;
                foreach (var v in row)
                {
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }

                var last = row[^1];
                forecast.Slice(s * h, h).Fill(last);
                upper.Slice(s * h, h).Fill(last + (max - min));
            }
        }

        public void Dispose()
        {
        }
    }
}

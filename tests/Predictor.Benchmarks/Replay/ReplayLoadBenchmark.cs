using BenchmarkDotNet.Attributes;
using Predictor.Engine.Replay;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Benchmarks.Replay;

/// <summary>
/// Loading a replay from a store recorded by <c>predictor collect</c>: one day of 100 ms ticks (864,000 samples) for each
/// selected series, replayed at a five-minute tick, so every series is folded into 288 steps. Two readers: the store
/// folding while it decodes (<see cref="ScenarioInputs.Load"/>, what <c>predictor replay</c> does) and the whole raw day
/// read first, then folded (<see cref="ScenarioInputs.Assemble(ScenarioOptions, IReadOnlyList{RecordedSeries})"/> over
/// <see cref="ScenarioSource.Read(string, Func{string, bool})"/>, the earlier reader).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class ReplayLoadBenchmark
{
    private const long Start = 1_795_000_000_000 / 86_400_000 * 86_400_000; // midnight UTC
    private const int TicksPerDay = 864_000;
    private string _dir = "";
    private ScenarioOptions _scenario = null!;

    [Params(4, 16)]
    public int Series { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("predictor-bench-replay-load-").FullName;
        using (var store = TimeSeriesStore.Open(Path.Combine(_dir, "day.db")))
        {
            var t = new long[TicksPerDay];
            var v = new double[TicksPerDay];
            for (var s = 0; s < Series; s++)
            {
                var rng = new Random(s);
                for (var k = 0; k < TicksPerDay; k++)
                {
                    t[k] = Start + (k * 100L);
                    // A daily wave with noise, rounded as /proc's counters are (two decimals of a percentage).
                    v[k] = Math.Round(40 + (30 * Math.Sin(2 * Math.PI * k / TicksPerDay)) + (5 * rng.NextDouble()), 2);
                }

                var id = store.Register(new SeriesInfo($"host/s{s}", "percent", TimeSpan.FromMilliseconds(100)));
                store.AppendAsync(id, t, v).AsTask().GetAwaiter().GetResult();
            }

            store.FlushAsync().GetAwaiter().GetResult();
        }

        var scenarioPath = Path.Combine(_dir, "day.json");
        File.WriteAllText(scenarioPath, $$"""
            { "name": "day", "source": { "store": "day.db" }, "tickSeconds": 300,
              "partitions": { "user": { "series": [{{string.Join(", ", Enumerable.Range(0, Series / 2).Select(s => $"\"host/s{s}\""))}}] },
                              "system": { "series": [{{string.Join(", ", Enumerable.Range(Series / 2, Series / 2).Select(s => $"\"host/s{s}\""))}}] } },
              "budget": { "total": "auto" }, "policies": ["threshold"] }
            """);
        _scenario = ScenarioFile.Load(scenarioPath);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    /// <summary>What <c>predictor replay</c> does: the store folds each series into the tick's steps as it decodes.</summary>
    [Benchmark(Baseline = true, Description = "replay load, store folds while reading")]
    public int Streamed() => Check(ScenarioInputs.Load(_scenario));

    /// <summary>The earlier reader: every selected series read whole, then folded.</summary>
    [Benchmark(Description = "replay load, raw day read then folded")]
    public int Whole() => Check(ScenarioInputs.Assemble(_scenario, _scenario.Source.Read(_scenario.File, _scenario.Uses)));

    private static int Check(ScenarioInputs inputs) =>
        inputs.Ticks == 288 ? inputs.Ticks : throw new InvalidOperationException($"The replay has {inputs.Ticks} ticks, not 288.");
}

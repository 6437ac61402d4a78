using BenchmarkDotNet.Attributes;
using Predictor.Benchmarks.Storage;
using Predictor.Engine.Replay;
using Predictor.Engine.Storage;

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
            RecordedDay.Write(store, [.. Enumerable.Range(0, Series).Select(s => $"host/s{s}")]);
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

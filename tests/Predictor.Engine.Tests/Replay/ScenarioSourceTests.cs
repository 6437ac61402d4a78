using Predictor.Engine.Replay;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry.Import;

namespace Predictor.Engine.Tests.Replay;

public sealed class ScenarioSourceTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("predictor-source-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Read_TraceFolder_ImportsEveryFileInNameOrderAndSkipsHiddenOnes()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "b.csv"), "timestamp,value\n2014-02-14 14:30:00,2\n2014-02-14 14:35:00,3\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "a.csv"), "timestamp,value\n2014-02-14 14:30:00,1\n");
        File.WriteAllText(Path.Combine(_dir.FullName, ".hidden.csv"), "not a trace");

        var series = new ScenarioSource(null, _dir.FullName, TraceFormat.Nab).Read("s.json");

        Assert.Equal(["nab/a", "nab/b"], series.Select(s => s.Info.Name));
        Assert.Equal([2.0, 3.0], series[1].Values);
    }

    [Fact]
    public void Read_EmptyFolder_PointsAtTheTraceField()
    {
        var e = Assert.Throws<ScenarioException>(() => new ScenarioSource(null, _dir.FullName, TraceFormat.Nab).Read("s.json"));

        Assert.Equal("$.source.trace", e.JsonPath);
        Assert.Contains("has no files", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EmptyStore_SaysHowToFillIt()
    {
        var path = Path.Combine(_dir.FullName, "empty.db");
        TimeSeriesStore.Open(path).Dispose();

        var e = Assert.Throws<ScenarioException>(() => new ScenarioSource(path, null, null).Read("s.json"));

        Assert.Equal("$.source.store", e.JsonPath);
        Assert.Contains("predictor collect / predictor import", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_StoreWithAFilter_DecodesOnlyTheWantedSeries_ListsTheOthersByName_AndAssemblesTheSameInputs()
    {
        var path = Path.Combine(_dir.FullName, "host.db");
        using (var store = TimeSeriesStore.Open(path))
        {
            foreach (var (name, k) in new[] { ("host/cpu/user", 1.0), ("host/cpu/system", 2.0), ("host/disk/read", 3.0) })
            {
                var id = store.Register(new Predictor.Engine.Telemetry.SeriesInfo(name, "percent", TimeSpan.FromMinutes(5)));
                await store.AppendAsync(id, [.. Enumerable.Range(0, 50).Select(i => 1_700_000_000_000 + (i * 300_000L))], [.. Enumerable.Range(0, 50).Select(i => k * (i % 7))]);
            }

            await store.FlushAsync();
        }

        var scenarioPath = Path.Combine(_dir.FullName, "s.json");
        File.WriteAllText(scenarioPath, """
            { "name": "s", "source": { "store": "host.db" },
              "partitions": { "user": { "series": ["host/cpu/u*"] }, "system": { "series": ["host/cpu/system"] } },
              "budget": { "total": "auto" }, "policies": ["threshold"] }
            """);
        var scenario = ScenarioFile.Load(scenarioPath);

        var filtered = scenario.Source.Read(scenario.File, scenario.Uses);
        var whole = scenario.Source.Read(scenario.File);

        Assert.Equal(whole.Select(s => s.Info), filtered.Select(s => s.Info));
        Assert.Equal(0, Assert.Single(filtered, s => s.Info.Name == "host/disk/read").Count);
        Assert.Equal(50, Assert.Single(filtered, s => s.Info.Name == "host/cpu/user").Count);
        var a = ScenarioInputs.Assemble(scenario, filtered);
        var b = ScenarioInputs.Assemble(scenario, whole);
        Assert.Equal(b.Ticks, a.Ticks);
        Assert.Equal(b.TotalBudget, a.TotalBudget);
        Assert.Equal(b.Partitions.Select(p => p.Demand), a.Partitions.Select(p => p.Demand));

        // A pattern that matches nothing still names every series of the store, read or not.
        File.WriteAllText(scenarioPath, File.ReadAllText(scenarioPath).Replace("host/cpu/system", "host/cpu/sys", StringComparison.Ordinal));
        var typo = ScenarioFile.Load(scenarioPath);
        var e = Assert.Throws<ScenarioException>(() => ScenarioInputs.Assemble(typo, typo.Source.Read(typo.File, typo.Uses)));
        Assert.Contains("host/disk/read", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TraceWithOnlyAHeader_SaysItHoldsNoSeries()
    {
        var path = Path.Combine(_dir.FullName, "header.csv");
        File.WriteAllText(path, "timestamp,series,value\n");

        var e = Assert.Throws<ScenarioException>(() => new ScenarioSource(null, path, TraceFormat.Csv).Read("s.json"));

        Assert.Equal("$.source.trace", e.JsonPath);
        Assert.Contains("holds no series", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EmptyStoreFile_IsRefusedAndLeftEmpty()
    {
        // Opening it as a store would write a new store's schema into the user's file: a replay only reads.
        var path = Path.Combine(_dir.FullName, "empty.db");
        File.WriteAllBytes(path, []);

        var e = Assert.Throws<ScenarioException>(() => new ScenarioSource(path, null, null).Read("s.json"));

        Assert.Equal("$.source.store", e.JsonPath);
        Assert.Contains("is empty (0 bytes), not a store", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(path).Length);
    }

    [Fact]
    public void Read_TraceFolderHoldingAnotherFile_PointsAtTheSourceAndNamesTheFile()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "a.csv"), "timestamp,value\n2014-02-14 14:30:00,1\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "README.md"), "notes\n");

        var e = Assert.Throws<ScenarioException>(() => new ScenarioSource(null, _dir.FullName, TraceFormat.Nab).Read("s.json"));

        Assert.Equal("$.source", e.JsonPath);
        Assert.Contains("README.md:1:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("Check \"format\" against the files", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pass --skip-bad-rows", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("max")]
    [InlineData("last")]
    public async Task Load_StoreRecordedFinerThanTheTick_FoldsWhileDecoding_ToTheSameInputsAsAssemblingTheWholeRead(string downsample)
    {
        // Two hours of 100 ms samples (noise, a NaN run, a gap of ten minutes) for user; 5-minute steps for system; and an
        // unused 100 ms series, which Load must not need.
        const long start = 1_700_000_123_400;
        var path = Path.Combine(_dir.FullName, "fine.db");
        using (var store = TimeSeriesStore.Open(path))
        {
            var rng = new Random(7);
            var fine = Enumerable.Range(0, 72_000).Where(i => i is < 30_000 or >= 36_000).ToArray();
            foreach (var name in new[] { "host/cpu/user", "host/disk/read" })
            {
                var id = store.Register(new Predictor.Engine.Telemetry.SeriesInfo(name, "percent", TimeSpan.FromMilliseconds(100)));
                await store.AppendAsync(id, [.. fine.Select(i => start + (i * 100L))], [.. fine.Select(i => i % 5_000 < 40 ? double.NaN : Math.Round(rng.NextDouble() * 100, 2))]);
            }

            var coarse = store.Register(new Predictor.Engine.Telemetry.SeriesInfo("host/cpu/system", "percent", TimeSpan.FromMinutes(5)));
            await store.AppendAsync(coarse, [.. Enumerable.Range(0, 25).Select(i => start - 60_000 + (i * 300_000L))], [.. Enumerable.Range(0, 25).Select(i => (double)(i % 4))]);
            await store.FlushAsync();
        }

        var scenarioPath = Path.Combine(_dir.FullName, "fine.json");
        File.WriteAllText(scenarioPath, $$"""
            { "name": "fine", "source": { "store": "fine.db" }, "tickSeconds": 300, "downsample": "{{downsample}}",
              "partitions": { "user": { "series": ["host/cpu/user"], "scale": 0.5 }, "system": { "series": ["host/cpu/system"] } },
              "budget": { "total": 200, "reason": "t" }, "policies": ["threshold"] }
            """);
        var scenario = ScenarioFile.Load(scenarioPath);

        var streamed = ScenarioInputs.Load(scenario);
        var whole = ScenarioInputs.Assemble(scenario, scenario.Source.Read(scenario.File));

        Assert.Equal(whole.StartUnixMs, streamed.StartUnixMs);
        Assert.Equal(whole.Ticks, streamed.Ticks);
        Assert.Equal(whole.TotalBudget, streamed.TotalBudget);
        Assert.Equal(whole.DownsampleNote, streamed.DownsampleNote);
        Assert.Equal(whole.Partitions.Select(p => p.Demand), streamed.Partitions.Select(p => p.Demand));
        Assert.Equal(downsample == "last", streamed.DownsampleNote is null);
        Assert.True(streamed.Ticks >= 20, $"{streamed.Ticks} ticks");
    }

    [Theory]
    [InlineData(TraceFormat.Nab, true)]
    [InlineData(TraceFormat.Csv, true)]
    [InlineData(TraceFormat.AzureV1, false)]
    [InlineData(TraceFormat.Alibaba, false)]
    public void HasWallClock_OnlyForFormatsWithRealTimestamps(TraceFormat format, bool expected) =>
        Assert.Equal(expected, new ScenarioSource(null, "t", format).HasWallClock);

    [Fact]
    public void HasWallClock_Store_IsTrue() => Assert.True(new ScenarioSource("s.db", null, null).HasWallClock);
}

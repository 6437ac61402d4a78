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

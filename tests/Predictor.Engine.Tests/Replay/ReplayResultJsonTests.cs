using System.Text.Json;
using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

public sealed class ReplayResultJsonTests
{
    [Fact]
    public void Write_SmallResult_RoundTripsMetricsAndDominance()
    {
        var info = new ReplayRunInfo("small", TimeSpan.FromMinutes(5), 1_400_000_000_000, 10, "explicit", "cores");
        var result = new ReplayResult(info,
        [
            new PolicyRun("wasteful", false, [new PartitionTrace("user", [1, 2, 3, 4], [5, 5, 5, 5])],
                [new LocationTrace("a", 1, [0.5, 0.5, 0.2, 0.2]), new LocationTrace("b", 1, [0.1, 0.1, 0.4, 0.4])],
                [new ModuleTrace("m", [0.3, 0.3, 0.3, 0.3])],
                [new MigrationEvent(1, "m", "a", "b")]),
            new PolicyRun("predictive", true, [new PartitionTrace("user", [1, 2, 3, 4], [2, 3, 4, 4])], [], [], []),
        ]);
        using var stream = new MemoryStream();

        ReplayResultJson.Write(result, stream, includeSeries: true);
        using var doc = JsonDocument.Parse(stream.ToArray());
        var root = doc.RootElement;

        Assert.Equal(ReplayResultJson.Schema, root.GetProperty("schema").GetString());
        Assert.Equal(4, root.GetProperty("ticks").GetInt32());
        var wasteful = root.GetProperty("policies")[0];
        Assert.True(wasteful.GetProperty("dominated").GetBoolean());
        Assert.Equal("predictive", wasteful.GetProperty("dominatedBy")[0].GetString());
        Assert.Equal(10.0 / 20.0, wasteful.GetProperty("metrics").GetProperty("relativeSlack").GetDouble(), 12);
        Assert.Equal(1, wasteful.GetProperty("placement").GetProperty("migrations").GetInt32());
        Assert.Equal("b", wasteful.GetProperty("placement").GetProperty("migrationEvents")[0].GetProperty("to").GetString());
        Assert.Equal(4, wasteful.GetProperty("partitions")[0].GetProperty("allocation").GetArrayLength());
        var predictive = root.GetProperty("policies")[1];
        Assert.False(predictive.GetProperty("dominated").GetBoolean());
        Assert.False(predictive.TryGetProperty("placement", out _));
        Assert.Contains("not dominated", root.GetProperty("verdict").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MetricTable_From_FormatsPercentagesAndMarksDominance()
    {
        var info = new ReplayRunInfo("small", TimeSpan.FromHours(6), null, 10, "explicit", "cores");
        var result = new ReplayResult(info,
        [
            new PolicyRun("a", false, [new PartitionTrace("user", [1, 2, 3, 4], [5, 5, 5, 5])], [], [], []),
            new PolicyRun("b", true, [new PartitionTrace("user", [1, 2, 3, 4], [2, 1, 4, 4])], [], [], []),
        ]);

        var table = MetricTable.From(result);

        Assert.Equal(["policy", "under-provisioned ticks", "relative slack", "changes / partition-day", "freed pool", "Pareto"], table.Headers);
        // b: 1 of 4 ticks under (2 > 1) → 25.0 %; slack (1 + 0 + 1 + 0) / 11 = 18.2 %; changes 2→1→4 = 2 in one day
        // (4 ticks of 6 h); pool (8 + 9 + 6 + 6) / 40 = 72.5 %. a is never short but has more slack: a trade-off, no dominance.
        Assert.Equal(["b", "25.0 %", "18.2 %", "2.00", "72.5 %", "front"], table.Rows[1].Cells);
        Assert.Equal("front", table.Rows[0].Cells[^1]);
        Assert.Contains("25.0 %", table.ToPlainText(), StringComparison.Ordinal);
    }
}

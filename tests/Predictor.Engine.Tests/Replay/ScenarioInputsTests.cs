using Predictor.Engine.Replay;
using Predictor.Engine.Telemetry;

namespace Predictor.Engine.Tests.Replay;

public sealed class ScenarioInputsTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(5);
    private const long M = 300_000;   // one step in ms

    private static ScenarioOptions Scenario(string budget) => ScenarioFile.Parse($$"""
        {
          "name": "t",
          "source": { "trace": ".", "format": "csv" },
          "partitions": {
            "user": { "series": ["a/*"], "scale": 0.5 },
            "system": { "series": ["b"] }
          },
          "budget": {{budget}},
          "policies": ["threshold"]
        }
        """, "t.json", Path.GetTempPath());

    private static RecordedSeries Series(string name, long[] t, double[] v) => new(new SeriesInfo(name, "percent", Step), t, v);

    [Fact]
    public void Assemble_ThreeSeries_AlignsOnCommonSpanSumsScalesAndHoldsGaps()
    {
        RecordedSeries[] available =
        [
            Series("a/1", [0, M, 2 * M, 3 * M], [10, 20, 30, 40]),
            Series("a/2", [M, 3 * M, 4 * M], [2, 4, 6]),            // no sample at 2M: holds 2
            Series("b", [0, M, 2 * M, 3 * M, 4 * M], [1, 1, 5, 1, 1]),
            Series("c", [0], [99]),                                 // not selected
        ];

        var inputs = ScenarioInputs.Assemble(Scenario("""{ "total": "auto" }"""), available);

        // Common span: from M (latest first sample) to 3M (earliest last sample) → 3 ticks.
        Assert.Equal(M, inputs.StartUnixMs);
        Assert.Equal(3, inputs.Ticks);
        Assert.Equal([(20 + 2) * 0.5, (30 + 2) * 0.5, (40 + 4) * 0.5], inputs.Partitions[0].Demand);
        Assert.Equal([1.0, 5, 1], inputs.Partitions[1].Demand);
        Assert.Equal(["a/1", "a/2"], inputs.Partitions[0].Series);
        // Summed demand 12, 21, 23 → peak 23 → total 1.25 × 23.
        Assert.Equal(1.25 * 23, inputs.TotalBudget, 12);
    }

    [Fact]
    public void Assemble_ExplicitBudget_KeptAsGiven()
    {
        RecordedSeries[] available = [Series("a/1", [0, M], [1, 2]), Series("b", [0, M], [1, 1])];

        var inputs = ScenarioInputs.Assemble(Scenario("""{ "total": 8, "reason": "8 cores" }"""), available);

        Assert.Equal(8, inputs.TotalBudget);
        Assert.Equal("8 cores", inputs.BudgetNote);
    }

    [Fact]
    public void Assemble_SeriesWithoutCommonSpan_Throws()
    {
        RecordedSeries[] available = [Series("a/1", [0, M], [1, 2]), Series("b", [5 * M, 6 * M], [1, 1])];

        var e = Assert.Throws<ScenarioException>(() => ScenarioInputs.Assemble(Scenario("""{ "total": "auto" }"""), available));

        Assert.Contains("do not overlap in time", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Assemble_PatternMatchingNothing_PointsAtPattern()
    {
        RecordedSeries[] available = [Series("x", [0, M], [1, 2]), Series("b", [0, M], [1, 1])];

        var e = Assert.Throws<ScenarioException>(() => ScenarioInputs.Assemble(Scenario("""{ "total": "auto" }"""), available));

        Assert.Equal("$.partitions.user.series[0]", e.JsonPath);
    }
}

using Predictor.Engine.Replay;
using Predictor.Engine.Telemetry;

namespace Predictor.Engine.Tests.Replay;

public sealed class ScenarioInputsTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(5);
    private const long M = 300_000;   // one step in ms

    private static ScenarioOptions Scenario(string budget, string more = "") => ScenarioFile.Parse($$"""
        {
          "name": "t",
          "source": { "trace": ".", "format": "csv" },{{more}}
          "partitions": {
            "user": { "series": ["a/*"], "scale": 0.5 },
            "system": { "series": ["b"] }
          },
          "budget": {{budget}},
          "policies": ["threshold"]
        }
        """, "t.json", Path.GetTempPath());

    private static RecordedSeries Series(string name, long[] t, double[] v) => new(new SeriesInfo(name, "percent", Step), t, v);

    private const long S = 60_000;   // one minute in ms: the finer series' step

    // a/1 every minute from 0 to 14 min (values 0..14, the sample at 7 min NaN); b at the tick's own step.
    private static RecordedSeries[] FinerAndCoarse()
    {
        var t = Enumerable.Range(0, 15).Select(i => i * S).ToArray();
        var v = Enumerable.Range(0, 15).Select(i => i == 7 ? double.NaN : i).ToArray();
        return [new RecordedSeries(new SeriesInfo("a/1", "percent", TimeSpan.FromMinutes(1)), t, v), Series("b", [0, M, 2 * M, 3 * M], [1, 2, 3, 4])];
    }

    [Fact]
    public void Assemble_SeriesFinerThanTheTick_EachTickHoldsTheMeanOfTheStepThatEndedAtIt()
    {
        var inputs = ScenarioInputs.Assemble(Scenario("""{ "total": 100, "reason": "t" }""", """ "tickSeconds": 300,"""), FinerAndCoarse());

        // a/1's 5-minute steps [0,5), [5,10), [10,15) are known at 5, 10 and 15 min: the grid starts at the first, M,
        // and ends at the earliest last sample, b's at 3M (15 min) → 3 ticks.
        Assert.Equal(M, inputs.StartUnixMs);
        Assert.Equal(3, inputs.Ticks);
        // Means 2, (5+6+8+9)/4 = 7 (NaN left out), 12; times the partition's scale 0.5.
        Assert.Equal([1.0, 3.5, 6], inputs.Partitions[0].Demand);
        // b is recorded at the tick: its samples at M, 2M, 3M, held as before.
        Assert.Equal([2.0, 3, 4], inputs.Partitions[1].Demand);
        Assert.StartsWith("averaged 1 of 2 series, recorded every 1 min, into steps of 5 min (epoch-aligned means", inputs.DownsampleNote, StringComparison.Ordinal);
    }

    [Fact]
    public void Assemble_DownsampleMax_EachTickHoldsThePeakOfTheStepThatEndedAtIt()
    {
        var inputs = ScenarioInputs.Assemble(Scenario("""{ "total": 100, "reason": "t" }""", """ "tickSeconds": 300, "downsample": "max","""), FinerAndCoarse());

        Assert.Equal([4 * 0.5, 9 * 0.5, 14 * 0.5], inputs.Partitions[0].Demand);
        Assert.StartsWith("took the peak of 1 of 2 series", inputs.DownsampleNote, StringComparison.Ordinal);
    }

    [Fact]
    public void Assemble_DownsampleLast_SamplesAndHoldsAsRecorded()
    {
        var inputs = ScenarioInputs.Assemble(Scenario("""{ "total": 100, "reason": "t" }""", """ "tickSeconds": 300, "downsample": "last","""), FinerAndCoarse());

        // Grid from 0 (both series start there) to a/1's last sample at 14 min: ticks at 0, 5 and 10 min, each taking
        // a/1's sample at that minute.
        Assert.Equal(0, inputs.StartUnixMs);
        Assert.Equal([0.0, 5 * 0.5, 10 * 0.5], inputs.Partitions[0].Demand);
        Assert.Null(inputs.DownsampleNote);
    }

    [Fact]
    public void Assemble_FinerSeriesOfOnlyNaN_FailsNamingTheSeries()
    {
        var t = Enumerable.Range(0, 15).Select(i => i * S).ToArray();
        RecordedSeries[] available =
        [
            new(new SeriesInfo("a/1", "percent", TimeSpan.FromMinutes(1)), t, [.. t.Select(_ => double.NaN)]),
            Series("b", [0, M, 2 * M], [1, 2, 3]),
        ];

        var e = Assert.Throws<ScenarioException>(() => ScenarioInputs.Assemble(Scenario("""{ "total": 100, "reason": "t" }""", """ "tickSeconds": 300,"""), available));

        Assert.Contains("the series 'a/1' has no finite sample (all 15 are NaN or infinite)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Assemble_NaNOrInfiniteSampleAtTheTick_IsAGapThatHoldsTheValueBefore()
    {
        RecordedSeries[] available =
        [
            Series("a/1", [0, M, 2 * M, 3 * M, 4 * M], [2, double.NaN, double.PositiveInfinity, 8, 10]),
            Series("b", [0, M, 2 * M, 3 * M, 4 * M], [1, 1, 1, 1, 1]),
        ];

        var inputs = ScenarioInputs.Assemble(Scenario("""{ "total": "auto" }"""), available);

        // 2 is held over the two unusable samples; the budget is sized on finite demand.
        Assert.Equal([1.0, 1, 1, 4, 5], inputs.Partitions[0].Demand);
        Assert.Equal(1.25 * 6, inputs.TotalBudget, 9);
    }

    [Fact]
    public void Assemble_SeriesSharingASingleTick_FailsSayingTwoAreNeeded()
    {
        RecordedSeries[] available = [Series("a/1", [0], [1]), Series("b", [0], [1])];

        var e = Assert.Throws<ScenarioException>(() => ScenarioInputs.Assemble(Scenario("""{ "total": 100, "reason": "t" }"""), available));

        Assert.Contains("share a single tick, and a replay needs at least 2 to measure", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Assemble_TickFarFinerThanTheSpan_FailsOnTickSecondsBeforeAllocating()
    {
        RecordedSeries[] available = [Series("a/1", [0, 12 * 3_600_000L], [1, 2]), Series("b", [0, 12 * 3_600_000L], [1, 1])];

        var e = Assert.Throws<ScenarioException>(() => ScenarioInputs.Assemble(Scenario("""{ "total": 100, "reason": "t" }""", """ "tickSeconds": 0.001,"""), available));

        Assert.Equal("$.tickSeconds", e.JsonPath);
        Assert.Contains("makes 43,200,001 ticks, more than the 10,000,000 a replay holds", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "total": 1e-7, "reason": "t" }""")]
    [InlineData("""{ "total": 1e13, "reason": "t" }""")]
    public void Assemble_BudgetOutsideWhatTheLoopSplits_FailsOnTheBudget(string budget)
    {
        RecordedSeries[] available = [Series("a/1", [0, M], [1, 2]), Series("b", [0, M], [1, 1])];

        var e = Assert.Throws<ScenarioException>(() => ScenarioInputs.Assemble(Scenario(budget), available));

        Assert.Equal("$.budget", e.JsonPath);
        Assert.Contains("outside what a replay splits", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Assemble_SeriesAtTheTick_NoteIsNullAndValuesAreTheSamples()
    {
        RecordedSeries[] available = [Series("a/1", [0, M, 2 * M], [1, 2, 3]), Series("b", [0, M, 2 * M], [1, 1, 1])];

        var inputs = ScenarioInputs.Assemble(Scenario("""{ "total": 100, "reason": "t" }""", """ "tickSeconds": 300,"""), available);

        Assert.Equal([0.5, 1, 1.5], inputs.Partitions[0].Demand);
        Assert.Null(inputs.DownsampleNote);
    }

    [Fact]
    public void Assemble_SeriesFinerThanTheTick_PoisoningSamplesAfterATickChangesNoTickUpToIt()
    {
        // Causality of the folding: the value at tick k may use samples up to that tick's time only. Poison every raw
        // sample after each tick's time in turn; the demand at that tick and every earlier one must not move.
        var scenario = Scenario("""{ "total": 100, "reason": "t" }""", """ "tickSeconds": 300,""");
        var clean = ScenarioInputs.Assemble(scenario, FinerAndCoarse());
        for (var k = 0; k < clean.Ticks; k++)
        {
            var at = clean.StartUnixMs + (k * M);
            var poisoned = FinerAndCoarse().Select(s =>
                new RecordedSeries(s.Info, s.Timestamps, s.Timestamps.Select((t, i) => t > at ? 1e9 : s.Values[i]).ToArray())).ToArray();

            var inputs = ScenarioInputs.Assemble(scenario, poisoned);

            for (var u = 0; u <= k; u++)
            {
                Assert.Equal(clean.Partitions[0].Demand[u], inputs.Partitions[0].Demand[u]);
                Assert.Equal(clean.Partitions[1].Demand[u], inputs.Partitions[1].Demand[u]);
            }

            if (k + 1 < clean.Ticks)
            {
                Assert.NotEqual(clean.Partitions[0].Demand[k + 1], inputs.Partitions[0].Demand[k + 1]);   // the poison is seen, one tick later
            }
        }
    }

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

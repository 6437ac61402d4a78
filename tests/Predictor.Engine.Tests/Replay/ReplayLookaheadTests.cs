using Predictor.Engine.Forecasting;
using Predictor.Engine.Replay;
using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Replay;

/// <summary>
/// A replay forecasts ahead of the loop in batches (<see cref="LookaheadForecaster"/>). These tests hold it to what
/// it promises: the same decisions as inference tick by tick, bit for bit, on the shipped scenarios and with the default
/// GBDT model; every tick answered from the batch (no miss, so the speed-up is real); the loop's own input used
/// whenever it differs; and no leak of the future.
/// </summary>
public sealed class ReplayLookaheadTests
{
    [Theory]
    [InlineData("nab-host.json")] // trained SSA model (MatMul), 2 series
    [InlineData("azure-placement.json")] // trained ridge model, 23 series, placement
    [InlineData("build-recording.json")] // the managed naive forecaster at 100 ms ticks
    public void ShippedScenario_LookaheadAndTickByTick_SameAllocationsAndMigrations(string file)
    {
        var ahead = ShippedScenarioReplay.Run(file);
        var tickByTick = ShippedScenarioReplay.Run(file, lookaheadRows: 0);

        AssertSameRuns(tickByTick, ahead);
        Assert.All(tickByTick.Policies, p => Assert.Equal(0, p.Run.InferenceAhead));
    }

    [Fact]
    public void DefaultGbdtModel_LookaheadAndTickByTick_SameDecisionsAndNoMiss()
    {
        var (scenario, inputs) = AzureGbdtScenario(ticks: 4 * 288);

        var ahead = ReplayRunner.Run(scenario, inputs, Open, true, null, ReplayRunner.LookaheadRows);
        var tickByTick = ReplayRunner.Run(scenario, inputs, Open, true, null, 0);

        AssertSameRuns(tickByTick, ahead);
        var run = Assert.Single(ahead.Policies).Run;
        // The model forecasts once its 288-step window is full: from the tick that closes step 288 on.
        Assert.Equal((4 * 288) - 288, run.InferenceAhead);
        Assert.Equal(0, run.InferenceMisses);
        Assert.NotEmpty(run.Migrations); // placement acted on the forecasts, so they were used
    }

    [Fact]
    public void DefaultGbdtModel_DemandPoisonedAfterT_NoAllocationUpToTPlusOneChanges()
    {
        var (scenario, inputs) = AzureGbdtScenario(ticks: 2 * 288);
        var series = new List<double[]> { inputs.Partitions[0].Demand, inputs.Partitions[1].Demand };
        series.AddRange(inputs.Modules.Select(m => m.Demand));

        IReadOnlyList<double[]> Decide(IReadOnlyList<double[]> d)
        {
            var poisoned = inputs with
            {
                Partitions = [inputs.Partitions[0] with { Demand = d[0] }, inputs.Partitions[1] with { Demand = d[1] }],
                Modules = [.. inputs.Modules.Select((m, i) => m with { Demand = d[2 + i] })],
            };
            var r = ReplayRunner.Run(scenario, poisoned, Open);
            Assert.True(r.Policies[0].Run.InferenceAhead > 0); // the batches did run ahead, over the poison
            return r.Policies.SelectMany(p => p.Run.Partitions.Select(x => x.Allocation)).ToList();
        }

        // Cuts inside the first batch, at a batch boundary's neighbourhood, and late.
        Assert.Null(CausalityCheck.FindLeak(Decide, series, [300, 330, 500]));
    }

    [Fact]
    public void Forecast_InputDiffersFromTheRecording_RunsTheModelOnTheLoopsInputAndCountsAMiss()
    {
        var naive = ForecasterLoader.Naive(new NaiveForecasterOptions { Window = 4, Horizon = 3, Step = TimeSpan.FromSeconds(1) });
        double[][] recorded = [[1, 2, 3, 4, 5, 6, 7, 8], [10, 20, 30, 40, 50, 60, 70, 80]];
        var ahead = new LookaheadForecaster(naive, recorded, 0, 1000, ticksPerCall: 3);
        var forecast = new float[6];
        var upper = new float[6];

        // Tick 4 is the first with a full window; it holds steps 0–3 (tick 4's own value is in the open step).
        ahead.Forecast([1, 2, 3, 4, 10, 20, 30, 40], [], 2, forecast, upper);
        Assert.Equal([4f, 4, 4, 40, 40, 40], forecast);
        Assert.Equal((1, 0), (ahead.Hits, ahead.Misses));

        // The loop saw something else at tick 5 (say a sample went missing): its input wins.
        ahead.Forecast([2, 3, 4, 9, 20, 30, 40, 50], [], 2, forecast, upper);
        Assert.Equal([9f, 9, 9, 50, 50, 50], forecast);
        Assert.Equal([16f, 16, 16, 80, 80, 80], upper); // last + the window's range
        Assert.Equal((1, 1), (ahead.Hits, ahead.Misses));

        // Back in step at tick 6: answered from the batch again.
        ahead.Forecast([3, 4, 5, 6, 30, 40, 50, 60], [], 2, forecast, upper);
        Assert.Equal([6f, 6, 6, 60, 60, 60], forecast);
        Assert.Equal((2, 1, 1), (ahead.Hits, ahead.Misses, ahead.BatchCalls));
    }

    [Fact]
    public void Forecast_BatchCallThrows_EveryCallStillGetsTheModelsAnswerOnTheLoopsInput()
    {
        var naive = ForecasterLoader.Naive(new NaiveForecasterOptions { Window = 4, Horizon = 3, Step = TimeSpan.FromSeconds(1) });
        double[][] recorded = [[1, 2, 3, 4, 5, 6, 7, 8]];
        var ahead = new LookaheadForecaster(new BatchRefusing(naive), recorded, 0, 1000, ticksPerCall: 2);
        var forecast = new float[3];
        var upper = new float[3];

        // The first call's batch throws; the call then runs the model on its own input (one row: accepted).
        ahead.Forecast([1, 2, 3, 4], [], 1, forecast, upper);
        Assert.Equal([4f, 4, 4], forecast);
        ahead.Forecast([2, 3, 4, 5], [], 1, forecast, upper);
        Assert.Equal([5f, 5, 5], forecast);

        Assert.Equal(0, ahead.Hits);
        Assert.Equal(2, ahead.Misses);
    }

    [Fact]
    public void Forecast_TicksShorterThanTheModelStep_OneRowPerStepAndTheSameForecastsAsTheLoop()
    {
        // 250 ms ticks, a 1 s model step: four ticks share each window, so a batch of 3 distinct inputs spans 12 ticks.
        const int ticks = 200;
        double[][] demand = [.. Enumerable.Range(0, 4).Select(s => Enumerable.Range(0, ticks).Select(t => 1 + s + Math.Sin(t / 7.0)).ToArray())];
        var scenario = ScenarioFile.Parse("""
            {
              "name": "fast-ticks", "tickSeconds": 0.25,
              "source": { "trace": ".", "format": "csv" },
              "partitions": { "user": { "series": ["u"] }, "system": { "series": ["s"] } },
              "budget": { "total": "auto" },
              "locations": [ { "id": "core0", "cpuCapacity": 4.0 }, { "id": "core1", "cpuCapacity": 4.0 } ],
              "modules": [ { "name": "a", "series": ["a"], "location": "core0" }, { "name": "b", "series": ["b"], "location": "core0" } ],
              "policies": ["predictive"]
            }
            """, "fast.json", Path.GetTempPath());
        var inputs = new ScenarioInputs(1_400_000_000_000, TimeSpan.FromMilliseconds(250), ticks,
            [new DemandSeries("user", demand[0], ["u"]), new DemandSeries("system", demand[1], ["s"])],
            [new DemandSeries("a", demand[2], ["a"]), new DemandSeries("b", demand[3], ["b"])], 20, "fixed");
        static IForecaster Slow(ScenarioModel _) => ForecasterLoader.Naive(new NaiveForecasterOptions { Window = 8, Step = TimeSpan.FromSeconds(1) });

        var ahead = ReplayRunner.Run(scenario, inputs, Slow, true, null, lookaheadRows: 4 * 3);
        var tickByTick = ReplayRunner.Run(scenario, inputs, Slow, true, null, 0);

        AssertSameRuns(tickByTick, ahead);
        var run = Assert.Single(ahead.Policies).Run;
        Assert.Equal(0, run.InferenceMisses);
        Assert.True(run.InferenceAhead > 150, $"{run.InferenceAhead} ticks answered ahead");
    }

    [Fact]
    public void TicksPerCall_ModelTakesFewerThanTwoTicksOfRows_NoLookahead()
    {
        using var naive = ForecasterLoader.Naive();

        Assert.Equal(25, LookaheadForecaster.TicksPerCall(naive, 40, 1024));
        Assert.Equal(0, LookaheadForecaster.TicksPerCall(naive, 40, 79));
        Assert.Equal(2, LookaheadForecaster.TicksPerCall(naive, 40, 80));
    }

    private static IForecaster Open(ScenarioModel model) =>
        ReplayRunner.OpenModel(model, new NaiveForecasterOptions { Step = TimeSpan.FromMinutes(5) });

    private static void AssertSameRuns(ReplayResult expected, ReplayResult actual)
    {
        Assert.Equal(expected.Policies.Count, actual.Policies.Count);
        for (var p = 0; p < expected.Policies.Count; p++)
        {
            var (e, a) = (expected.Policies[p].Run, actual.Policies[p].Run);
            Assert.Equal(e.Name, a.Name);
            for (var i = 0; i < e.Partitions.Count; i++)
            {
                Assert.Equal(e.Partitions[i].Allocation, a.Partitions[i].Allocation);
            }

            Assert.Equal(e.Migrations, a.Migrations);
            Assert.Equal(0, a.InferenceMisses);
        }
    }

    /// <summary>
    /// The default GBDT model (<c>models/azure_v1_vm_737498.onnx</c>, W = 288 with calendar features) driving the
    /// predictive policy and placement on Azure V1: user = VMs 0–14, system = VMs 15–29, eight modules (VMs 0–7).
    /// </summary>
    private static (ScenarioOptions Scenario, ScenarioInputs Inputs) AzureGbdtScenario(int ticks)
    {
        var trace = Path.Combine(RepoPaths.SharedDatasets, "azure_v1", "microsoft_avg_100.subset30.csv");
        var vms = TraceImporter.Import(TraceFormat.AzureV1, trace).Series.Select(s => s.Values.Take(ticks).Select(v => 0.01 * v).ToArray()).ToList();
        double[] Sum(int from, int count) => [.. Enumerable.Range(0, ticks).Select(t => Enumerable.Range(from, count).Sum(v => vms[v][t]))];
        var model = RepoPaths.InRepo("models", "azure_v1_vm_737498.onnx");
        var scenario = ScenarioFile.Parse($$"""
            {
              "name": "gbdt-lookahead", "tickSeconds": 300, "unit": "cores",
              "source": { "trace": "{{trace}}", "format": "azure-v1" },
              "partitions": { "user": { "series": ["u"] }, "system": { "series": ["s"] } },
              "budget": { "total": "auto" },
              "locations": [ { "id": "core0", "cpuCapacity": 0.5 }, { "id": "core1", "cpuCapacity": 0.5 }, { "id": "core2", "cpuCapacity": 0.5 } ],
              "modules": [ {{string.Join(", ", Enumerable.Range(0, 8).Select(m => $$"""{ "name": "m{{m}}", "series": ["m{{m}}"], "location": "core{{m % 3}}" }"""))}} ],
              "policies": [{ "kind": "predictive", "model": "gbdt" }],
              "models": [{ "name": "gbdt", "path": "{{model}}" }]
            }
            """, "gbdt-lookahead.json", Path.GetTempPath());
        var user = Sum(0, 15);
        var system = Sum(15, 15);
        var inputs = new ScenarioInputs(1_578_268_800_000, TimeSpan.FromMinutes(5), ticks,
            [new DemandSeries("user", user, ["u"]), new DemandSeries("system", system, ["s"])],
            [.. Enumerable.Range(0, 8).Select(m => new DemandSeries($"m{m}", vms[m], [$"m{m}"]))],
            1.25 * Enumerable.Range(0, ticks).Max(t => user[t] + system[t]), "auto");
        return (scenario, inputs);
    }

    /// <summary>A model that refuses batches of more than one row, to make the lookahead's batch call fail.</summary>
    private sealed class BatchRefusing(IForecaster inner) : IForecaster
    {
        public ForecastShape Shape => inner.Shape;

        public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper)
        {
            if (seriesCount > 1)
            {
                throw new InvalidOperationException("no batches");
            }

            inner.Forecast(window, calendar, seriesCount, forecast, upper);
        }

        public void Dispose() => inner.Dispose();
    }
}

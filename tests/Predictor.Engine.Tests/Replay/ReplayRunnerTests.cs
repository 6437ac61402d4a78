using Predictor.Engine.Forecasting;
using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

public sealed class ReplayRunnerTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMinutes(5);

    private static ScenarioOptions Scenario(string warmUp = "0s") => ScenarioFile.Parse($$"""
        {
          "name": "runner",
          "warmUp": "{{warmUp}}",
          "source": { "trace": ".", "format": "csv" },
          "unit": "cores",
          "partitions": { "user": { "series": ["u"] }, "system": { "series": ["s"] } },
          "budget": { "total": "auto" },
          "locations": [ { "id": "core0", "cpuCapacity": 1.0 }, { "id": "core1", "cpuCapacity": 1.0 } ],
          "modules": [ { "name": "a", "series": ["a"], "location": "core0" }, { "name": "b", "series": ["b"], "location": "core0" } ],
          "policies": ["threshold", "vpa", "autopilot", "predictive"]
        }
        """, "runner.json", Path.GetTempPath());

    private static ScenarioInputs Inputs(double[] user, double[] system, double[] a, double[] b)
    {
        var peak = Enumerable.Range(0, user.Length).Max(t => user[t] + system[t]);
        return new ScenarioInputs(1_400_000_000_000, Tick, user.Length,
            [new DemandSeries("user", user, ["u"]), new DemandSeries("system", system, ["s"])],
            [new DemandSeries("a", a, ["a"]), new DemandSeries("b", b, ["b"])],
            1.25 * peak, "auto");
    }

    private static double[] Daily(double level, double amplitude, int ticks, double phase = 0) =>
        Enumerable.Range(0, ticks).Select(t => level + (amplitude * Math.Sin((2 * Math.PI * t / 288) + phase))).ToArray();

    private static IForecaster Naive(ScenarioModel _) => ForecasterLoader.Naive(new NaiveForecasterOptions { Step = Tick });

    [Fact]
    public void Run_TwoDays_EveryPolicyMeasuredOnAlignedTraces()
    {
        const int ticks = 2 * 288;
        var inputs = Inputs(Daily(4, 2, ticks), Daily(2, 1, ticks, 1), Daily(0.5, 0.3, ticks), Daily(0.4, 0.3, ticks, 2));

        var result = ReplayRunner.Run(Scenario(), inputs, Naive);

        Assert.Equal(["threshold", "vpa", "autopilot", "predictive/naive"], result.Policies.Select(p => p.Run.Name));
        Assert.Equal(ticks, result.TickCount);
        var threshold = result.Policies[0];
        // The seed's policy splits everything: nothing is ever left to the pool.
        Assert.Equal(0, threshold.Metrics.FreedPoolShare, 9);
        // Tick 0 is the even split the loop starts from.
        Assert.Equal(inputs.TotalBudget / 2, threshold.Run.Partitions[0].Allocation[0], 2);
        Assert.All(result.Policies, p => Assert.NotNull(p.Metrics.Placement));
        Assert.True(result.Policies[3].Run.IsPredictive);
    }

    [Theory]
    [InlineData(1e-3)]
    [InlineData(1e-6)]
    public void Run_BudgetBelowOneUnit_IsSplitAsFinelyAsInASmallerUnit(double unit)
    {
        // The loop splits integer units, 1000 to a scenario unit. A total of about 1.1 is 1,100 of them; the same demand
        // counted in a unit 1000 or a million times larger (a total far below 1) must not round to a handful of units,
        // but replay exactly as the reference does.
        const int ticks = 2 * 288;
        var user = Daily(0.4, 0.2, ticks);
        var system = Daily(0.2, 0.1, ticks, 1);
        var a = Daily(0.5, 0.3, ticks);
        var b = Daily(0.4, 0.3, ticks, 2);

        var reference = ReplayRunner.Run(Scenario(), Inputs(user, system, a, b), Naive);
        var scaled = ReplayRunner.Run(Scenario(), Inputs([.. user.Select(v => v * unit)], [.. system.Select(v => v * unit)], a, b), Naive);
        Assert.InRange(reference.Info.TotalBudget, 1, 10);

        Assert.Equal(reference.Policies.Count, scaled.Policies.Count);
        for (var i = 0; i < reference.Policies.Count; i++)
        {
            var r = reference.Policies[i].Metrics.Partitions;
            var x = scaled.Policies[i].Metrics.Partitions;
            var name = reference.Policies[i].Run.Name;
            Assert.True(r.UnderProvisionedTicks == x.UnderProvisionedTicks, $"{name}: {r.UnderProvisionedTicks} vs {x.UnderProvisionedTicks} short");
            Assert.True(r.Changes == x.Changes, $"{name}: {r.Changes} vs {x.Changes} changes");
            Assert.True(Math.Abs(r.RelativeSlack - x.RelativeSlack) < 1e-6, $"{name}: slack {r.RelativeSlack} vs {x.RelativeSlack}");
        }
    }

    [Fact]
    public void Run_OneDayWarmUp_MeasuresOnlyTheTicksAfterItAndTheyMatchTheFullRun()
    {
        const int ticks = 3 * 288;
        var inputs = Inputs(Daily(4, 2, ticks), Daily(2, 1, ticks, 1), Daily(0.5, 0.3, ticks), Daily(0.4, 0.3, ticks, 2));

        var full = ReplayRunner.Run(Scenario(), inputs, Naive);
        var measured = ReplayRunner.Run(Scenario("1d"), inputs, Naive);

        Assert.Equal(ticks - 288, measured.TickCount);
        Assert.Equal(inputs.StartUnixMs + (288 * (long)Tick.TotalMilliseconds), measured.Info.StartUnixMs);
        Assert.Contains("warm-up of 288 ticks", measured.Info.BudgetNote, StringComparison.Ordinal);
        for (var p = 0; p < full.Policies.Count; p++)
        {
            // The warm-up changes what is counted, not what the loop did.
            Assert.Equal(full.Policies[p].Run.Partitions[0].Allocation[288..], measured.Policies[p].Run.Partitions[0].Allocation);
            Assert.All(measured.Policies[p].Run.Migrations, m => Assert.InRange(m.Tick, 0, ticks - 289));
        }
    }

    [Fact]
    public void Run_WarmUpLongerThanTheData_PointsAtTheField()
    {
        var inputs = Inputs(Daily(4, 2, 288), Daily(2, 1, 288, 1), Daily(0.5, 0.3, 288), Daily(0.4, 0.3, 288, 2));

        var e = Assert.Throws<ScenarioException>(() => ReplayRunner.Run(Scenario("2d"), inputs, Naive));

        Assert.Equal("$.warmUp", e.JsonPath);
    }

    [Fact]
    public void Run_DemandPoisonedAfterT_NoAllocationUpToTPlusOneChanges()
    {
        const int ticks = 300;
        double[][] demand = [Daily(4, 2, ticks), Daily(2, 1, ticks, 1), Daily(0.5, 0.3, ticks), Daily(0.4, 0.3, ticks, 2)];

        IReadOnlyList<double[]> Decide(IReadOnlyList<double[]> d)
        {
            var r = ReplayRunner.Run(Scenario(), Inputs(d[0], d[1], d[2], d[3]) with { TotalBudget = 10 }, Naive);
            return r.Policies.SelectMany(p => p.Run.Partitions.Select(x => x.Allocation)).ToList();
        }

        Assert.Null(CausalityCheck.FindLeak(Decide, demand, [10, 150, 297]));
    }

    [Fact]
    public void Run_PredictiveSettings_EachPolicyRunsWithItsOwnAndEmptySettingsAreTheDefaults()
    {
        const int ticks = 2 * 288;
        var inputs = Inputs(Daily(4, 2, ticks), Daily(2, 1, ticks, 1), Daily(0.5, 0.3, ticks), Daily(0.4, 0.3, ticks, 2)) with { Modules = [] };
        var scenario = ScenarioFile.Parse("""
            {
              "name": "settings",
              "source": { "trace": ".", "format": "csv" },
              "partitions": { "user": { "series": ["u"] }, "system": { "series": ["s"] } },
              "budget": { "total": "auto" },
              "policies": [
                { "kind": "predictive", "name": "plain" },
                { "kind": "predictive", "name": "explicit-defaults", "settings": {} },
                { "kind": "predictive", "name": "roomy", "settings": { "headroom": 0.5, "leadSteps": "horizon", "upperTracking": false } }
              ]
            }
            """, "settings.json", Path.GetTempPath());

        var result = ReplayRunner.Run(scenario, inputs, Naive);

        double[] Allocation(int policy, int partition) => result.Policies[policy].Run.Partitions[partition].Allocation;
        Assert.Equal(Allocation(0, 0), Allocation(1, 0));
        Assert.Equal(Allocation(0, 1), Allocation(1, 1));
        Assert.NotEqual(Allocation(0, 0), Allocation(2, 0));
        Assert.True(result.Policies[2].Metrics.Partitions.RelativeSlack > result.Policies[0].Metrics.Partitions.RelativeSlack);
    }
}

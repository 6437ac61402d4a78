using Predictor.Engine.Placement;

namespace Predictor.Engine.Tests.Placement;

public sealed class PlacementPlannerTests
{
    private static readonly HashSet<string> None = new(StringComparer.Ordinal);

    internal static HardwareLocation Core(int id, double capacity = 1.0, params string[] caps) =>
        new($"core{id}", LocationKind.CoreSet, [id], 0, capacity, 1L << 30, new HashSet<string>(caps, StringComparer.Ordinal));

    internal static ModuleSpec Module(string name, long state = 100_000_000, params string[] requirements) =>
        new(name, $"module/{name}/cpu", 0.2, 1L << 20, state, new HashSet<string>(requirements, StringComparer.Ordinal));

    [Fact]
    public void Plan_NoSurge_MovesNothing()
    {
        var planner = Placements.Planner([Core(0), Core(1)], [Module("a"), Module("b")]);
        var migrations = new Migration[4];
        Assert.Equal(0, planner.Plan([0, 0], [0.3, 0.4], migrations));
    }

    [Fact]
    public void Plan_SurgeAnticipated_MovesAtTheFirstTickWhoseHorizonSeesIt()
    {
        // Module b's load surges to 0.8 cores at tick 10; the forecast (exact here) covers H ticks ahead, and the
        // planner sees max over the horizon. Both start on core0 (capacity 1, limit 0.9).
        const int surgeAt = 10;
        foreach (var horizon in new[] { 1, 3 })
        {
            var planner = Placements.Planner([Core(0), Core(1)], [Module("a"), Module("b")]);
            int[] assignment = [0, 0];
            var migrations = new Migration[4];
            var movedAt = -1;
            for (var t = 0; t < 20 && movedAt < 0; t++)
            {
                var upperB = 0.0;
                for (var h = 1; h <= horizon; h++)
                {
                    upperB = Math.Max(upperB, t + h >= surgeAt ? 0.8 : 0.2);
                }

                var n = planner.Plan(assignment, [0.3, upperB], migrations);
                if (n > 0)
                {
                    movedAt = t;
                    Assert.Equal(1, n);
                    Assert.Equal(1, migrations[0].To);
                }
            }

            Assert.Equal(surgeAt - horizon, movedAt); // horizon 1: the tick just before the surge
        }
    }

    [Fact]
    public void Plan_OverloadResolvableBySeveral_MovesTheCheapest()
    {
        var planner = Placements.Planner([Core(0), Core(1)], [Module("big", 900_000_000), Module("small", 10_000_000), Module("c", 500_000_000)]);
        var migrations = new Migration[4];
        var n = planner.Plan([0, 0, 0], [0.4, 0.4, 0.4], migrations);
        Assert.Equal(1, n);
        Assert.Equal(1, migrations[0].Module);
        Assert.Equal(0.02, migrations[0].CostSeconds, 6); // 10 MB at 500 MB/s
    }

    [Fact]
    public void Plan_RequirementNotMet_MovesToALocationThatOffersIt()
    {
        var planner = Placements.Planner([Core(0), Core(1), Core(2, 1.0, "accelerator:gpu")], [Module("infer", 1000, "accelerator:gpu")]);
        var migrations = new Migration[4];
        Assert.Equal(1, planner.Plan([0], [0.1], migrations));
        Assert.Equal(2, migrations[0].To);
    }

    [Fact]
    public void Plan_OverloadedButOnlyAllowedLocation_Stays()
    {
        var planner = Placements.Planner([Core(0, 1.0, "accelerator:gpu"), Core(1)], [Module("infer", 1000, "accelerator:gpu"), Module("x")]);
        var migrations = new Migration[4];
        var n = planner.Plan([0, 1], [1.5, 0.1], migrations);
        Assert.Equal(0, n);
    }

    [Fact]
    public void Plan_NowhereFits_NoMove()
    {
        var planner = Placements.Planner([Core(0), Core(1)], [Module("a"), Module("b")]);
        Assert.Equal(0, planner.Plan([0, 1], [0.95, 0.95], new Migration[4]));
    }

    [Fact]
    public void Plan_TiedTargets_BreaksTiesOnListOrder()
    {
        var planner = Placements.Planner([Core(0), Core(1), Core(2), Core(3)], [Module("a"), Module("b")]);
        var first = new Migration[4];
        var second = new Migration[4];
        Assert.Equal(1, planner.Plan([0, 0], [0.5, 0.5], first));
        Assert.Equal(1, planner.Plan([0, 0], [0.5, 0.5], second));
        Assert.Equal(first[0], second[0]);
        Assert.Equal(0, first[0].Module); // equal cost: the first module in the list
        Assert.Equal(1, first[0].To);     // equal room: the first location in the list
    }

    [Fact]
    public void Plan_PreferredCapability_ChosenAmongFittingTargets()
    {
        var module = Module("a") with { Preferences = new HashSet<string>(["avx512"], StringComparer.Ordinal) };
        var planner = Placements.Planner([Core(0), Core(1, 2.0), Core(2, 1.0, "avx512")], [module, Module("b")]);
        var migrations = new Migration[4];
        Assert.Equal(1, planner.Plan([0, 0], [0.6, 0.6], migrations));
        Assert.Equal(2, migrations[0].To); // core1 has more room, core2 has the preference
    }

    [Fact]
    public void Initial_RequirementsAndCapacity_AreRespected()
    {
        var assignment = Placements.Initial(
            [Core(0), Core(1), Core(2, 1.0, "accelerator:gpu")],
            [Module("a"), Module("b"), Module("gpu", 1, "accelerator:gpu")],
            [0.6, 0.6, 0.3]);
        Assert.Equal(2, assignment[2]);
        Assert.NotEqual(assignment[0], assignment[1]);
    }

    [Fact]
    public void Planner_RequirementNobodyOffers_ThrowsSayingWhich()
    {
        var ex = Assert.Throws<PredictorException>(() => Placements.Planner([Core(0)], [Module("x", 1, "accelerator:npu")]));
        Assert.Contains("'x'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("accelerator:npu", ex.Message, StringComparison.Ordinal);
    }
}

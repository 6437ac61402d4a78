using Predictor.Engine.Control;
using Predictor.Engine.Control.Safety;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Tests.Control;

public sealed class SafetyPipelineTests
{
    private const long Total = 1000;

    private static SafetyContext Context() => new(PartitionSplit.Even(Total), PartitionSplit.Even(Total)) { ModuleCount = 4, LocationCount = 2 };

    private static Decision Proposal(long memUser, long memSystem, long cpuUser = 500, long cpuSystem = 500) =>
        new(new PartitionSplit(Total, memUser, memSystem), new PartitionSplit(Total, cpuUser, cpuSystem), 8);

    private static void AddMigrations(Decision decision, params Migration[] migrations)
    {
        migrations.CopyTo(decision.MigrationBuffer);
        decision.SetMigrationCount(migrations.Length);
    }

    [Fact]
    public void Bounds_PartitionAboveMax_ClampedAndFlagged()
    {
        var decision = new BoundsStep(new PartitionBounds()).Apply(Proposal(900, 100), Context());
        Assert.Equal(800, decision[ResourceKind.Memory].User);
        Assert.Equal(200, decision[ResourceKind.Memory].System);
        Assert.True(decision.Reasons.HasFlag(DecisionReasons.ClampedToBounds));
    }

    [Fact]
    public void Bounds_MigrationToMissingLocation_Dropped()
    {
        var decision = Proposal(500, 500);
        AddMigrations(decision, new Migration(0, 0, 7, 0.1), new Migration(1, 0, 1, 0.1));
        decision = new BoundsStep(new PartitionBounds()).Apply(decision, Context());
        Assert.Equal(1, decision.MigrationCount);
        Assert.Equal(1, decision.Migrations[0].Module);
        Assert.True(decision.Reasons.HasFlag(DecisionReasons.InvalidMigrationDropped));
    }

    [Fact]
    public void MinimumChange_SmallChange_KeepsLastSplit()
    {
        var decision = new MinimumChangeStep(0.02).Apply(Proposal(510, 490), Context());
        Assert.Equal(500, decision[ResourceKind.Memory].User);
        Assert.True(decision.Reasons.HasFlag(DecisionReasons.BelowMinimumChange));
    }

    [Fact]
    public void MinimumChange_LargeChange_Passes()
    {
        var decision = new MinimumChangeStep(0.02).Apply(Proposal(530, 470), Context());
        Assert.Equal(530, decision[ResourceKind.Memory].User);
        Assert.Equal(DecisionReasons.None, decision.Reasons);
    }

    [Fact]
    public void MigrationBudget_Exhausted_LaterMigrationsHeldUntilTheWindowPasses()
    {
        var pipeline = new SafetyPipeline([new MigrationBudgetStep(1.0, TimeSpan.FromMinutes(10))]);
        var context = Context();
        context.BeginTick(0);
        var first = Proposal(500, 500);
        AddMigrations(first, new Migration(0, 0, 1, 0.6), new Migration(1, 0, 1, 0.6));
        first = pipeline.Run(first, context);
        Assert.Equal(1, first.MigrationCount);
        Assert.True(first.Reasons.HasFlag(DecisionReasons.MigrationBudgetExhausted));

        context.BeginTick(60_000);
        var second = Proposal(500, 500);
        AddMigrations(second, new Migration(1, 0, 1, 0.6));
        Assert.Equal(0, pipeline.Run(second, context).MigrationCount);

        context.BeginTick(601_000); // the first migration left the window
        var third = Proposal(500, 500);
        AddMigrations(third, new Migration(1, 0, 1, 0.6));
        Assert.Equal(1, pipeline.Run(third, context).MigrationCount);
    }

    [Fact]
    public void FailClosed_MissingData_HoldsLastSafeStateAndSaysWhy()
    {
        var pipeline = SafetyPipeline.CreateDefault();
        var context = Context();
        context.BeginTick(0);
        Assert.Equal(700, pipeline.Run(Proposal(700, 300), context)[ResourceKind.Memory].User);

        context.BeginTick(100);
        context.ReportMissing("series host/mem/user has no sample at this tick");
        var proposal = Proposal(300, 700);
        AddMigrations(proposal, new Migration(0, 0, 1, 0.1));
        var held = pipeline.Run(proposal, context);
        Assert.True(held.Held);
        Assert.Equal(700, held[ResourceKind.Memory].User);
        Assert.Equal(0, held.MigrationCount);
        Assert.Contains("host/mem/user", held.Detail, StringComparison.Ordinal);

        context.BeginTick(200); // next tick, data back: proposals flow again
        Assert.Equal(400, pipeline.Run(Proposal(400, 600), context)[ResourceKind.Memory].User);
    }

    [Fact]
    public void FailClosed_StepThrows_HoldsLastSafeStateAndKeepsTicking()
    {
        var pipeline = new SafetyPipeline([new ThrowingStep()]);
        var context = Context();
        context.BeginTick(0);
        var held = pipeline.Run(Proposal(700, 300), context);
        Assert.True(held.Reasons.HasFlag(DecisionReasons.HeldError));
        Assert.Equal(500, held[ResourceKind.Memory].User);
        Assert.Contains("boom", held.Detail, StringComparison.Ordinal);
        Assert.Equal(500, context.LastSafe[ResourceKind.Memory].User);
    }

    [Fact]
    public void FailClosed_TotalChangedByPolicy_Held()
    {
        var pipeline = new SafetyPipeline([]);
        var context = Context();
        context.BeginTick(0);
        var proposal = new Decision(new PartitionSplit(2000, 500, 500), PartitionSplit.Even(Total));
        Assert.True(pipeline.Run(proposal, context).Held);
    }

    [Fact]
    public void CreateDefault_Order_IsBoundsMinimumChangeBudgetFailClosed()
    {
        var steps = SafetyPipeline.CreateDefault().Steps;
        Assert.IsType<BoundsStep>(steps[0]);
        Assert.IsType<MinimumChangeStep>(steps[1]);
        Assert.IsType<MigrationBudgetStep>(steps[2]);
        Assert.IsType<FailClosedStep>(steps[3]);
    }

    [Fact]
    public void Order_BoundsBeforeMinimumChange_ClampedResultIsComparedNotTheRawProposal()
    {
        // Last safe user = 790. Proposal 900 clamps to 800: a change of 10 < 20 (2 %), so minimum change keeps 790.
        // The other order would see 900 vs 790 (≥ 20), pass it, and bounds would then apply 800.
        var context = new SafetyContext(new PartitionSplit(Total, 790, 210), PartitionSplit.Even(Total));
        context.BeginTick(0);
        var decision = SafetyPipeline.CreateDefault().Run(Proposal(900, 100), context);
        Assert.Equal(790, decision[ResourceKind.Memory].User);
        Assert.True(decision.Reasons.HasFlag(DecisionReasons.ClampedToBounds | DecisionReasons.BelowMinimumChange));

        var reversed = new SafetyPipeline([new MinimumChangeStep(0.02), new BoundsStep(new PartitionBounds())]);
        var context2 = new SafetyContext(new PartitionSplit(Total, 790, 210), PartitionSplit.Even(Total));
        context2.BeginTick(0);
        Assert.Equal(800, reversed.Run(Proposal(900, 100), context2)[ResourceKind.Memory].User);
    }

    [Fact]
    public void Order_FailClosedLast_OverridesWhateverEarlierStepsDid()
    {
        var context = Context();
        context.BeginTick(0);
        context.Error = new InvalidOperationException("forecaster failed");
        var decision = SafetyPipeline.CreateDefault().Run(Proposal(900, 100), context);
        Assert.Equal(500, decision[ResourceKind.Memory].User);
        Assert.True(decision.Held);
    }

    [Fact]
    public void Run_RandomProposalsAndGaps_OutputAlwaysWithinBoundsAndSumsToTotal()
    {
        var random = new Random(2026);
        var pipeline = SafetyPipeline.CreateDefault();
        var context = new SafetyContext(PartitionSplit.Even(Total), PartitionSplit.Even(Total)) { ModuleCount = 4, LocationCount = 2 };
        for (var t = 0; t < 5000; t++)
        {
            context.BeginTick(t * 100L);
            if (random.Next(10) == 0)
            {
                context.ReportMissing("gap");
            }

            var user = random.NextInt64(Total + 1);
            var system = random.NextInt64(Total - user + 1);
            var proposal = new Decision(new PartitionSplit(Total, user, system), new PartitionSplit(Total, system, user), 4);
            AddMigrations(proposal, new Migration(random.Next(6), random.Next(3), random.Next(3), random.NextDouble()));
            var decision = pipeline.Run(proposal, context);
            foreach (var resource in new[] { ResourceKind.Memory, ResourceKind.Cpu })
            {
                var split = decision[resource];
                Assert.Equal(Total, split.User + split.System + split.Pool);
                Assert.InRange(split.User, 200, 800);
                Assert.InRange(split.System, 200, 800);
            }

            foreach (var m in decision.Migrations)
            {
                Assert.InRange(m.Module, 0, 3);
                Assert.InRange(m.To, 0, 1);
                Assert.NotEqual(m.From, m.To);
            }

            Assert.Equal(decision.Held, context.MissingData is not null);
        }
    }

    private sealed class ThrowingStep : IDecisionStep
    {
        public Decision Apply(Decision proposed, SafetyContext context) => throw new InvalidOperationException("boom");
    }
}

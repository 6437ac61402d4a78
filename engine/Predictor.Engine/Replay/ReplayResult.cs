namespace Predictor.Engine.Replay;

/// <summary>One partition as replayed under one policy: demand and the allocation in force, tick by tick (aligned: allocation[t] was decided at t − 1).</summary>
/// <param name="Name">Partition name, e.g. <c>user</c>, <c>system</c>.</param>
/// <param name="Demand">Demand per tick.</param>
/// <param name="Allocation">Allocation in force per tick.</param>
public sealed record PartitionTrace(string Name, double[] Demand, double[] Allocation);

/// <summary>One location as replayed under one policy: its capacity and the load placed on it per tick.</summary>
/// <param name="Id">Location id (a <see cref="Placement.HardwareLocation.Id"/>).</param>
/// <param name="Capacity">Capacity, in the unit of the module loads (e.g. cores).</param>
/// <param name="Load">Σ demand of the modules on the location, per tick.</param>
public sealed record LocationTrace(string Id, double Capacity, double[] Load);

/// <summary>One module's demand per tick (the same under every policy).</summary>
/// <param name="Name">Module name.</param>
/// <param name="Demand">Demand per tick, in the unit of location capacities.</param>
public sealed record ModuleTrace(string Name, double[] Demand);

/// <summary>A migration decided at <paramref name="Tick"/> and in force from the next tick.</summary>
/// <param name="Tick">Decision tick t; the module runs on <paramref name="To"/> from t + 1.</param>
/// <param name="Module">Module moved.</param>
/// <param name="From">Location it left.</param>
/// <param name="To">Location it moved to.</param>
public sealed record MigrationEvent(int Tick, string Module, string From, string To);

/// <summary>What one policy did over the whole replay. Placement traces are empty when the scenario has no modules.</summary>
/// <param name="Name">Unique policy name, e.g. <c>threshold</c>, <c>vpa</c>, <c>predictive/ssa</c>.</param>
/// <param name="IsPredictive">True for the predictive policy (the report says whether it is dominated).</param>
/// <param name="Partitions">Partition traces.</param>
/// <param name="Locations">Location traces (empty without placement).</param>
/// <param name="Modules">Module demand (empty without placement).</param>
/// <param name="Migrations">Migrations in tick order (empty without placement).</param>
public sealed record PolicyRun(
    string Name,
    bool IsPredictive,
    IReadOnlyList<PartitionTrace> Partitions,
    IReadOnlyList<LocationTrace> Locations,
    IReadOnlyList<ModuleTrace> Modules,
    IReadOnlyList<MigrationEvent> Migrations)
{
    /// <summary>Ticks whose forecast came from a batch run ahead of the loop (see <see cref="LookaheadForecaster"/>).</summary>
    internal int InferenceAhead { get; init; }

    /// <summary>Ticks where the loop's model input differed from the one forecast ahead, so the model ran on the loop's own.</summary>
    internal int InferenceMisses { get; init; }
}

/// <summary>Facts about a replay run, shown in the report's header and written to the result file.</summary>
/// <param name="Scenario">Scenario name.</param>
/// <param name="TickLength">Length of one tick.</param>
/// <param name="StartUnixMs">Wall-clock time of tick 0 (Unix ms, UTC), or null when the trace has only offsets (the time axis then shows elapsed days).</param>
/// <param name="TotalBudget">Total budget the partitions share.</param>
/// <param name="BudgetNote">How the total was chosen, e.g. "1.25 × peak of summed demand (peak 80.0)".</param>
/// <param name="Unit">Unit of demand, allocation and budget, e.g. <c>cores</c> or <c>% CPU</c>.</param>
public sealed record ReplayRunInfo(string Scenario, TimeSpan TickLength, long? StartUnixMs, double TotalBudget, string BudgetNote, string Unit)
{
    /// <summary>How series recorded more finely than the tick were folded into it (<see cref="ScenarioInputs.DownsampleNote"/>), or null when none was.</summary>
    public string? DownsampleNote { get; init; }
}

/// <summary>The metrics of one policy, pooled over partitions, and per partition.</summary>
/// <param name="Partitions">Pooled over all partitions (what dominance uses).</param>
/// <param name="PerPartition">Per partition, in the order of the run's partitions.</param>
/// <param name="FreedPoolShare">Mean share of the budget left to the pool.</param>
/// <param name="Placement">Placement metrics, or null without placement.</param>
public sealed record PolicyMetrics(
    PartitionMetrics Partitions,
    IReadOnlyList<PartitionMetrics> PerPartition,
    double FreedPoolShare,
    PlacementMetrics? Placement);

/// <summary>A policy's run, its metrics, and which policies dominate it.</summary>
/// <param name="Run">What the policy did.</param>
/// <param name="Metrics">Its metrics.</param>
/// <param name="DominatedBy">Names of the policies that dominate it; empty when it is on the Pareto front.</param>
public sealed record PolicyOutcome(PolicyRun Run, PolicyMetrics Metrics, IReadOnlyList<string> DominatedBy)
{
    /// <summary>True when another policy dominates this one.</summary>
    public bool IsDominated => DominatedBy.Count > 0;
}

/// <summary>
/// The outcome of a replay: every policy's traces with its metrics and dominance, computed once here so the terminal
/// table, the JSON result and the HTML report cannot disagree. The constructor checks that the traces line up.
/// </summary>
public sealed class ReplayResult
{
    /// <summary>Checks the runs, measures each and compares them.</summary>
    /// <exception cref="ArgumentException">Runs that do not line up (lengths, names, migration ticks); the message says which.</exception>
    public ReplayResult(ReplayRunInfo info, IReadOnlyList<PolicyRun> runs, SurgeDefinition? surge = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            throw new ArgumentException("A replay result needs at least one policy run.", nameof(runs));
        }

        Info = info;
        Surge = surge ?? new SurgeDefinition();
        TickCount = Validate(runs);

        var metrics = new PolicyMetrics[runs.Count];
        var points = new ParetoPoint[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            metrics[i] = Measure(runs[i]);
            points[i] = new ParetoPoint(runs[i].Name, metrics[i].Partitions.UnderProvisionedShare, metrics[i].Partitions.RelativeSlack);
        }

        var dominatedBy = Pareto.DominatedBy(points);
        var outcomes = new PolicyOutcome[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            outcomes[i] = new PolicyOutcome(runs[i], metrics[i], dominatedBy[i]);
        }

        Policies = outcomes;
    }

    /// <summary>Facts about the run.</summary>
    public ReplayRunInfo Info { get; }

    /// <summary>The surge definition used for "migrations ahead of a surge".</summary>
    public SurgeDefinition Surge { get; }

    /// <summary>Ticks replayed (the length of every trace).</summary>
    public int TickCount { get; }

    /// <summary>Every policy in the order given.</summary>
    public IReadOnlyList<PolicyOutcome> Policies { get; }

    /// <summary>
    /// One plain sentence on the predictive policies: whether each is dominated, and by which policies; or that the run
    /// has no predictive policy.
    /// </summary>
    public string PredictiveVerdict()
    {
        var sentences = new List<string>();
        foreach (var p in Policies)
        {
            if (!p.Run.IsPredictive)
            {
                continue;
            }

            var dominates = Policies.Where(o => o.DominatedBy.Contains(p.Run.Name)).Select(o => o.Run.Name).ToList();
            var tail = dominates.Count > 0 ? $" and dominates {string.Join(", ", dominates)}" : " and dominates no other policy";
            sentences.Add(p.IsDominated
                ? $"The predictive policy {p.Run.Name} IS dominated: {string.Join(", ", p.DominatedBy)} had no more under-provisioned ticks and no more slack, and fewer of one."
                : $"The predictive policy {p.Run.Name} is not dominated by any other policy{tail}.");
        }

        if (sentences.Count == 0)
        {
            return "This run has no predictive policy.";
        }

        var front = BaselineFront();
        foreach (var p in Policies.Where(p => p.Run.IsPredictive && front.Count > 0))
        {
            var notBeaten = NotBeaten(p.Run.Name);
            sentences.Add(notBeaten.Count == 0
                ? $"Against the baselines on their Pareto front ({string.Join(", ", front)}), {p.Run.Name} beats every one: fewer under-provisioned ticks at no more slack, or less slack at no more under-provisioned ticks."
                : $"Against the baselines on their Pareto front ({string.Join(", ", front)}), {p.Run.Name} does NOT beat {string.Join(", ", notBeaten)}: neither fewer under-provisioned ticks at no more slack nor less slack at no more under-provisioned ticks.");
        }

        return string.Join(" ", sentences);
    }

    /// <summary>
    /// The baselines (every policy that is not predictive) that no other baseline dominates: the best a baseline
    /// does, each on its own trade-off of under-provisioned ticks against slack.
    /// </summary>
    public IReadOnlyList<string> BaselineFront()
    {
        var baselines = Policies.Where(p => !p.Run.IsPredictive).ToList();
        return baselines
            .Where(b => !baselines.Any(o => Pareto.Dominates(Point(o), Point(b))))
            .Select(b => b.Run.Name)
            .ToList();
    }

    /// <summary>
    /// The baselines on <see cref="BaselineFront"/> that policy <paramref name="name"/> does not beat, where beating a
    /// baseline is dominating it: fewer under-provisioned ticks at no more relative slack, or less slack at no more
    /// under-provisioned ticks. Empty when the policy beats the best baseline on every trade-off.
    /// </summary>
    public IReadOnlyList<string> NotBeaten(string name)
    {
        var policy = Policies.FirstOrDefault(p => p.Run.Name == name)
            ?? throw new ArgumentException($"No policy named '{name}' in this result.", nameof(name));
        return BaselineFront()
            .Where(b => !Pareto.Dominates(Point(policy), Point(Policies.First(p => p.Run.Name == b))))
            .ToList();
    }

    private static ParetoPoint Point(PolicyOutcome p) =>
        new(p.Run.Name, p.Metrics.Partitions.UnderProvisionedShare, p.Metrics.Partitions.RelativeSlack);

    private PolicyMetrics Measure(PolicyRun run)
    {
        var per = new PartitionMetrics[run.Partitions.Count];
        var allocations = new double[run.Partitions.Count][];
        for (var p = 0; p < per.Length; p++)
        {
            per[p] = ReplayMetrics.ForPartition(run.Partitions[p].Demand, run.Partitions[p].Allocation, Info.TickLength);
            allocations[p] = run.Partitions[p].Allocation;
        }

        var placement = run.Locations.Count > 0 && run.Modules.Count > 0
            ? ReplayMetrics.ForPlacement(run.Locations, run.Modules, run.Migrations, Info.TickLength, Surge)
            : null;
        return new PolicyMetrics(PartitionMetrics.Combine(per), per, ReplayMetrics.FreedPoolShare(allocations, Info.TotalBudget), placement);
    }

    private static int Validate(IReadOnlyList<PolicyRun> runs)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var ticks = -1;
        foreach (var run in runs)
        {
            ArgumentNullException.ThrowIfNull(run);
            if (string.IsNullOrWhiteSpace(run.Name) || !names.Add(run.Name))
            {
                throw new ArgumentException($"Policy names must be non-empty and unique; '{run.Name}' is not.", nameof(runs));
            }

            if (run.Partitions.Count == 0)
            {
                throw new ArgumentException($"Policy '{run.Name}' has no partition trace.", nameof(runs));
            }

            void Check(int length, string what)
            {
                if (ticks < 0)
                {
                    ticks = length;
                }

                if (length != ticks || length == 0)
                {
                    throw new ArgumentException(
                        $"Policy '{run.Name}': {what} has {length} ticks, expected {ticks} like every trace of the run (and at least one).", nameof(runs));
                }
            }

            foreach (var p in run.Partitions)
            {
                Check(p.Demand.Length, $"partition '{p.Name}' demand");
                Check(p.Allocation.Length, $"partition '{p.Name}' allocation");
            }

            foreach (var l in run.Locations)
            {
                Check(l.Load.Length, $"location '{l.Id}' load");
            }

            foreach (var m in run.Modules)
            {
                Check(m.Demand.Length, $"module '{m.Name}' demand");
            }

            var locations = run.Locations.Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
            var modules = run.Modules.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            var previous = int.MinValue;
            foreach (var e in run.Migrations)
            {
                if (e.Tick < 0 || e.Tick >= ticks || e.Tick < previous)
                {
                    throw new ArgumentException(
                        $"Policy '{run.Name}': migration of '{e.Module}' at tick {e.Tick} is out of range [0, {ticks}) or out of tick order.", nameof(runs));
                }

                if (!modules.Contains(e.Module) || !locations.Contains(e.From) || !locations.Contains(e.To) || e.From == e.To)
                {
                    throw new ArgumentException(
                        $"Policy '{run.Name}': migration of '{e.Module}' from '{e.From}' to '{e.To}' names an unknown module or location, or moves nowhere.", nameof(runs));
                }

                previous = e.Tick;
            }
        }

        return ticks;
    }
}

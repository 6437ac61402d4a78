namespace Predictor.Engine.Replay;

/// <summary>
/// The replay metrics of DESIGN.md, defined once and used by the replay, the report, the JSON result and the notebooks.
/// </summary>
/// <remarks>
/// <para>
/// Causality convention: every function here takes arrays that are already aligned tick by tick. Element <c>t</c> of an
/// allocation array is the allocation in force during tick <c>t</c>, which is the decision made at tick <c>t − 1</c>
/// (a decision made at tick t may use data up to t only and applies from t + 1). The replay loop does that shift;
/// nothing here shifts again, so <c>demand[t]</c> and <c>allocation[t]</c> are simply compared.
/// </para>
/// <para>Values must be finite: a gap in the data is filled (or the tick dropped) before the metrics, never silently here.</para>
/// </remarks>
public static class ReplayMetrics
{
    /// <summary>One day, the unit of "changes per partition-day" and "migrations per module-day".</summary>
    public static readonly TimeSpan Day = TimeSpan.FromDays(1);

    /// <summary>
    /// Measures one partition: under-provisioned ticks (demand strictly above allocation), slack
    /// Σ max(allocation − demand, 0) against Σ allocation, and changes (ticks t ≥ 1 whose allocation differs from
    /// tick t − 1's; the first tick is the initial state, not a change; equality is exact because the safety steps
    /// already suppress changes below their minimum).
    /// </summary>
    /// <param name="demand">Demand per tick, in the partition's unit.</param>
    /// <param name="allocation">Allocation in force per tick (aligned as the remarks of <see cref="ReplayMetrics"/> say).</param>
    /// <param name="tickLength">Length of one tick; scales change counts to changes per day.</param>
    public static PartitionMetrics ForPartition(ReadOnlySpan<double> demand, ReadOnlySpan<double> allocation, TimeSpan tickLength)
    {
        CheckAligned(demand, allocation, nameof(allocation));
        CheckTick(tickLength);
        var under = 0;
        var changes = 0;
        double slack = 0, allocated = 0;
        for (var t = 0; t < demand.Length; t++)
        {
            var d = demand[t];
            var a = allocation[t];
            CheckFinite(d, t, nameof(demand));
            CheckFinite(a, t, nameof(allocation));
            if (a < 0)
            {
                throw new ArgumentException($"allocation[{t}] is {a}; an allocation cannot be negative.", nameof(allocation));
            }

            if (d > a)
            {
                under++;
            }
            else
            {
                slack += a - d;
            }

            allocated += a;
            if (t > 0 && a != allocation[t - 1])
            {
                changes++;
            }
        }

        return new PartitionMetrics(demand.Length, under, slack, allocated, changes, tickLength);
    }

    /// <summary>
    /// Freed pool: the mean, over ticks, of the share of the total budget that no partition holds,
    /// (total − Σ allocations) / total. The seed's threshold policy splits everything, so its freed pool is 0.
    /// </summary>
    /// <param name="allocations">The allocation array of every partition, all of one length.</param>
    /// <param name="totalBudget">The total budget, in the partitions' unit; positive.</param>
    /// <exception cref="ArgumentException">Allocations that together exceed the budget (by more than 1e-9 relative): the loop broke its invariant.</exception>
    public static double FreedPoolShare(IReadOnlyList<double[]> allocations, double totalBudget)
    {
        ArgumentNullException.ThrowIfNull(allocations);
        if (allocations.Count == 0)
        {
            throw new ArgumentException("At least one partition's allocation is needed to measure the freed pool.", nameof(allocations));
        }

        if (!(totalBudget > 0) || double.IsInfinity(totalBudget))
        {
            throw new ArgumentOutOfRangeException(nameof(totalBudget), totalBudget, "The total budget must be a positive finite number.");
        }

        var n = allocations[0].Length;
        if (n == 0)
        {
            throw new ArgumentException("The allocation arrays are empty; a replay has at least one tick.", nameof(allocations));
        }

        double sumShare = 0;
        for (var t = 0; t < n; t++)
        {
            double held = 0;
            for (var p = 0; p < allocations.Count; p++)
            {
                var series = allocations[p];
                if (series.Length != n)
                {
                    throw new ArgumentException(
                        $"Partition {p} has {series.Length} ticks but partition 0 has {n}; align them before measuring.", nameof(allocations));
                }

                held += series[t];
            }

            var free = totalBudget - held;
            if (free < -1e-9 * totalBudget)
            {
                throw new ArgumentException(
                    $"At tick {t} the partitions hold {held}, more than the total budget {totalBudget}.", nameof(allocations));
            }

            sumShare += Math.Max(free, 0) / totalBudget;
        }

        return sumShare / n;
    }

    /// <summary>Ticks at which a location carries more load than its capacity (strictly more).</summary>
    public static int OverloadedTicks(ReadOnlySpan<double> load, double capacity)
    {
        if (!(capacity >= 0) || double.IsInfinity(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "A location's capacity must be a finite number ≥ 0.");
        }

        var count = 0;
        for (var t = 0; t < load.Length; t++)
        {
            CheckFinite(load[t], t, nameof(load));
            if (load[t] > capacity)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Migrations per module-day: migrations / (modules × ticks × tick length / 1 day).</summary>
    public static double MigrationsPerModuleDay(int migrations, int modules, int ticks, TimeSpan tickLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(migrations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modules);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ticks);
        CheckTick(tickLength);
        return migrations / (modules * Days(ticks, tickLength));
    }

    /// <summary>
    /// Decides whether one migration was made ahead of a surge, as <see cref="SurgeDefinition"/> defines it.
    /// </summary>
    /// <param name="migration">The migration; its <see cref="MigrationEvent.Tick"/> is the decision tick t, applied from t + 1.</param>
    /// <param name="sourceLoad">Load of the location the module left, per tick, as replayed (without the module after t).</param>
    /// <param name="sourceCapacity">Capacity of that location.</param>
    /// <param name="moduleDemand">The module's own demand per tick.</param>
    /// <param name="nextMigrationTick">Decision tick of the module's next migration, or null when none; the window stops there,
    /// because after it the module may be back on the source and the counterfactual no longer holds.</param>
    /// <param name="surge">What counts as a surge.</param>
    public static bool IsAheadOfSurge(
        MigrationEvent migration,
        ReadOnlySpan<double> sourceLoad,
        double sourceCapacity,
        ReadOnlySpan<double> moduleDemand,
        int? nextMigrationTick,
        SurgeDefinition surge)
    {
        ArgumentNullException.ThrowIfNull(migration);
        ArgumentNullException.ThrowIfNull(surge);
        CheckAligned(sourceLoad, moduleDemand, nameof(moduleDemand));
        var t = migration.Tick;
        if (t < 0 || t >= sourceLoad.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(migration), t, $"The migration's tick must lie in [0, {sourceLoad.Length}).");
        }

        var limit = surge.Threshold * sourceCapacity;

        // At decision time the source held the module and was not yet past the threshold: otherwise the move reacts
        // to a surge already under way, and is not "ahead" of it.
        if (sourceLoad[t] > limit)
        {
            return false;
        }

        var last = Math.Min(t + surge.HorizonTicks, sourceLoad.Length - 1);
        if (nextMigrationTick is { } next)
        {
            last = Math.Min(last, next);
        }

        for (var u = t + 1; u <= last; u++)
        {
            // What the source would have carried had the module stayed.
            if (sourceLoad[u] + moduleDemand[u] > limit)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Measures placement for one policy: overloaded location-ticks, migrations, and migrations ahead of a surge.</summary>
    public static PlacementMetrics ForPlacement(
        IReadOnlyList<LocationTrace> locations,
        IReadOnlyList<ModuleTrace> modules,
        IReadOnlyList<MigrationEvent> migrations,
        TimeSpan tickLength,
        SurgeDefinition surge)
    {
        ArgumentNullException.ThrowIfNull(locations);
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(migrations);
        ArgumentNullException.ThrowIfNull(surge);
        CheckTick(tickLength);
        if (locations.Count == 0 || modules.Count == 0)
        {
            throw new ArgumentException("Placement metrics need at least one location and one module.", nameof(locations));
        }

        var ticks = locations[0].Load.Length;
        var byLocation = new Dictionary<string, LocationTrace>(StringComparer.Ordinal);
        var overloaded = 0;
        foreach (var location in locations)
        {
            overloaded += OverloadedTicks(location.Load, location.Capacity);
            byLocation[location.Id] = location;
        }

        var byModule = new Dictionary<string, ModuleTrace>(StringComparer.Ordinal);
        foreach (var module in modules)
        {
            byModule[module.Name] = module;
        }

        var ahead = 0;
        for (var i = 0; i < migrations.Count; i++)
        {
            var m = migrations[i];
            if (!byLocation.TryGetValue(m.From, out var source) || !byModule.TryGetValue(m.Module, out var module))
            {
                throw new ArgumentException(
                    $"Migration {i} moves module '{m.Module}' from '{m.From}', which is not among the modules and locations measured.", nameof(migrations));
            }

            int? next = null;
            for (var j = 0; j < migrations.Count; j++)
            {
                var other = migrations[j];
                if (j != i && other.Module == m.Module && other.Tick > m.Tick && (next is null || other.Tick < next))
                {
                    next = other.Tick;
                }
            }

            if (IsAheadOfSurge(m, source.Load, source.Capacity, module.Demand, next, surge))
            {
                ahead++;
            }
        }

        return new PlacementMetrics(locations.Count * ticks, overloaded, migrations.Count, modules.Count * Days(ticks, tickLength), ahead);
    }

    internal static double Days(int ticks, TimeSpan tickLength) => ticks * tickLength.TotalSeconds / Day.TotalSeconds;

    private static void CheckAligned(ReadOnlySpan<double> first, ReadOnlySpan<double> second, string secondName)
    {
        if (first.Length == 0)
        {
            throw new ArgumentException("The series are empty; a replay has at least one tick.", secondName);
        }

        if (first.Length != second.Length)
        {
            throw new ArgumentException(
                $"The series have {first.Length} and {second.Length} ticks; align them tick by tick before measuring.", secondName);
        }
    }

    private static void CheckTick(TimeSpan tickLength)
    {
        if (tickLength <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(tickLength), tickLength, "The tick length must be positive.");
        }
    }

    private static void CheckFinite(double value, int tick, string name)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"{name}[{tick}] is {value}; fill gaps before measuring (metrics need finite values).", name);
        }
    }
}

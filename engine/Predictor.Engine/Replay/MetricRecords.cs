namespace Predictor.Engine.Replay;

/// <summary>
/// Partition metrics kept as raw sums, so metrics of several partitions pool exactly (<see cref="Combine"/>):
/// the pooled under-provisioned share is over all partition-ticks, the pooled slack is Σ slack / Σ allocation over all.
/// </summary>
/// <param name="Ticks">Partition-ticks measured.</param>
/// <param name="UnderProvisionedTicks">Partition-ticks with demand strictly above allocation.</param>
/// <param name="SlackSum">Σ max(allocation − demand, 0), in the partitions' unit × ticks.</param>
/// <param name="AllocationSum">Σ allocation, in the partitions' unit × ticks.</param>
/// <param name="Changes">Ticks whose allocation differs from the previous tick's.</param>
/// <param name="TickLength">Length of one tick.</param>
public sealed record PartitionMetrics(int Ticks, int UnderProvisionedTicks, double SlackSum, double AllocationSum, int Changes, TimeSpan TickLength)
{
    /// <summary>Share of ticks (0..1) with demand above allocation; shown as a percentage.</summary>
    public double UnderProvisionedShare => Ticks == 0 ? 0 : (double)UnderProvisionedTicks / Ticks;

    /// <summary>Σ max(allocation − demand, 0) / Σ allocation, 0..1; 0 when nothing was allocated (no allocation, no slack).</summary>
    public double RelativeSlack => AllocationSum > 0 ? SlackSum / AllocationSum : 0;

    /// <summary>Changes per partition-day: changes / (partition-ticks × tick length / 1 day).</summary>
    public double ChangesPerPartitionDay => Ticks == 0 ? 0 : Changes / ReplayMetrics.Days(Ticks, TickLength);

    /// <summary>Pools the sums of several partitions (all with the same tick length).</summary>
    public static PartitionMetrics Combine(IReadOnlyList<PartitionMetrics> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("Nothing to combine: pass the metrics of at least one partition.", nameof(parts));
        }

        int ticks = 0, under = 0, changes = 0;
        double slack = 0, allocated = 0;
        foreach (var p in parts)
        {
            if (p.TickLength != parts[0].TickLength)
            {
                throw new ArgumentException("Partitions measured with different tick lengths cannot be pooled.", nameof(parts));
            }

            ticks += p.Ticks;
            under += p.UnderProvisionedTicks;
            changes += p.Changes;
            slack += p.SlackSum;
            allocated += p.AllocationSum;
        }

        return new PartitionMetrics(ticks, under, slack, allocated, changes, parts[0].TickLength);
    }
}

/// <summary>Placement metrics of one policy.</summary>
/// <param name="LocationTicks">Locations × ticks measured.</param>
/// <param name="OverloadedLocationTicks">Location-ticks with load strictly above capacity.</param>
/// <param name="Migrations">Migrations made.</param>
/// <param name="ModuleDays">Modules × days replayed.</param>
/// <param name="MigrationsAheadOfSurge">Migrations made ahead of a surge (<see cref="SurgeDefinition"/>).</param>
public sealed record PlacementMetrics(int LocationTicks, int OverloadedLocationTicks, int Migrations, double ModuleDays, int MigrationsAheadOfSurge)
{
    /// <summary>Migrations / module-days.</summary>
    public double MigrationsPerModuleDay => ModuleDays > 0 ? Migrations / ModuleDays : 0;

    /// <summary>Share (0..1) of migrations made ahead of a surge; null when there was no migration (nothing to share).</summary>
    public double? AheadOfSurgeShare => Migrations == 0 ? null : (double)MigrationsAheadOfSurge / Migrations;
}

/// <summary>
/// What counts as a surge for "migrations made ahead of a surge". A migration of module m, decided at tick t, from
/// location S (capacity C) is ahead of a surge when (1) at tick t the load of S, still holding m, was at most
/// <see cref="Threshold"/> × C, and (2) at some tick u in t+1 … t+<see cref="HorizonTicks"/> (and no later than m's next
/// migration) the load S would have carried had m stayed, load_S(u) + demand_m(u), exceeds <see cref="Threshold"/> × C.
/// The surge may come from the module itself or from its former neighbours; either way the move avoided it.
/// </summary>
public sealed class SurgeDefinition
{
    private double _threshold = 0.9;
    private int _horizonTicks = 12;

    /// <summary>Share of the source location's capacity above which its load counts as a surge.</summary>
    /// <value>The default value is 0.9 (90 % of capacity). Must lie in (0, 10].</value>
    public double Threshold
    {
        get => _threshold;
        set
        {
            if (!(value > 0 && value <= 10))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The surge threshold is a share of capacity in (0, 10], e.g. 0.9.");
            }

            _threshold = value;
        }
    }

    /// <summary>How many ticks after the migration a surge still counts as anticipated.</summary>
    /// <value>The default value is 12 (one hour at 5-minute ticks). Must be ≥ 1.</value>
    public int HorizonTicks
    {
        get => _horizonTicks;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _horizonTicks = value;
        }
    }
}

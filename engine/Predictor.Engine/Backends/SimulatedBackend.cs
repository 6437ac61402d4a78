using Predictor.Engine.Control;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Backends;

/// <summary>
/// A machine in memory: partitions with the decided allocations, locations with capacities, modules where the
/// migrations put them. Demand is set from outside (replay sets the recorded demand of the tick). Causality as in
/// DESIGN.md (a decision made at tick t applies from t+1): Apply first measures the tick's demand against the state
/// in force during the tick (the previous decision): Σ max(demand − allocation, 0) per partition and locations whose
/// actual module load exceeds capacity; then it installs the new decision. A migration whose From is not where the
/// module is, is refused and counted as a failure. No allocation per Apply.
/// </summary>
public sealed class SimulatedBackend : IExecutionBackend
{
    private readonly IReadOnlyList<HardwareLocation> _locations;
    private readonly int[] _assignment;
    private readonly double[] _moduleLoad;
    private readonly double[] _locationLoad;
    private readonly PartitionSplit[] _splits = new PartitionSplit[2];
    private readonly double[] _userDemand = new double[2];
    private readonly double[] _systemDemand = new double[2];

    /// <summary>Creates the machine with modules placed per <paramref name="initialAssignment"/> (module → location index).</summary>
    public SimulatedBackend(IReadOnlyList<HardwareLocation> locations, ReadOnlySpan<int> initialAssignment, PartitionSplit memory, PartitionSplit cpu)
    {
        ArgumentNullException.ThrowIfNull(locations);
        _locations = locations;
        _assignment = initialAssignment.ToArray();
        foreach (var at in _assignment)
        {
            if ((uint)at >= (uint)locations.Count)
            {
                throw new PredictorException($"Simulated backend: initial location {at} does not exist (0..{locations.Count - 1}).");
            }
        }

        _moduleLoad = new double[_assignment.Length];
        _locationLoad = new double[locations.Count];
        _splits[(int)ResourceKind.Memory] = memory;
        _splits[(int)ResourceKind.Cpu] = cpu;
    }

    /// <summary>Where each module runs now (location index).</summary>
    public ReadOnlySpan<int> Assignment => _assignment;

    /// <summary>The split in force for one resource.</summary>
    public PartitionSplit Split(ResourceKind resource) => _splits[(int)resource];

    /// <summary>Actual CPU load (cores) of a location during the last tick measured by Apply.</summary>
    public double LocationLoad(int location) => _locationLoad[location];

    /// <summary>Sets the actual demand of the partitions for one resource, in its unit.</summary>
    public void SetPartitionDemand(ResourceKind resource, double user, double system)
    {
        _userDemand[(int)resource] = user;
        _systemDemand[(int)resource] = system;
    }

    /// <summary>Sets the actual CPU load of a module, in cores.</summary>
    public void SetModuleLoad(int module, double cores) => _moduleLoad[module] = cores;

    /// <inheritdoc/>
    public BackendReport Apply(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        // 1. The tick's demand against what was in force during it.
        Array.Clear(_locationLoad);
        for (var i = 0; i < _assignment.Length; i++)
        {
            _locationLoad[_assignment[i]] += _moduleLoad[i];
        }

        var overloaded = 0;
        for (var l = 0; l < _locationLoad.Length; l++)
        {
            if (_locationLoad[l] > _locations[l].CpuCapacity)
            {
                overloaded++;
            }
        }

        var unmetMemory = Unmet(ResourceKind.Memory);
        var unmetCpu = Unmet(ResourceKind.Cpu);

        // 2. The new decision, in force from the next tick.
        _splits[0] = decision[ResourceKind.Memory];
        _splits[1] = decision[ResourceKind.Cpu];
        var applied = 0;
        var failures = 0;
        // Backwards, so removing a refused move (IExecutionBackend.Apply's rule: the loop's placement must only see
        // moves that happened) keeps the remaining indices valid.
        for (int i = decision.MigrationCount - 1; i >= 0; i--)
        {
            var m = decision.Migrations[i];
            if ((uint)m.Module < (uint)_assignment.Length && _assignment[m.Module] == m.From && (uint)m.To < (uint)_locations.Count)
            {
                _assignment[m.Module] = m.To;
                applied++;
            }
            else
            {
                failures++;
                decision.RemoveMigrationAt(i);
            }
        }

        return new BackendReport(unmetMemory, unmetCpu, overloaded, applied, failures,
            failures > 0 ? "a migration named a module that is not at its From location" : null);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private long Unmet(ResourceKind resource)
    {
        var split = _splits[(int)resource];
        var unmet = Math.Max(_userDemand[(int)resource] - split.User, 0) + Math.Max(_systemDemand[(int)resource] - split.System, 0);
        return (long)Math.Ceiling(unmet);
    }
}

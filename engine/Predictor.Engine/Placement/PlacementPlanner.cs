using System.Globalization;

namespace Predictor.Engine.Placement;

/// <summary>Options of the placement planner.</summary>
public sealed class PlacementOptions
{
    private double _maxUtilisation = 0.9;
    private double _bandwidth = 500e6;
    private int _maxMigrationsPerTick = 4;

    /// <summary>A location is overloaded when its predicted CPU load exceeds this share of its capacity.</summary>
    /// <value>The default value is 0.9.</value>
    public double MaxUtilisation
    {
        get => _maxUtilisation;
        set => _maxUtilisation = value is > 0 and <= 1
            ? value
            : throw new PredictorException($"PlacementOptions.MaxUtilisation = {value.ToString(CultureInfo.InvariantCulture)} is out of range: use a share in (0, 1] (e.g. 0.9).");
    }

    /// <summary>Bytes of module state copied per second during a migration; sets each migration's cost.</summary>
    /// <value>The default value is 500 MB/s.</value>
    public double MigrationBandwidthBytesPerSecond
    {
        get => _bandwidth;
        set => _bandwidth = value > 0
            ? value
            : throw new PredictorException($"PlacementOptions.MigrationBandwidthBytesPerSecond = {value.ToString(CultureInfo.InvariantCulture)} is out of range: use a positive rate (e.g. 5e8).");
    }

    /// <summary>Most migrations proposed in one tick.</summary>
    /// <value>The default value is 4.</value>
    public int MaxMigrationsPerTick
    {
        get => _maxMigrationsPerTick;
        set => _maxMigrationsPerTick = value >= 1
            ? value
            : throw new PredictorException($"PlacementOptions.MaxMigrationsPerTick = {value} is out of range: use 1 or more.");
    }
}

/// <summary>The one entry point to placement.</summary>
public static class Placements
{
    /// <summary>The planner (the seed's findOptimalLocation, made predictive and reluctant to move).</summary>
    public static IPlacementPolicy Planner(IReadOnlyList<HardwareLocation> locations, IReadOnlyList<ModuleSpec> modules, PlacementOptions? options = null) =>
        new PlacementPlanner(locations, modules, options ?? new PlacementOptions());

    /// <summary>A first placement: modules by decreasing load, each on the fitting location with most CPU left.</summary>
    public static int[] Initial(IReadOnlyList<HardwareLocation> locations, IReadOnlyList<ModuleSpec> modules, ReadOnlySpan<double> predictedCpu, PlacementOptions? options = null) =>
        new PlacementPlanner(locations, modules, options ?? new PlacementOptions()).InitialPlacement(predictedCpu);
}

/// <summary>
/// Our reading of the seed's findOptimalLocation, made predictive: a module's load is the max over the horizon of
/// its forecast's upper bound, so a location whose predicted load will exceed MaxUtilisation × capacity is relieved
/// at the first tick whose horizon sees the surge, i.e. before it arrives. Moving costs (state size / bandwidth),
/// so the planner moves only (1) a module on a location that lacks a required capability, and (2) modules off a
/// location predicted to be overloaded, choosing the cheapest single move that removes the overload, or else the
/// module with the largest load (fewest moves). A target must offer the module's requirements and fit its predicted
/// CPU and memory; among targets, one with a preferred capability wins, then the most CPU left, then the lowest
/// index. Every tie breaks on list order, so the same input always gives the same plan. The migration budget is a
/// safety step, not the planner's concern. No allocation per call after construction.
/// </summary>
internal sealed class PlacementPlanner : IPlacementPolicy
{
    private readonly IReadOnlyList<HardwareLocation> _locations;
    private readonly IReadOnlyList<ModuleSpec> _modules;
    private readonly PlacementOptions _options;
    private readonly bool[] _allowed;   // [module * L + location]: location offers every requirement
    private readonly bool[] _preferred; // [module * L + location]: location offers a preference
    private readonly double[] _cost;
    private readonly int[] _work;
    private readonly double[] _load;
    private readonly long[] _memory;
    private readonly double[] _moduleLoad;

    public PlacementPlanner(IReadOnlyList<HardwareLocation> locations, IReadOnlyList<ModuleSpec> modules, PlacementOptions options)
    {
        ArgumentNullException.ThrowIfNull(locations);
        ArgumentNullException.ThrowIfNull(modules);
        if (locations.Count == 0)
        {
            throw new PredictorException("Placement needs at least one hardware location; describe the host's cores, NUMA nodes or accelerators.");
        }

        _locations = locations;
        _modules = modules;
        _options = options;
        var l = locations.Count;
        _allowed = new bool[modules.Count * l];
        _preferred = new bool[modules.Count * l];
        _cost = new double[modules.Count];
        for (var m = 0; m < modules.Count; m++)
        {
            var module = modules[m];
            _cost[m] = module.StateSizeBytes / options.MigrationBandwidthBytesPerSecond;
            var anywhere = false;
            for (var i = 0; i < l; i++)
            {
                var caps = locations[i].Capabilities;
                _allowed[(m * l) + i] = module.Requirements.All(caps.Contains);
                _preferred[(m * l) + i] = module.Preferences.Any(caps.Contains);
                anywhere |= _allowed[(m * l) + i];
            }

            if (!anywhere)
            {
                throw new PredictorException(
                    $"Module '{module.Name}' requires [{string.Join(", ", module.Requirements)}] but no location offers all of it; add the capability to a location or drop the requirement.");
            }
        }

        _work = new int[modules.Count];
        _load = new double[l];
        _memory = new long[l];
        _moduleLoad = new double[modules.Count];
    }

    public int Plan(ReadOnlySpan<int> assignment, ReadOnlySpan<double> predictedCpu, Span<Migration> migrations)
    {
        if (assignment.Length != _modules.Count || predictedCpu.Length != _modules.Count)
        {
            throw new PredictorException(
                $"Placement got {assignment.Length} assignments and {predictedCpu.Length} loads for {_modules.Count} modules; pass one of each per module.");
        }

        Load(assignment, predictedCpu);
        var limit = Math.Min(migrations.Length, _options.MaxMigrationsPerTick);
        var count = 0;

        // (1) Requirements first: a module where it may not run must move, overload or not.
        for (var m = 0; m < _modules.Count && count < limit; m++)
        {
            if (!Allowed(m, _work[m]))
            {
                var target = BestTarget(m, _work[m], mustMove: true);
                if (target >= 0)
                {
                    migrations[count++] = Move(m, target);
                }
            }
        }

        // (2) Relieve locations whose predicted load exceeds MaxUtilisation × capacity.
        for (var l = 0; l < _locations.Count && count < limit; l++)
        {
            while (count < limit && Excess(l) > 0)
            {
                var (module, target) = ChooseMove(l);
                if (module < 0)
                {
                    break; // nothing fits anywhere: stay, overloaded; the backend reports the demand that did not fit
                }

                migrations[count++] = Move(module, target);
            }
        }

        return count;
    }

    /// <summary>First placement: by decreasing load (ties: list order), each on the fitting location with most CPU left.</summary>
    public int[] InitialPlacement(ReadOnlySpan<double> predictedCpu)
    {
        var order = Enumerable.Range(0, _modules.Count).ToArray();
        var loads = new double[_modules.Count];
        for (var m = 0; m < loads.Length; m++)
        {
            loads[m] = LoadOf(m, predictedCpu[m]);
        }

        Array.Sort(order, (a, b) => loads[a] != loads[b] ? loads[b].CompareTo(loads[a]) : a.CompareTo(b));
        Array.Clear(_load);
        Array.Clear(_memory);
        var result = new int[_modules.Count];
        foreach (var m in order)
        {
            _moduleLoad[m] = loads[m];
            var target = BestTarget(m, -1, mustMove: true);
            result[m] = target;
            _load[target] += loads[m];
            _memory[target] += _modules[m].MemoryFootprintBytes;
        }

        return result;
    }

    private void Load(ReadOnlySpan<int> assignment, ReadOnlySpan<double> predictedCpu)
    {
        Array.Clear(_load);
        Array.Clear(_memory);
        for (var m = 0; m < _modules.Count; m++)
        {
            var at = assignment[m];
            if ((uint)at >= (uint)_locations.Count)
            {
                throw new PredictorException($"Module '{_modules[m].Name}' is assigned to location {at}, which does not exist (0..{_locations.Count - 1}).");
            }

            _work[m] = at;
            _moduleLoad[m] = LoadOf(m, predictedCpu[m]);
            _load[at] += _moduleLoad[m];
            _memory[at] += _modules[m].MemoryFootprintBytes;
        }
    }

    private double LoadOf(int module, double predicted) =>
        double.IsNaN(predicted) ? _modules[module].CpuFootprint : Math.Max(0, predicted);

    private double Limit(int location) => _locations[location].CpuCapacity * _options.MaxUtilisation;

    private double Excess(int location) => _load[location] - Limit(location);

    private bool Allowed(int module, int location) => _allowed[(module * _locations.Count) + location];

    private (int Module, int Target) ChooseMove(int location)
    {
        var excess = Excess(location);
        int resolving = -1, resolvingTarget = -1, largest = -1, largestTarget = -1;
        for (var m = 0; m < _modules.Count; m++)
        {
            if (_work[m] != location)
            {
                continue;
            }

            var target = BestTarget(m, location, mustMove: false);
            if (target < 0)
            {
                continue;
            }

            if (_moduleLoad[m] >= excess && (resolving < 0 || _cost[m] < _cost[resolving]))
            {
                resolving = m;
                resolvingTarget = target;
            }

            if (largest < 0 || _moduleLoad[m] > _moduleLoad[largest] ||
                (_moduleLoad[m] == _moduleLoad[largest] && _cost[m] < _cost[largest]))
            {
                largest = m;
                largestTarget = target;
            }
        }

        return resolving >= 0 ? (resolving, resolvingTarget) : (largest, largestTarget);
    }

    /// <summary>
    /// The best location for a module other than <paramref name="from"/>; -1 when none fits. With
    /// <paramref name="mustMove"/>, a location that satisfies the requirements but not the capacity is accepted
    /// as a last resort (most CPU left), since staying is not an option.
    /// </summary>
    private int BestTarget(int module, int from, bool mustMove)
    {
        var l = _locations.Count;
        int best = -1, fallback = -1;
        double bestFree = double.NegativeInfinity, fallbackFree = double.NegativeInfinity;
        var bestPreferred = false;
        for (var t = 0; t < l; t++)
        {
            if (t == from || !Allowed(module, t))
            {
                continue;
            }

            var free = Limit(t) - _load[t] - _moduleLoad[module];
            var memoryFits = _memory[t] + _modules[module].MemoryFootprintBytes <= _locations[t].MemoryCapacityBytes;
            if (free >= 0 && memoryFits)
            {
                var preferred = _preferred[(module * l) + t];
                if (best < 0 || (preferred && !bestPreferred) || (preferred == bestPreferred && free > bestFree))
                {
                    best = t;
                    bestFree = free;
                    bestPreferred = preferred;
                }
            }
            else if (free > fallbackFree)
            {
                fallback = t;
                fallbackFree = free;
            }
        }

        return best >= 0 ? best : (mustMove ? fallback : -1);
    }

    private Migration Move(int module, int target)
    {
        var from = _work[module];
        _load[from] -= _moduleLoad[module];
        _memory[from] -= _modules[module].MemoryFootprintBytes;
        _load[target] += _moduleLoad[module];
        _memory[target] += _modules[module].MemoryFootprintBytes;
        _work[module] = target;
        return new Migration(module, from, target, _cost[module]);
    }
}

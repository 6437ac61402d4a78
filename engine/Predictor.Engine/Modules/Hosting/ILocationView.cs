using Predictor.Engine.Placement;

namespace Predictor.Engine.Modules.Hosting;

/// <summary>
/// What a hosted module may know about where it runs (the HAL as modules see it). Modules never touch affinity,
/// cgroups or devices: they ask this view, which is the same on the simulated and the Linux backend.
/// </summary>
public interface ILocationView
{
    /// <summary>The location's id, e.g. <c>core1</c>.</summary>
    string Id { get; }

    /// <summary>Core set, NUMA node or accelerator.</summary>
    LocationKind Kind { get; }

    /// <summary>CPU ids the module's thread may run on.</summary>
    IReadOnlyList<int> Cores { get; }

    /// <summary>The NUMA node of the location.</summary>
    int NumaNode { get; }

    /// <summary>CPU capacity in cores.</summary>
    double CpuCapacity { get; }

    /// <summary>Memory capacity in bytes.</summary>
    long MemoryCapacityBytes { get; }

    /// <summary>Accelerator kinds offered (capabilities named <c>accelerator:KIND</c>), e.g. <c>gpu</c>.</summary>
    IReadOnlyList<string> AcceleratorKinds { get; }

    /// <summary>True when the location offers <paramref name="capability"/> (e.g. <c>avx2</c>, <c>accelerator:gpu</c>).</summary>
    bool Offers(string capability);

    /// <summary>The CPU the module's thread last ran on, as the backend observes it.</summary>
    int CurrentCpu();
}

/// <summary>The view of one <see cref="HardwareLocation"/> for one module thread.</summary>
internal sealed class LocationView : ILocationView
{
    private const string AcceleratorPrefix = "accelerator:";
    private readonly HardwareLocation _location;
    private readonly ICpuAffinity _affinity;
    private readonly int _threadId;

    public LocationView(HardwareLocation location, ICpuAffinity affinity, int threadId)
    {
        _location = location;
        _affinity = affinity;
        _threadId = threadId;
        AcceleratorKinds = location.Capabilities
            .Where(c => c.StartsWith(AcceleratorPrefix, StringComparison.Ordinal))
            .Select(c => c[AcceleratorPrefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    public string Id => _location.Id;

    public LocationKind Kind => _location.Kind;

    public IReadOnlyList<int> Cores => _location.CpuIds;

    public int NumaNode => _location.NumaNode;

    public double CpuCapacity => _location.CpuCapacity;

    public long MemoryCapacityBytes => _location.MemoryCapacityBytes;

    public IReadOnlyList<string> AcceleratorKinds { get; }

    public bool Offers(string capability) => _location.Capabilities.Contains(capability);

    public int CurrentCpu() => _affinity.LastProcessor(_threadId);
}

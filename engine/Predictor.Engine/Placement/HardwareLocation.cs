namespace Predictor.Engine.Placement;

/// <summary>What kind of place a module can run on.</summary>
public enum LocationKind
{
    /// <summary>One or more CPU cores (a core set), e.g. a single core or a cpuset.</summary>
    CoreSet,

    /// <summary>A NUMA node: its cores and its memory.</summary>
    NumaNode,

    /// <summary>An accelerator (GPU, NPU, FPGA) and the cores that feed it.</summary>
    Accelerator,
}

/// <summary>
/// The hardware abstraction modules and policies see (the HAL): a place to run, with its capacities and
/// capabilities. The same description drives the simulated and the Linux backend, so a module runs unchanged on both.
/// </summary>
/// <param name="Id">Stable identifier, e.g. <c>core0</c>, <c>numa0</c>, <c>gpu0</c>.</param>
/// <param name="Kind">Core set, NUMA node or accelerator.</param>
/// <param name="CpuIds">Logical CPU numbers this location runs threads on (used for affinity and cpusets).</param>
/// <param name="NumaNode">The NUMA node the location belongs to.</param>
/// <param name="CpuCapacity">CPU capacity in cores (e.g. 1.0 for one core).</param>
/// <param name="MemoryCapacityBytes">Memory capacity in bytes available to modules here.</param>
/// <param name="Capabilities">What the location offers, e.g. <c>accelerator:gpu</c>, <c>avx2</c>; empty for plain cores.</param>
public sealed record HardwareLocation(
    string Id,
    LocationKind Kind,
    IReadOnlyList<int> CpuIds,
    int NumaNode,
    double CpuCapacity,
    long MemoryCapacityBytes,
    IReadOnlySet<string> Capabilities);

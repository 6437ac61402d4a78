namespace Predictor.Engine.Tests;

/// <summary>
/// Tests that change this host's real CPU placement (sched_setaffinity, cpusets, exclusive cpusets, cgroups) run one
/// at a time: run side by side, one test's exclusive cpuset or pinned busy child can make another test observe its
/// thread on the wrong core under load.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostCpuCollection
{
    /// <summary>The collection name used by <c>[Collection(HostCpuCollection.Name)]</c>.</summary>
    public const string Name = "Host CPU placement and cgroups";
}

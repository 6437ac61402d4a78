namespace Predictor.Engine.Telemetry.Collectors;

/// <summary>A module whose process is watched: series <c>module/&lt;name&gt;/cpu|mem|threads</c>.</summary>
/// <param name="Name">Module name (one series-name segment).</param>
/// <param name="Pid">Process id.</param>
public sealed record ModuleProcess(string Name, int Pid);

/// <summary>A partition backed by a cgroup: series <c>partition/&lt;name&gt;/cpu|mem</c>.</summary>
/// <param name="Name">Partition name, e.g. <c>user</c>, <c>system</c>.</param>
/// <param name="CgroupPath">Path below the cgroup mount, e.g. <c>user.slice</c>; empty for the root.</param>
public sealed record CgroupPartition(string Name, string CgroupPath);

/// <summary>What <see cref="HostTelemetry"/> reads and where.</summary>
public sealed class HostTelemetryOptions
{
    private TimeSpan _step = TimeSpan.FromMilliseconds(100);

    /// <summary>Mount point of procfs (tests point it at a fixture folder).</summary>
    /// <value>The default value is <c>/proc</c>.</value>
    public string ProcRoot { get; set; } = "/proc";

    /// <summary>
    /// Where cgroups are mounted. The hierarchies <see cref="MountInfoPath"/> lists at or below this root are looked in
    /// first (v1 cpuacct wherever it is mounted: on its own or co-mounted with cpu); then the usual names below it.
    /// v2: <c>&lt;root&gt;/&lt;path&gt;/cpu.stat</c> (usage_usec) and <c>memory.current</c> (also tried under
    /// <c>&lt;root&gt;/unified</c>); v1: <c>&lt;root&gt;/&lt;h&gt;/&lt;path&gt;/cpuacct.usage</c> for h = cpuacct, cpu,cpuacct, cpuacct,cpu, cpu, and
    /// <c>&lt;root&gt;/memory/&lt;path&gt;/memory.usage_in_bytes</c>.
    /// </summary>
    /// <value>The default value is <c>/sys/fs/cgroup</c>.</value>
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>
    /// The mountinfo file that says where each cgroup hierarchy is mounted (only mounts at or below
    /// <see cref="CgroupRoot"/> are used, so a fixture root is never mixed with the host's). A missing file means none.
    /// </summary>
    /// <value>The default value is <c>/proc/self/mountinfo</c>.</value>
    public string MountInfoPath { get; set; } = "/proc/self/mountinfo";

    /// <summary>Module processes to watch.</summary>
    /// <value>The default value is empty.</value>
    public IList<ModuleProcess> Modules { get; } = [];

    /// <summary>Partitions (cgroups) to watch.</summary>
    /// <value>The default value is empty.</value>
    public IList<CgroupPartition> Partitions { get; } = [];

    /// <summary>Nominal step of the collected series (the collection interval); part of each series' identity.</summary>
    /// <value>The default value is 100 ms. Must be at least 1 ms.</value>
    public TimeSpan Step
    {
        get => _step;
        set => _step = value >= TimeSpan.FromMilliseconds(1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Step), value, "Step must be at least 1 ms.");
    }

    /// <summary>Whether to add one busy-percent series per core (<c>host/core/&lt;n&gt;/busy</c>).</summary>
    /// <value>The default value is true.</value>
    public bool PerCore { get; set; } = true;

    /// <summary>Receives each problem once (a missing or unreadable file), in one line.</summary>
    /// <value>The default value is null (problems are dropped).</value>
    public Action<string>? OnProblem { get; set; }
}

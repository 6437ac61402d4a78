namespace Predictor.Engine.Backends.Linux;

/// <summary>
/// Where this host's cgroup hierarchies are mounted, read from /proc/self/mountinfo: each v1 hierarchy with its
/// controllers, and the v2 (unified) mount with the controllers its root offers (cgroup.controllers). A host may
/// have both (hybrid): here, v1 holds cpu, cpuset and memory while v2 at /sys/fs/cgroup/unified has only hugetlb,
/// so partitions use v1. The v2 path is used for a controller only when v1 does not have it.
/// </summary>
public sealed class CgroupLayout
{
    private readonly Dictionary<string, string> _v1 = new(StringComparer.Ordinal);

    private CgroupLayout()
    {
    }

    /// <summary>v1 controller name → mount point (e.g. memory → /sys/fs/cgroup/memory).</summary>
    public IReadOnlyDictionary<string, string> V1Mounts => _v1;

    /// <summary>The v2 mount point; null when there is none.</summary>
    public string? V2Mount { get; private set; }

    /// <summary>Controllers enabled at the v2 root (from cgroup.controllers); empty when there is no v2 mount.</summary>
    public IReadOnlyList<string> V2Controllers { get; private set; } = [];

    /// <summary>Reads the layout of this host (or of a mountinfo file, for tests).</summary>
    public static CgroupLayout Detect(string mountInfoPath = "/proc/self/mountinfo")
    {
        var layout = new CgroupLayout();
        if (!File.Exists(mountInfoPath))
        {
            return layout;
        }

        foreach (var line in File.ReadLines(mountInfoPath))
        {
            // mountinfo: id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0)
            {
                continue;
            }

            var left = line[..dash].Split(' ');
            var right = line[(dash + 3)..].Split(' ');
            if (left.Length < 5 || right.Length < 3)
            {
                continue;
            }

            var mountPoint = left[4];
            if (right[0] == "cgroup2")
            {
                layout.V2Mount = mountPoint;
                var controllers = Path.Combine(mountPoint, "cgroup.controllers");
                layout.V2Controllers = File.Exists(controllers)
                    ? File.ReadAllText(controllers).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [];
            }
            else if (right[0] == "cgroup")
            {
                foreach (var option in right[2].Split(','))
                {
                    if (option is "cpu" or "cpuacct" or "cpuset" or "memory" or "pids" or "blkio" or "freezer" or "devices" or "hugetlb" or "net_cls" or "perf_event")
                    {
                        layout._v1.TryAdd(option, mountPoint);
                    }
                }
            }
        }

        return layout;
    }

    /// <summary>The v1 mount of a controller, or null.</summary>
    public string? V1(string controller) => _v1.TryGetValue(controller, out var path) ? path : null;

    /// <summary>
    /// The v1 mount of cpuacct, which holds a cgroup's CPU usage (cpuacct.usage, ns); null when v1 has no cpuacct
    /// (then CPU usage is v2's cpu.stat usage_usec). Either co-mounted with cpu (<c>cpu,cpuacct</c>: same directory
    /// as <see cref="V1"/>("cpu")) or a hierarchy of its own (<see cref="CpuacctSeparate"/>).
    /// </summary>
    public string? CpuacctMount => V1("cpuacct");

    /// <summary>
    /// True when v1 cpuacct is mounted apart from v1 cpu (its own hierarchy, or cpu not mounted in v1): a cgroup in the
    /// cpu hierarchy then has no cpuacct.usage, so a partition needs a group of its own in the cpuacct hierarchy.
    /// </summary>
    public bool CpuacctSeparate => CpuacctMount is { } acct && !string.Equals(acct, V1("cpu"), StringComparison.Ordinal);

    /// <summary>True when the v2 root offers <paramref name="controller"/>.</summary>
    public bool V2Has(string controller) => V2Controllers.Contains(controller, StringComparer.Ordinal);
}

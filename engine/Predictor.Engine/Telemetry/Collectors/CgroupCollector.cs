using Predictor.Engine.Backends.Linux;

namespace Predictor.Engine.Telemetry.Collectors;

/// <summary>
/// Partitions backed by cgroups: <c>partition/&lt;name&gt;/cpu</c> in cores (CPU-seconds per second) and
/// <c>partition/&lt;name&gt;/mem</c> in bytes. cgroup v2: <c>cpu.stat</c> usage_usec and <c>memory.current</c>;
/// v1: <c>cpuacct.usage</c> (ns) from the cpuacct hierarchy, wherever it is mounted (its own mount or co-mounted as
/// <c>cpu,cpuacct</c>; found through <see cref="CgroupLayout"/>), and <c>memory.usage_in_bytes</c> (which includes
/// page cache, as v1 defines it). The version is chosen per partition by which files exist when the collector is built.
/// </summary>
internal sealed class CgroupCollector : ITelemetryCollector, IDisposable
{
    private readonly Partition[] _partitions;
    private readonly TimeProvider _time;

    public CgroupCollector(HostTelemetryOptions options, ISeriesRegistry registry, ProblemReporter problems, TimeProvider time)
    {
        _time = time;
        var layout = options.Partitions.Count == 0 ? null : CgroupLayout.Detect(options.MountInfoPath);
        _partitions = [.. options.Partitions.Select(p => Build(p, options, layout!, registry, problems))];
    }

    public void Collect(SampleBuffer output)
    {
        Span<ulong> one = stackalloc ulong[1];
        foreach (var p in _partitions)
        {
            if (p.Cpu.TryRead() && TryCpuNanoseconds(p, out var ns))
            {
                var now = _time.GetTimestamp();
                if (p.HasBaseline && ns >= p.LastNs)
                {
                    var seconds = _time.GetElapsedTime(p.LastStamp, now).TotalSeconds;
                    if (seconds > 0)
                    {
                        output.Add(p.CpuId, (ns - p.LastNs) / 1e9 / seconds);
                    }
                }

                p.LastNs = ns;
                p.LastStamp = now;
                p.HasBaseline = true;
            }

            if (p.Mem.TryRead() && KernelText.ParseUnsigned(p.Mem.Data, one) == 1)
            {
                output.Add(p.MemId, one[0]);
            }
        }
    }

    public void Dispose()
    {
        foreach (var p in _partitions)
        {
            p.Cpu.Dispose();
            p.Mem.Dispose();
        }
    }

    private static bool TryCpuNanoseconds(Partition p, out ulong ns)
    {
        ns = 0;
        if (p.V2)
        {
            if (KernelText.TryFindLine(p.Cpu.Data, "usage_usec"u8, out var rest))
            {
                Span<ulong> one = stackalloc ulong[1];
                if (KernelText.ParseUnsigned(rest, one) == 1)
                {
                    ns = one[0] * 1000;
                    return true;
                }
            }

            return false;
        }

        Span<ulong> v = stackalloc ulong[1];
        if (KernelText.ParseUnsigned(p.Cpu.Data, v) == 1)
        {
            ns = v[0];
            return true;
        }

        return false;
    }

    private static Partition Build(CgroupPartition partition, HostTelemetryOptions options, CgroupLayout layout, ISeriesRegistry registry, ProblemReporter problems)
    {
        var rel = partition.CgroupPath.Trim('/');
        var root = options.CgroupRoot;
        string Under(params string[] parts) => Path.Combine([root, .. parts.Where(x => x.Length > 0)]);

        // A mount the layout names is used only at or below the root: a fixture root never reads the host's cgroups.
        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        string? Mounted(string? mount) =>
            mount is not null && (mount == fullRoot || mount.StartsWith(fullRoot + "/", StringComparison.Ordinal))
                ? Path.Combine([mount, .. rel.Length > 0 ? [rel] : Array.Empty<string>()])
                : null;

        var name = SeriesNames.Segment(partition.Name);
        var cpuId = registry.Register(new SeriesInfo($"partition/{name}/cpu", "cores", options.Step));
        var memId = registry.Register(new SeriesInfo($"partition/{name}/mem", "bytes", options.Step));
        foreach (var v2 in new[] { Mounted(layout.V2Mount), Under(rel), Under("unified", rel) })
        {
            if (v2 is not null && File.Exists(Path.Combine(v2, "cpu.stat")) && File.Exists(Path.Combine(v2, "memory.current")))
            {
                return new Partition(true, new KernelFile(Path.Combine(v2, "cpu.stat"), problems, 1024),
                    new KernelFile(Path.Combine(v2, "memory.current"), problems, 64), cpuId, memId);
            }
        }

        // v1 cpuacct: its mount (own or co-mounted with cpu), then the names systemd and distributions use.
        var cpuacctDirs = new[] { Mounted(layout.CpuacctMount) }
            .Concat(new[] { "cpuacct", "cpu,cpuacct", "cpuacct,cpu", "cpu" }.Select(c => Under(c, rel)))
            .OfType<string>()
            .ToList();
        var cpuacct = cpuacctDirs.Select(d => Path.Combine(d, "cpuacct.usage")).FirstOrDefault(File.Exists)
            ?? Path.Combine(cpuacctDirs[0], "cpuacct.usage");
        var memoryDir = Mounted(layout.V1("memory")) is { } m && File.Exists(Path.Combine(m, "memory.usage_in_bytes")) ? m : Under("memory", rel);

        // If neither version's files exist, the v1 paths are kept: the first read reports the missing file once.
        return new Partition(false, new KernelFile(cpuacct, problems, 64),
            new KernelFile(Path.Combine(memoryDir, "memory.usage_in_bytes"), problems, 64), cpuId, memId);
    }

    private sealed class Partition(bool v2, KernelFile cpu, KernelFile mem, int cpuId, int memId)
    {
        public bool V2 { get; } = v2;

        public KernelFile Cpu { get; } = cpu;

        public KernelFile Mem { get; } = mem;

        public int CpuId { get; } = cpuId;

        public int MemId { get; } = memId;

        public ulong LastNs { get; set; }

        public long LastStamp { get; set; }

        public bool HasBaseline { get; set; }
    }
}

using System.Globalization;
using Predictor.Engine.Backends.Linux;
using Predictor.Engine.Control;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Tests.Backends;

/// <summary>
/// The cgroup v2 path of <see cref="LinuxBackend"/> against a FAKE unified hierarchy in a temporary directory (a
/// mountinfo line "- cgroup2 cgroup2 rw" pointing at it). This host's real v2 offers only hugetlb, so the kernel
/// side (subtree_control semantics, EBUSY, rmdir) is not exercised here; the files and values written are.
/// Never touches /sys/fs/cgroup.
/// </summary>
public sealed class LinuxBackendV2Tests : IDisposable
{
    private const long MiB = 1L << 20;

    private static readonly HardwareLocation[] Cores =
    [
        new("core0", LocationKind.CoreSet, [0], 0, 1.0, 1L << 30, new HashSet<string>()),
    ];

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"predictor-cgv2-{Guid.NewGuid():N}");
    private readonly string _mount;
    private readonly string _mountInfo;

    public LinuxBackendV2Tests()
    {
        _mount = Path.Combine(_root, "cgroup");
        Directory.CreateDirectory(_mount);
        _mountInfo = Path.Combine(_root, "mountinfo");
        File.WriteAllText(_mountInfo,
            $"25 30 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n" +
            $"31 25 0:27 / {_mount} rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw\n");
        File.WriteAllText(Path.Combine(_mount, "cgroup.subtree_control"), "\n");
        File.WriteAllText(Path.Combine(_mount, "cpuset.mems.effective"), "0\n");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Controllers(string list) => File.WriteAllText(Path.Combine(_mount, "cgroup.controllers"), list + "\n");

    private LinuxBackendOptions Options(CpuLimitMode mode = CpuLimitMode.Quota) =>
        new() { MountInfoPath = _mountInfo, CpuMode = mode, RequireRoot = false, LockDirectory = _root };

    private string Read(params string[] parts) => File.ReadAllText(Path.Combine([_mount, .. parts])).Trim();

    private static Decision DecisionOf(long memUser, long memSystem, long cpuUser, long cpuSystem) =>
        new(new PartitionSplit(1024 * MiB, memUser, memSystem), new PartitionSplit(2000, cpuUser, cpuSystem), 4);

    [Fact]
    public void Apply_V2QuotaMode_WritesMemoryMaxCpuMaxAndSubtreeControl()
    {
        Controllers("cpuset cpu io memory hugetlb pids");
        using var backend = new LinuxBackend(Options(), Cores);

        Assert.Equal("+memory +cpu", Read("cgroup.subtree_control"));
        Assert.Equal("+memory +cpu", Read("predictor", "cgroup.subtree_control"));
        Assert.Equal("max 100000", Read("predictor", "user", "cpu.max"));
        Assert.Equal(Path.Combine(_mount, "predictor", "user"), backend.PartitionPath("memory", PartitionId.User));
        Assert.Equal(Path.Combine(_mount, "predictor", "system"), backend.PartitionPath("cpu", PartitionId.System));

        var report = backend.Apply(DecisionOf(768 * MiB, 256 * MiB, 1500, 500));

        Assert.Equal(0, report.Failures);
        Assert.Equal((768 * MiB).ToString(CultureInfo.InvariantCulture), Read("predictor", "user", "memory.max"));
        Assert.Equal((256 * MiB).ToString(CultureInfo.InvariantCulture), Read("predictor", "system", "memory.max"));
        Assert.Equal("150000 100000", Read("predictor", "user", "cpu.max"));
        Assert.Equal("50000 100000", Read("predictor", "system", "cpu.max"));
        Assert.False(File.Exists(Path.Combine(_mount, "predictor", "user", "memory.limit_in_bytes")));
        Assert.False(File.Exists(Path.Combine(_mount, "predictor", "user", "cpu.cfs_quota_us")));
    }

    [Fact]
    public void AttachToPartition_V2_WritesPidToCgroupProcsAndDisposeMovesItToRoot()
    {
        Controllers("cpuset cpu memory");
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var backend = new LinuxBackend(Options(), Cores);
        try
        {
            backend.AttachToPartition(PartitionId.System, Environment.ProcessId);

            Assert.Equal(pid, Read("predictor", "system", "cgroup.procs"));
            Assert.False(File.Exists(Path.Combine(_mount, "predictor", "user", "cgroup.procs")));
            Assert.False(File.Exists(Path.Combine(_mount, "cgroup.procs")));
        }
        finally
        {
            backend.Dispose();
        }

        // Our own cgroup path does not exist in the fake tree, so the pid goes back to the v2 root.
        Assert.Equal(pid, Read("cgroup.procs"));
    }

    [Fact]
    public void Constructor_V2CpusetModeWithCpuAlreadyEnabledAtRoot_EnablesOnlyWhatIsMissing()
    {
        Controllers("cpuset cpu memory");
        File.WriteAllText(Path.Combine(_mount, "cgroup.subtree_control"), "cpuset memory\n");
        using var backend = new LinuxBackend(Options(CpuLimitMode.Cpuset), Cores);

        Assert.Equal("cpuset memory", Read("cgroup.subtree_control"));
        Assert.Equal("+memory +cpuset", Read("predictor", "cgroup.subtree_control"));
        Assert.Equal("0", Read("predictor", "user", "cpuset.mems"));
        Assert.False(File.Exists(Path.Combine(_mount, "predictor", "user", "cpu.max")));

        var report = backend.Apply(DecisionOf(512 * MiB, 512 * MiB, 1000, 1000));

        Assert.Equal(0, report.Failures);
        Assert.Equal("0", Read("predictor", "user", "cpuset.cpus"));
        var last = (Environment.ProcessorCount - 1).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(last, Read("predictor", "system", "cpuset.cpus"));
    }

    [Fact]
    public void Apply_HybridWithV1MemoryAndV2Cpu_UsesV1ForMemoryAndV2ForCpu()
    {
        Controllers("cpuset cpu memory");
        var v1Memory = Path.Combine(_root, "memory");
        Directory.CreateDirectory(v1Memory);
        File.AppendAllText(_mountInfo, $"32 25 0:28 / {v1Memory} rw,nosuid - cgroup cgroup rw,memory\n");
        using var backend = new LinuxBackend(Options(), Cores);

        backend.Apply(DecisionOf(600 * MiB, 424 * MiB, 1200, 800));

        Assert.Equal("+cpu", Read("cgroup.subtree_control"));
        Assert.Equal("+cpu", Read("predictor", "cgroup.subtree_control"));
        Assert.Equal((600 * MiB).ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(v1Memory, "predictor", "user", "memory.limit_in_bytes")).Trim());
        Assert.False(File.Exists(Path.Combine(_mount, "predictor", "user", "memory.max")));
        Assert.Equal("80000 100000", Read("predictor", "system", "cpu.max"));
    }

    [Fact]
    public void Constructor_V2WithoutMemoryController_ThrowsNamingWhatIsMissing()
    {
        Controllers("cpuset cpu hugetlb");

        var ex = Assert.Throws<PredictorException>(() => new LinuxBackend(Options(), Cores));

        Assert.Contains("'memory' is missing", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_mount, ex.Message, StringComparison.Ordinal);
        Assert.Contains("[cpuset cpu hugetlb]", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_mount, "predictor")));
    }
}

using System.Globalization;
using Predictor.Engine.Backends.Linux;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Tests.Backends;

/// <summary>
/// Where <see cref="LinuxBackend"/> puts a partition's cpuacct group, against FAKE v1 hierarchies in a temporary
/// directory (mountinfo lines "- cgroup cgroup rw,&lt;controllers&gt;" pointing at them): co-mounted cpu,cpuacct
/// (most distributions) and cpuacct on its own (this host). No kernel, so no root; never touches /sys/fs/cgroup.
/// The real-kernel side (tasks, rmdir) is in <see cref="LinuxBackendTests"/>.
/// </summary>
public sealed class LinuxBackendCpuacctTests : IDisposable
{
    private static readonly HardwareLocation[] Cores =
    [
        new("core0", LocationKind.CoreSet, [0], 0, 1.0, 1L << 30, new HashSet<string>()),
    ];

    private readonly string _root = Directory.CreateTempSubdirectory("predictor-cgv1-").FullName;
    private readonly string _mountInfo;

    public LinuxBackendCpuacctTests() => _mountInfo = Path.Combine(_root, "mountinfo");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Creates one fake v1 hierarchy per entry (directory name = its controllers) and their mountinfo.</summary>
    private void Mount(params string[] hierarchies)
    {
        var lines = new List<string> { "25 30 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw" };
        var id = 31;
        foreach (var h in hierarchies)
        {
            var dir = Path.Combine(_root, h);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "cpuset.effective_cpus"), "0\n");
            File.WriteAllText(Path.Combine(dir, "cpuset.effective_mems"), "0\n");
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{id} 25 0:{id} / {dir} rw,nosuid,nodev,noexec,relatime shared:{id} - cgroup cgroup rw,{h}"));
            id++;
        }

        File.WriteAllLines(_mountInfo, lines);
    }

    private LinuxBackendOptions Options(CpuLimitMode mode = CpuLimitMode.Quota) =>
        new() { MountInfoPath = _mountInfo, CpuMode = mode, RequireRoot = false, LockDirectory = _root };

    [Fact]
    public void Constructor_CpuCoMountedWithCpuacct_UsesTheCpuGroupForAccounting()
    {
        Mount("cpu,cpuacct", "memory");
        using var backend = new LinuxBackend(Options(), Cores);

        var cpu = backend.PartitionPath("cpu", PartitionId.User);
        Assert.Equal(Path.Combine(_root, "cpu,cpuacct", "predictor", "user"), cpu);
        Assert.Equal(cpu, backend.PartitionPath("cpuacct", PartitionId.User));
        Assert.Equal(["cpu,cpuacct", "memory"], Directory.GetDirectories(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AttachToPartition_CoMounted_WritesThePidOncePerHierarchy()
    {
        Mount("cpu,cpuacct", "memory");
        using var backend = new LinuxBackend(Options(), Cores);

        backend.AttachToPartition(PartitionId.User, Environment.ProcessId);

        // One write into cpu,cpuacct (not a second one for cpuacct, which would replace the first in this fake file).
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(pid, File.ReadAllText(Path.Combine(backend.PartitionPath("cpuacct", PartitionId.User), "cgroup.procs")));
        Assert.Equal(pid, File.ReadAllText(Path.Combine(backend.PartitionPath("memory", PartitionId.User), "cgroup.procs")));
    }

    [Fact]
    public void Constructor_CpuacctMountedApart_CreatesPartitionGroupsThereAndAttachMovesThePidThere()
    {
        Mount("cpu", "cpuacct", "memory");
        using var backend = new LinuxBackend(Options(), Cores);

        var acct = Path.Combine(_root, "cpuacct", "predictor");
        Assert.Equal(Path.Combine(acct, "system"), backend.PartitionPath("cpuacct", PartitionId.System));
        Assert.True(Directory.Exists(Path.Combine(acct, "user")));
        Assert.True(Directory.Exists(Path.Combine(acct, "system")));
        Assert.False(File.Exists(Path.Combine(acct, "user", "cpu.cfs_period_us")), "only the cpu group gets CFS settings");

        backend.AttachToPartition(PartitionId.System, Environment.ProcessId);

        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(acct, "system", "cgroup.procs")));
    }

    [Fact]
    public void Constructor_CpusetModeWithCpuCoMountedWithCpuacct_CreatesTheAccountingGroupInThatHierarchy()
    {
        // Cpuset mode does not use the cpu hierarchy; CPU use still needs a group where cpuacct is.
        Mount("cpu,cpuacct", "cpuset", "memory");
        using var backend = new LinuxBackend(Options(CpuLimitMode.Cpuset), Cores);

        Assert.Equal(Path.Combine(_root, "cpu,cpuacct", "predictor", "user"), backend.PartitionPath("cpuacct", PartitionId.User));
        Assert.True(Directory.Exists(Path.Combine(_root, "cpu,cpuacct", "predictor", "user")));
        Assert.False(File.Exists(Path.Combine(_root, "cpu,cpuacct", "predictor", "user", "cpu.cfs_quota_us")), "no CPU quota in cpuset mode");
    }

    [Fact]
    public void Constructor_NoV1Cpuacct_HasNoCpuacctGroup()
    {
        Mount("cpu", "memory");
        using var backend = new LinuxBackend(Options(), Cores);

        var ex = Assert.Throws<PredictorException>(() => backend.PartitionPath("cpuacct", PartitionId.User));
        Assert.Contains("does not use the 'cpuacct' hierarchy", ex.Message, StringComparison.Ordinal);
    }
}

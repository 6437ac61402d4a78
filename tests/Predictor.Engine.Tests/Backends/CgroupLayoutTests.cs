using Predictor.Engine.Backends.Linux;

namespace Predictor.Engine.Tests.Backends;

public sealed class CgroupLayoutTests
{
    [Fact]
    public void Detect_HybridMountInfo_FindsV1ControllersAndV2Mount()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(file,
            [
                "30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu",
                "31 25 0:27 / /sys/fs/cgroup/memory rw,relatime shared:10 - cgroup cgroup rw,memory",
                "32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
                "33 25 0:29 / /tmp/no-such-unified rw,relatime - cgroup2 cgroup2 rw",
                "34 25 0:30 / /proc rw - proc proc rw",
            ]);
            var layout = CgroupLayout.Detect(file);
            Assert.Equal("/sys/fs/cgroup/cpu", layout.V1("cpu"));
            Assert.Equal("/sys/fs/cgroup/memory", layout.V1("memory"));
            Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", layout.V1("cpuacct"));
            Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", layout.CpuacctMount);
            Assert.Null(layout.V1("cpuset"));
            Assert.Equal("/tmp/no-such-unified", layout.V2Mount);
            Assert.Empty(layout.V2Controllers);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("rw,cpu,cpuacct", "rw,memory", false)] // co-mounted: /sys/fs/cgroup/cpu,cpuacct
    [InlineData("rw,cpuacct", "rw,cpu", true)] // apart, as on this host
    [InlineData("rw,cpuacct", "rw,memory", true)] // cpuacct without v1 cpu
    public void Detect_CpuacctMount_SaysWhetherItIsApartFromCpu(string first, string second, bool separate)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(file,
            [
                $"32 25 0:28 / /cg/a rw,relatime - cgroup cgroup {first}",
                $"33 25 0:29 / /cg/b rw,relatime - cgroup cgroup {second}",
            ]);
            var layout = CgroupLayout.Detect(file);
            Assert.Equal("/cg/a", layout.CpuacctMount);
            Assert.Equal(separate, layout.CpuacctSeparate);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Detect_NoCpuacct_HasNoMountAndIsNotSeparate()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(file, ["33 25 0:29 / /cg/b rw,relatime - cgroup cgroup rw,cpu"]);
            var layout = CgroupLayout.Detect(file);
            Assert.Null(layout.CpuacctMount);
            Assert.False(layout.CpuacctSeparate);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void HostDoctor_ThisHost_SaysWhereCpuUsageIsRead()
    {
        var layout = CgroupLayout.Detect();
        var check = HostDoctor.Run().Single(c => c.Name == "cgroup v1 cpuacct");
        var expected = layout.CpuacctMount is null ? "cgroup v2 (cpu.stat usage_usec)"
            : layout.CpuacctSeparate ? "mounted apart from cpu, so the Linux backend also makes each partition a group here"
            : "co-mounted with cpu, so it is read in the partition's cpu group";
        Assert.Contains(expected, check.Detail, StringComparison.Ordinal);
        if (layout.CpuacctMount is { } mount)
        {
            Assert.Contains($"mounted at {mount}", check.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Detect_ThisHost_AgreesWithProcMounts()
    {
        var layout = CgroupLayout.Detect();
        var mounts = File.ReadAllLines("/proc/mounts");
        foreach (var (controller, mount) in layout.V1Mounts)
        {
            Assert.Contains(mounts, l => l.Contains($" {mount} cgroup ", StringComparison.Ordinal) && l.Contains(controller, StringComparison.Ordinal));
        }

        if (layout.V2Mount is { } v2)
        {
            var controllers = File.ReadAllText(Path.Combine(v2, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(controllers, layout.V2Controllers);
        }
    }

    [Fact]
    public void HostDoctor_ThisHost_ReportsEachAreaWithAReason()
    {
        var checks = HostDoctor.Run(() => (false, "probe says no"));
        foreach (var name in new[] { "root", "cgroup v1 memory", "cgroup v1 cpu", "cgroup v1 cpuset", "cgroup v2", "PSI", "CPUs", "NUMA nodes", "sched_setaffinity", "ONNX Runtime" })
        {
            var check = Assert.Single(checks, c => c.Name == name);
            Assert.False(string.IsNullOrWhiteSpace(check.Detail));
        }

        Assert.Equal(LibC.IsRoot, checks.Single(c => c.Name == "root").Ok);
        if (CgroupLayout.Detect().V1("memory") is { } memory)
        {
            Assert.Equal(LibC.CanWrite(memory), checks.Single(c => c.Name == "cgroup v1 memory").Ok);
        }

        Assert.Equal("probe says no", checks.Single(c => c.Name == "ONNX Runtime").Detail);
        Assert.Equal(File.Exists("/proc/pressure/cpu"), checks.Single(c => c.Name == "PSI").Ok);
        var layout = CgroupLayout.Detect();
        if (layout.V2Mount is not null && !layout.V2Has("memory"))
        {
            Assert.Contains("partitions use the v1 hierarchies", checks.Single(c => c.Name == "cgroup v2").Detail, StringComparison.Ordinal);
        }
    }
}

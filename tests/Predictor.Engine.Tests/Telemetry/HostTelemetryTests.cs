using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Engine.Tests.Telemetry;

public sealed class HostTelemetryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("predictor-proc-").FullName;
    private readonly List<string> _problems = [];
    private readonly SeriesCatalog _catalog = new();
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Proc => Path.Combine(_root, "proc");

    private string Cgroup => Path.Combine(_root, "cgroup");

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private void WriteStat(ulong user, ulong system, ulong idle, ulong iowait, ulong core0Busy, ulong core0Idle) =>
        Write("proc/stat",
            $"cpu  {user} 0 {system} {idle} {iowait} 0 0 0 0 0\n" +
            $"cpu0 {core0Busy} 0 0 {core0Idle} 0 0 0 0 0 0\n" +
            "intr 12345 0 0\nctxt 999\nprocs_running 3\n");

    private HostTelemetry Build(HostTelemetryOptions options) => new(options, _catalog, _clock);

    private HostTelemetryOptions Options()
    {
        var o = new HostTelemetryOptions { ProcRoot = Proc, CgroupRoot = Cgroup, OnProblem = _problems.Add };
        return o;
    }

    private static Dictionary<string, double> ToMap(SampleBuffer b, SeriesCatalog c)
    {
        var map = new Dictionary<string, double>();
        for (var i = 0; i < b.Count; i++)
        {
            map[c[b.SeriesIds[i]].Name] = b.Values[i];
        }

        return map;
    }

    [Fact]
    public void Collect_ProcStatTwoReads_GivesPercentOfJiffyDeltas()
    {
        WriteStat(100, 50, 800, 50, 10, 10);
        Write("proc/meminfo", "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\nBuffers:          10 kB\nCached:          300 kB\nSwapTotal:       100 kB\nSwapFree:         40 kB\n");
        using var host = Build(Options());
        var buffer = new SampleBuffer();
        host.Collect(buffer);
        var first = ToMap(buffer, _catalog);
        Assert.False(first.ContainsKey("host/cpu/user"), "the first read only sets the baseline");
        Assert.Equal(400 * 1024.0, first["host/mem/used"]);
        Assert.Equal(60 * 1024.0, first["host/mem/swap_used"]);

        // +60 user, +20 system, +100 idle, +20 iowait = 200 jiffies.
        WriteStat(160, 70, 900, 70, 40, 20);
        buffer.Clear();
        host.Collect(buffer);
        var m = ToMap(buffer, _catalog);
        Assert.Equal(30.0, m["host/cpu/user"], 9);
        Assert.Equal(10.0, m["host/cpu/system"], 9);
        Assert.Equal(50.0, m["host/cpu/idle"], 9);
        Assert.Equal(10.0, m["host/cpu/iowait"], 9);
        Assert.Equal(40.0, m["host/cpu/busy"], 9);
        Assert.Equal(75.0, m["host/core/0/busy"], 9);
    }

    [Fact]
    public void Collect_PressureTotals_GiveStallPercentOverElapsedTime()
    {
        WriteStat(1, 1, 1, 1, 1, 1);
        Write("proc/pressure/cpu", "some avg10=7.38 avg60=2.39 avg300=3.08 total=1000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        Write("proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        Write("proc/pressure/io", "some avg10=1.50 avg60=0.00 avg300=0.00 total=500\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=400\n");
        using var host = Build(Options());
        var buffer = new SampleBuffer();
        host.Collect(buffer);
        Assert.Equal(7.38, ToMap(buffer, _catalog)["host/psi/cpu/some_avg10"]);

        _clock.Advance(TimeSpan.FromSeconds(2));
        Write("proc/pressure/cpu", "some avg10=8.00 avg60=2.39 avg300=3.08 total=1500000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        buffer.Clear();
        host.Collect(buffer);
        var m = ToMap(buffer, _catalog);
        Assert.Equal(25.0, m["host/psi/cpu/some_stall"], 9); // 0.5 s stalled of 2 s
        Assert.Equal(0.0, m["host/psi/io/some_stall"], 9);
        Assert.Equal(1.0, m["host/psi/io/full_avg10"]);
    }

    [Fact]
    public void Collect_ModuleProcess_CpuInCoresAndRssInBytes()
    {
        WriteStat(1, 1, 1, 1, 1, 1);
        Write("proc/4242/stat", "4242 (my (odd) module) S 1 4242 4242 0 -1 4194304 100 0 0 0 300 100 0 0 20 0 7 0 12345 1000000 250 18446744073709551615\n");
        Write("proc/4242/status", "Name:\tmodule\nState:\tS (sleeping)\nVmRSS:\t   2048 kB\nThreads:\t7\n");
        var options = Options();
        options.Modules.Add(new ModuleProcess("web", 4242));
        using var host = Build(options);
        var buffer = new SampleBuffer();
        host.Collect(buffer);
        var first = ToMap(buffer, _catalog);
        Assert.Equal(2048 * 1024.0, first["module/web/mem"]);
        Assert.Equal(7.0, first["module/web/threads"]);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Write("proc/4242/stat", "4242 (my (odd) module) S 1 4242 4242 0 -1 4194304 100 0 0 0 400 150 0 0 20 0 7 0 12345 1000000 250 18446744073709551615\n");
        buffer.Clear();
        host.Collect(buffer);
        Assert.Equal(1.5, ToMap(buffer, _catalog)["module/web/cpu"], 9); // 150 ticks at USER_HZ 100 in 1 s
    }

    [Fact]
    public void Collect_CgroupV1AndV2Partitions_ReadUsage()
    {
        WriteStat(1, 1, 1, 1, 1, 1);
        Write("cgroup/cpuacct/user.slice/cpuacct.usage", "1000000000\n");
        Write("cgroup/memory/user.slice/memory.usage_in_bytes", "4096\n");
        Write("cgroup/system.slice/cpu.stat", "usage_usec 2000000\nuser_usec 1000000\nsystem_usec 1000000\n");
        Write("cgroup/system.slice/memory.current", "8192\n");
        var options = Options();
        options.Partitions.Add(new CgroupPartition("user", "user.slice"));
        options.Partitions.Add(new CgroupPartition("system", "/system.slice"));
        using var host = Build(options);
        var buffer = new SampleBuffer();
        host.Collect(buffer);
        Assert.Equal(4096.0, ToMap(buffer, _catalog)["partition/user/mem"]);

        _clock.Advance(TimeSpan.FromMilliseconds(500));
        Write("cgroup/cpuacct/user.slice/cpuacct.usage", "1250000000\n");
        Write("cgroup/system.slice/cpu.stat", "usage_usec 2400000\nuser_usec 1000000\nsystem_usec 1000000\n");
        buffer.Clear();
        host.Collect(buffer);
        var m = ToMap(buffer, _catalog);
        Assert.Equal(0.5, m["partition/user/cpu"], 9);
        Assert.Equal(0.8, m["partition/system/cpu"], 9);
        Assert.Equal(8192.0, m["partition/system/mem"]);
    }

    /// <summary>A mountinfo naming fake v1 hierarchies below the fixture's cgroup root: (directory, controllers).</summary>
    private string MountInfo(params (string Dir, string Controllers)[] mounts)
    {
        var lines = mounts.Select((m, i) => $"{40 + i} 31 0:{40 + i} / {Path.Combine(Cgroup, m.Dir)} rw,relatime - cgroup cgroup rw,{m.Controllers}");
        var path = Path.Combine(_root, "mountinfo");
        File.WriteAllLines(path, ["31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755", .. lines]);
        return path;
    }

    /// <summary>Two reads 500 ms apart of partition "user" at predictor/user: its cpu (cores) and mem, as a map.</summary>
    private Dictionary<string, double> ReadUserPartition(HostTelemetryOptions options, string cpuacctUsageFile)
    {
        WriteStat(1, 1, 1, 1, 1, 1);
        options.Partitions.Add(new CgroupPartition("user", "predictor/user"));
        using var host = Build(options);
        var buffer = new SampleBuffer();
        host.Collect(buffer);
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        Write(cpuacctUsageFile, "1750000000\n"); // +750 ms of CPU in 500 ms: 1.5 cores
        buffer.Clear();
        host.Collect(buffer);
        return ToMap(buffer, _catalog);
    }

    [Fact]
    public void Collect_CpuacctCoMountedWithCpu_ReadsCpuacctUsageInTheCpuGroup()
    {
        Write("cgroup/cpu,cpuacct/predictor/user/cpuacct.usage", "1000000000\n");
        Write("cgroup/cpu,cpuacct/predictor/user/cpu.cfs_quota_us", "-1\n");
        Write("cgroup/memory/predictor/user/memory.usage_in_bytes", "4096\n");
        var options = Options();
        options.MountInfoPath = MountInfo(("cpu,cpuacct", "cpu,cpuacct"), ("memory", "memory"));

        var m = ReadUserPartition(options, "cgroup/cpu,cpuacct/predictor/user/cpuacct.usage");

        Assert.Equal(1.5, m["partition/user/cpu"], 9);
        Assert.Equal(4096.0, m["partition/user/mem"]);
        Assert.DoesNotContain(_problems, p => p.Contains(Cgroup, StringComparison.Ordinal)); // (no meminfo, PSI here)
    }

    [Fact]
    public void Collect_CpuacctMountedApartUnderAnUnusualName_FindsItThroughMountInfo()
    {
        // Only the mountinfo says where cpuacct is: "acct-h" is none of the names the collector would guess.
        Write("cgroup/acct-h/predictor/user/cpuacct.usage", "1000000000\n");
        Write("cgroup/cpu/predictor/user/cpu.cfs_quota_us", "-1\n");
        Write("cgroup/mem-h/predictor/user/memory.usage_in_bytes", "8192\n");
        var options = Options();
        options.MountInfoPath = MountInfo(("cpu", "cpu"), ("acct-h", "cpuacct"), ("mem-h", "memory"));

        var m = ReadUserPartition(options, "cgroup/acct-h/predictor/user/cpuacct.usage");

        Assert.Equal(1.5, m["partition/user/cpu"], 9);
        Assert.Equal(8192.0, m["partition/user/mem"]);
        Assert.DoesNotContain(_problems, p => p.Contains(Cgroup, StringComparison.Ordinal));
    }

    [Fact]
    public void Collect_MountInfoMountsOutsideTheCgroupRoot_AreIgnoredAndTheMissingFileReportedOnce()
    {
        // The host's real mounts (/sys/fs/cgroup/...) are not below the fixture root: never read from there.
        var outside = Directory.CreateTempSubdirectory("predictor-outside-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(outside, "predictor", "user"));
            File.WriteAllText(Path.Combine(outside, "predictor", "user", "cpuacct.usage"), "5\n");
            var mountInfo = Path.Combine(_root, "mountinfo");
            File.WriteAllText(mountInfo, $"40 31 0:40 / {outside} rw,relatime - cgroup cgroup rw,cpuacct\n");
            WriteStat(1, 1, 1, 1, 1, 1);
            var options = Options();
            options.MountInfoPath = mountInfo;
            options.Partitions.Add(new CgroupPartition("user", "predictor/user"));
            using var host = Build(options);
            var buffer = new SampleBuffer();
            host.Collect(buffer);
            host.Collect(buffer);

            Assert.Single(_problems, p => p.Contains(Path.Combine(Cgroup, "cpuacct", "predictor", "user", "cpuacct.usage"), StringComparison.Ordinal));
            Assert.DoesNotContain(_problems, p => p.Contains(outside, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void Collect_MissingFiles_ReportsEachOnceAndKeepsCollectingTheRest()
    {
        WriteStat(1, 1, 1, 1, 1, 1);
        var options = Options();
        options.Modules.Add(new ModuleProcess("gone", 999_999));
        using var host = Build(options);
        var buffer = new SampleBuffer();
        for (var i = 0; i < 5; i++)
        {
            buffer.Clear();
            host.Collect(buffer);
            WriteStat((ulong)(2 + i), 1, (ulong)(10 + i), 1, 1, 1);
        }

        Assert.Contains("host/cpu/busy", ToMap(buffer, _catalog).Keys);
        Assert.Single(_problems, p => p.Contains("meminfo", StringComparison.Ordinal));
        Assert.Single(_problems, p => p.Contains("999999/stat'", StringComparison.Ordinal));
        Assert.Equal(_problems.Count, _problems.Distinct().Count());
    }

    [Fact]
    public void Collect_RealProcOfThisMachine_GivesPlausibleValues()
    {
        var options = new HostTelemetryOptions { OnProblem = _problems.Add };
        options.Modules.Add(new ModuleProcess("self", Environment.ProcessId));
        using var host = new HostTelemetry(options, _catalog, TimeProvider.System);
        var buffer = new SampleBuffer();
        host.Collect(buffer);
        Thread.Sleep(200);
        buffer.Clear();
        host.Collect(buffer);
        var m = ToMap(buffer, _catalog);
        Assert.InRange(m["host/cpu/busy"], 0, 100);
        Assert.True(m["host/mem/total"] > 1e8);
        Assert.True(m["module/self/mem"] > 1e6);
        Assert.InRange(m["module/self/cpu"], 0, Environment.ProcessorCount + 0.5);
    }

    [Fact]
    public void Collect_SteadyState_DoesNotAllocate()
    {
        WriteStat(1, 1, 1, 1, 1, 1);
        Write("proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 600 kB\n");
        foreach (var r in new[] { "cpu", "memory", "io" })
        {
            Write($"proc/pressure/{r}", "some avg10=7.38 avg60=2.39 avg300=3.08 total=1000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        }

        using var host = Build(Options());
        var buffer = new SampleBuffer();
        for (var i = 0; i < 3; i++)
        {
            buffer.Clear();
            host.Collect(buffer);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            buffer.Clear();
            host.Collect(buffer);
        }

        var perTick = (GC.GetAllocatedBytesForCurrentThread() - before) / 100.0;
        Assert.True(perTick < 64, $"{perTick} bytes allocated per tick");
    }
}

using System.Diagnostics;
using System.Globalization;
using Predictor.Engine.Backends.Linux;
using Predictor.Engine.Control;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Engine.Tests.Backends;

/// <summary>
/// Real cgroups and real processes on this machine. These need root (CI runs as root); without it they fail and
/// say so. Every test kills its children and removes its cgroups in finally / Dispose.
/// </summary>
[Collection(Predictor.Engine.Tests.HostCpuCollection.Name)]
public sealed class LinuxBackendTests : IDisposable
{
    private const long MiB = 1L << 20;

    // The runs' ownership locks go here rather than into /run/lock, and go with it.
    private readonly DirectoryInfo _locks = Directory.CreateTempSubdirectory("predictor-cgroup-locks-");

    private static readonly HardwareLocation[] Cores =
    [
        new("core0", LocationKind.CoreSet, [0], 0, 1.0, 1L << 30, new HashSet<string>()),
        new("core1", LocationKind.CoreSet, [1], 0, 1.0, 1L << 30, new HashSet<string>()),
    ];

    private static void RequireRoot() =>
        Assert.True(LibC.IsRoot, $"This test must run as root (effective uid is {LibC.GetEffectiveUserId()}): it creates cgroups under /sys/fs/cgroup and moves processes. CI runs as root; run `sudo dotnet test` locally.");

    public void Dispose() => _locks.Delete(recursive: true);

    private LinuxBackendOptions Options(CpuLimitMode mode = CpuLimitMode.Quota) =>
        new() { GroupName = $"predictor-test-{Guid.NewGuid():N}"[..28], CpuMode = mode, LockDirectory = _locks.FullName };

    private static Decision DecisionOf(long memUser, long memSystem, long cpuUser, long cpuSystem) =>
        new(new PartitionSplit(1024 * MiB, memUser, memSystem), new PartitionSplit(2000, cpuUser, cpuSystem), 4);

    private static string Read(string path) => File.ReadAllText(path).Trim();

    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
    }

    private static void Kill(Process? process)
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(5000);
        }
        finally
        {
            process.Dispose();
        }
    }

    [Fact]
    public void Constructor_GroupAnotherRunOwns_IsRefusedAndTheFirstRunsGroupsStay()
    {
        RequireRoot();
        var options = Options();
        var memoryGroup = Path.Combine(CgroupLayout.Detect().V1("memory")!, options.GroupName);
        using (var first = new LinuxBackend(options, Cores))
        {
            var e = Assert.Throws<PredictorException>(() => new LinuxBackend(options, Cores));

            Assert.Contains($"The cgroup '{memoryGroup}' is in use by another predictor run", e.Message, StringComparison.Ordinal);
            Assert.Contains("Give this run another --cgroup-name", e.Message, StringComparison.Ordinal);
            Assert.True(Directory.Exists(Path.Combine(memoryGroup, "user")), "the refused run must not remove the first run's partitions");
        }

        Assert.False(Directory.Exists(memoryGroup));
        using var next = new LinuxBackend(options, Cores);
        Assert.True(Directory.Exists(Path.Combine(memoryGroup, "user")));
    }

    [Fact]
    public void Apply_QuotaMode_WritesMemoryLimitsAndCpuQuotasThatReadBack()
    {
        RequireRoot();
        string memoryUser;
        using (var backend = new LinuxBackend(Options(), Cores))
        {
            memoryUser = backend.PartitionPath("memory", PartitionId.User);
            var report = backend.Apply(DecisionOf(256 * MiB, 128 * MiB, 1500, 500));
            Assert.Equal(0, report.Failures);
            Assert.Equal((256 * MiB).ToString(CultureInfo.InvariantCulture), Read(Path.Combine(memoryUser, "memory.limit_in_bytes")));
            Assert.Equal((128 * MiB).ToString(CultureInfo.InvariantCulture), Read(Path.Combine(backend.PartitionPath("memory", PartitionId.System), "memory.limit_in_bytes")));
            Assert.Equal("150000", Read(Path.Combine(backend.PartitionPath("cpu", PartitionId.User), "cpu.cfs_quota_us")));
            Assert.Equal("50000", Read(Path.Combine(backend.PartitionPath("cpu", PartitionId.System), "cpu.cfs_quota_us")));
            Assert.Equal("100000", Read(Path.Combine(backend.PartitionPath("cpu", PartitionId.User), "cpu.cfs_period_us")));

            backend.Apply(DecisionOf(512 * MiB, 128 * MiB, 1000, 1000));
            Assert.Equal((512 * MiB).ToString(CultureInfo.InvariantCulture), Read(Path.Combine(memoryUser, "memory.limit_in_bytes")));
            Assert.Equal("100000", Read(Path.Combine(backend.PartitionPath("cpu", PartitionId.User), "cpu.cfs_quota_us")));
        }

        Assert.False(Directory.Exists(memoryUser));
        Assert.False(Directory.Exists(Path.GetDirectoryName(memoryUser)));
    }

    [Fact]
    public void Apply_CpusetMode_GivesUserTheLowCpusAndSystemTheHighOnes()
    {
        RequireRoot();
        Assert.True(Environment.ProcessorCount >= 2, "This test needs 2 or more CPUs.");
        using var backend = new LinuxBackend(Options(CpuLimitMode.Cpuset), Cores);
        Assert.Equal(0, backend.Apply(DecisionOf(256 * MiB, 256 * MiB, 1000, 1000)).Failures);
        var last = Environment.ProcessorCount - 1;
        Assert.Equal("0", Read(Path.Combine(backend.PartitionPath("cpuset", PartitionId.User), "cpuset.cpus")));
        Assert.Equal(last.ToString(CultureInfo.InvariantCulture), Read(Path.Combine(backend.PartitionPath("cpuset", PartitionId.System), "cpuset.cpus")));
    }

    [Fact]
    public void AttachToPartition_RealChild_IsInThePartitionsCgroups()
    {
        RequireRoot();
        Process? child = null;
        var options = Options();
        try
        {
            using var backend = new LinuxBackend(options, Cores);
            backend.Apply(DecisionOf(256 * MiB, 256 * MiB, 1000, 1000));
            child = Start("sleep", "30");
            backend.AttachToPartition(PartitionId.System, child.Id);

            var procs = File.ReadAllLines(Path.Combine(backend.PartitionPath("memory", PartitionId.System), "cgroup.procs"));
            Assert.Contains(child.Id.ToString(CultureInfo.InvariantCulture), procs);
            var cgroups = File.ReadAllText($"/proc/{child.Id}/cgroup");
            Assert.Contains($":memory:/{options.GroupName}/system", cgroups, StringComparison.Ordinal);
            Assert.Contains($":cpu:/{options.GroupName}/system", cgroups, StringComparison.Ordinal);
            if (CgroupLayout.Detect().CpuacctSeparate)
            {
                Assert.Contains($":cpuacct:/{options.GroupName}/system", cgroups, StringComparison.Ordinal);
            }

            Kill(child);
            child = null;
        }
        finally
        {
            Kill(child);
        }

        Assert.False(Directory.Exists(Path.Combine("/sys/fs/cgroup/memory", options.GroupName)));
        Assert.All(CgroupLayout.Detect().V1Mounts.Values, m => Assert.False(Directory.Exists(Path.Combine(m, options.GroupName))));
    }

    [Fact]
    public void HostTelemetry_BusyTaskInUserPartition_ReadsRisingPartitionCpuAndDisposeRemovesEveryGroup()
    {
        RequireRoot();
        var options = Options();
        var layout = CgroupLayout.Detect();
        Assert.True(layout.CpuacctMount is not null || layout.V2Mount is not null, "This host has neither v1 cpuacct nor cgroup v2: partition CPU use cannot be read.");
        var signal = Path.Combine(Path.GetTempPath(), options.GroupName + ".go");
        var groups = layout.V1Mounts.Values.Distinct(StringComparer.Ordinal).Select(m => Path.Combine(m, options.GroupName)).ToList();
        Process? child = null;
        try
        {
            using (var backend = new LinuxBackend(options, Cores, layout))
            {
                var acct = backend.PartitionPath("cpuacct", PartitionId.User);
                Assert.True(File.Exists(Path.Combine(acct, "cpuacct.usage")), $"{acct} has no cpuacct.usage");

                // The shell waits for the signal, so the busy loop it then forks starts inside the partition: a task
                // the backend did not attach, which Dispose must still move out before it can remove the groups.
                child = Start("sh", "-c", $"while [ ! -e '{signal}' ]; do sleep 0.01; done; (while :; do :; done) & wait");
                backend.AttachToPartition(PartitionId.User, child.Id);
                File.WriteAllText(signal, "");

                var problems = new List<string>();
                var telemetry = new HostTelemetryOptions { PerCore = false, OnProblem = problems.Add };
                telemetry.Partitions.Add(new CgroupPartition("user", $"{options.GroupName}/user"));
                telemetry.Partitions.Add(new CgroupPartition("system", $"{options.GroupName}/system"));
                var catalog = new SeriesCatalog();
                using var host = new HostTelemetry(telemetry, catalog, TimeProvider.System);
                var buffer = new SampleBuffer();
                host.Collect(buffer);
                var user = new List<double>();
                var system = new List<double>();
                for (var i = 0; i < 3; i++)
                {
                    Thread.Sleep(200);
                    buffer.Clear();
                    host.Collect(buffer);
                    for (var j = 0; j < buffer.Count; j++)
                    {
                        var name = catalog[buffer.SeriesIds[j]].Name;
                        (name == "partition/user/cpu" ? user : name == "partition/system/cpu" ? system : null)?.Add(buffer.Values[j]);
                    }
                }

                Assert.Empty(problems);
                Assert.Equal(3, user.Count);
                Assert.All(user, v => Assert.InRange(v, 1e-3, Environment.ProcessorCount + 0.5)); // the busy loop runs: usage rises every read
                Assert.Equal([0.0, 0.0, 0.0], system); // no task in system: its cpuacct.usage does not move
                Assert.True(Directory.Exists(Path.Combine("/proc", child.Id.ToString(CultureInfo.InvariantCulture))), "the child still runs when the backend is disposed");
            }

            Assert.All(groups, g => Assert.False(Directory.Exists(g), $"{g} was not removed"));
        }
        finally
        {
            Kill(child);
            File.Delete(signal);
        }

        Assert.All(groups, g => Assert.False(Directory.Exists(g), $"{g} was not removed"));
    }

    [Fact]
    public void PinProcess_BusyChild_RunsOnTheCoreItWasMovedTo()
    {
        RequireRoot();
        Assert.True(Environment.ProcessorCount >= 2, "This test needs 2 or more CPUs.");
        Process? child = null;
        try
        {
            child = Start("sh", "-c", "while :; do :; done");
            foreach (var cpu in new[] { 1, 0, 1 })
            {
                Assert.Null(LinuxBackend.PinProcess(child.Id, [cpu]));
                Assert.Equal(cpu.ToString(CultureInfo.InvariantCulture), CpusAllowed(child.Id));
                Assert.Equal(cpu, WaitForProcessor(child.Id, cpu));
            }
        }
        finally
        {
            Kill(child);
        }
    }

    [Fact]
    public void Apply_Migration_PinsTheModulesThreadsToTheTargetLocation()
    {
        RequireRoot();
        Process? child = null;
        try
        {
            using var backend = new LinuxBackend(Options(), Cores);
            child = Start("sh", "-c", "while :; do :; done");
            backend.AttachModule(0, child.Id);
            var decision = DecisionOf(256 * MiB, 256 * MiB, 1000, 1000);
            decision.MigrationBuffer[0] = new Migration(0, 0, 1, 0.01);
            decision.SetMigrationCount(1);
            var report = backend.Apply(decision);
            Assert.Equal(1, report.MigrationsApplied);
            Assert.Equal("1", CpusAllowed(child.Id));
            Assert.Equal(1, WaitForProcessor(child.Id, 1));
        }
        finally
        {
            Kill(child);
        }
    }

    [Fact]
    public void Apply_MigrationOfUnattachedModule_ReportedNotThrown()
    {
        RequireRoot();
        using var backend = new LinuxBackend(Options(), Cores);
        var decision = DecisionOf(256 * MiB, 256 * MiB, 1000, 1000);
        decision.MigrationBuffer[0] = new Migration(3, 0, 1, 0.01);
        decision.SetMigrationCount(1);
        var report = backend.Apply(decision);
        Assert.Equal(1, report.Failures);
        Assert.Contains("module 3", report.FirstFailure, StringComparison.Ordinal);
        Assert.Equal(0, decision.MigrationCount); // removed: the loop must not believe module 3 moved
    }

    private static string CpusAllowed(int pid) =>
        File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))["Cpus_allowed_list:".Length..].Trim();

    /// <summary>The processor field (39th) of /proc/pid/stat, polled until it shows <paramref name="expected"/> or 30 s pass.</summary>
    private static int WaitForProcessor(int pid, int expected)
    {
        var processor = -1;
        for (var i = 0; i < 600 && processor != expected; i++)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            processor = int.Parse(fields[39 - 3], CultureInfo.InvariantCulture); // fields after "pid (comm)" start at #3
            if (processor != expected)
            {
                Thread.Sleep(50);
            }
        }

        return processor;
    }
}

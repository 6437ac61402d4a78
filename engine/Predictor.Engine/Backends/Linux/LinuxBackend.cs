using System.Globalization;
using Predictor.Engine.Control;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Backends.Linux;

/// <summary>How a partition's CPU share is enforced.</summary>
public enum CpuLimitMode
{
    /// <summary>CFS bandwidth: cpu.cfs_quota_us = millicores × period / 1000 (a fractional share of all CPUs).</summary>
    Quota,

    /// <summary>Exclusive-ish CPU sets: ⌈millicores / 1000⌉ whole CPUs, user from the low end, system from the high end.</summary>
    Cpuset,
}

/// <summary>Options of the Linux backend.</summary>
public sealed class LinuxBackendOptions
{
    private string _groupName = "predictor";
    private long _periodMicroseconds = 100_000;

    /// <summary>Name of Predictor's cgroup under each hierarchy; partitions are its children <c>user</c> and <c>system</c>.</summary>
    /// <value>The default value is <c>predictor</c>.</value>
    public string GroupName
    {
        get => _groupName;
        set => _groupName = !string.IsNullOrWhiteSpace(value) && value.IndexOfAny(['/', '\0']) < 0 && value is not "." and not ".."
            ? value
            : throw new PredictorException($"LinuxBackendOptions.GroupName '{value}' is not a valid cgroup name: use one path segment without '/' (e.g. predictor).");
    }

    /// <summary>How CPU is limited.</summary>
    /// <value>The default value is <see cref="CpuLimitMode.Quota"/>.</value>
    public CpuLimitMode CpuMode { get; set; } = CpuLimitMode.Quota;

    /// <summary>CFS period in microseconds (quota mode).</summary>
    /// <value>The default value is 100000 (100 ms).</value>
    public long CpuPeriodMicroseconds
    {
        get => _periodMicroseconds;
        set => _periodMicroseconds = value is >= 1000 and <= 1_000_000
            ? value
            : throw new PredictorException($"LinuxBackendOptions.CpuPeriodMicroseconds = {value} is out of range: the kernel accepts 1000..1000000 µs.");
    }

    /// <summary>
    /// The mountinfo file the cgroup layout is read from when no <see cref="CgroupLayout"/> is passed. Tests point it
    /// at a file describing a fake hierarchy in a temporary directory.
    /// </summary>
    /// <value>The default value is <c>/proc/self/mountinfo</c>.</value>
    public string MountInfoPath { get; set; } = "/proc/self/mountinfo";

    /// <summary>
    /// Where the lock that makes a run the only user of its cgroups lives (one file per hierarchy and group name).
    /// </summary>
    /// <value>The default value is <c>/run/lock</c>, or the temporary folder where that does not exist.</value>
    public string LockDirectory { get; set; } = Directory.Exists("/run/lock") ? "/run/lock" : Path.GetTempPath();

    /// <summary>
    /// False only for tests that drive a fake cgroup tree in a temporary directory (no kernel, so root is not needed).
    /// </summary>
    internal bool RequireRoot { get; set; } = true;
}

/// <summary>
/// The Linux backend: a partition is a pair of cgroups <c>&lt;mount&gt;/&lt;group&gt;/{user,system}</c> in the
/// memory hierarchy (memory.limit_in_bytes) and in the cpu hierarchy (cpu.cfs_quota_us / cpu.cfs_period_us) or the
/// cpuset hierarchy (cpuset.cpus, cpuset.mems), like systemd's user.slice and system.slice. When v1 cpuacct is
/// mounted apart from those (its own hierarchy), the partition also gets a group there holding the same tasks, so its
/// CPU use (cpuacct.usage) can be read; co-mounted (cpu,cpuacct) the cpu group already has it. A module migration pins
/// every thread of the module's process (/proc/&lt;pid&gt;/task/*) to the target location's CPUs with
/// sched_setaffinity. Writes happen only when a value changes. The host refusing a value (e.g. a memory limit below
/// current use: EBUSY) is reported, not thrown, so the loop keeps ticking. Dispose moves processes it attached and
/// that still live back to the cgroups they came from, then removes the cgroups it created. Needs root.
/// <para>
/// cgroup v2: a controller whose v1 hierarchy is not mounted is driven through the unified hierarchy when its root
/// offers it (v1 takes precedence when both exist, as on a hybrid host). The partitions are then
/// <c>&lt;v2&gt;/&lt;group&gt;/{user,system}</c> with memory.max (bytes), cpu.max ("quota period") or cpuset.cpus /
/// cpuset.mems; the controllers are enabled for children by writing <c>+memory +cpu</c> (or <c>+cpuset</c>) to the
/// root's (only the ones not yet enabled) and the group's cgroup.subtree_control. v2's "no internal processes" rule
/// means the group itself never holds tasks, so Dispose moves tasks back to the cgroup they came from, or to the v2
/// root when that one is gone.
/// </para>
/// </summary>
public sealed class LinuxBackend : IExecutionBackend
{
    private static readonly string[] PartitionNames = ["user", "system"];
    private readonly LinuxBackendOptions _options;
    private readonly IReadOnlyList<HardwareLocation> _locations;
    private readonly List<string> _controllers = [];
    private readonly Dictionary<string, string> _groupDirs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _v2Controllers = new(StringComparer.Ordinal);
    private readonly string? _v2Mount;
    private readonly Dictionary<int, Dictionary<string, string>> _attached = [];
    private readonly Dictionary<int, int> _modulePids = [];
    private readonly long[] _lastMemory = [-1, -1];
    private readonly long[] _lastCpu = [-1, -1];
    private readonly int _cpuCount;
    private readonly FileStream _ownership;
    private bool _disposed;

    /// <summary>Creates (or reuses) the cgroups; throws a <see cref="PredictorException"/> when not root or a hierarchy is missing.</summary>
    public LinuxBackend(LinuxBackendOptions options, IReadOnlyList<HardwareLocation> locations, CgroupLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(locations);
        _options = options;
        _locations = locations;
        if (!OperatingSystem.IsLinux())
        {
            throw new PredictorException("The Linux backend runs on Linux only; use --backend simulated or dry-run here.");
        }

        if (options.RequireRoot && !LibC.IsRoot)
        {
            throw new PredictorException(
                $"The Linux backend must run as root (effective uid is {LibC.GetEffectiveUserId()}): creating cgroups and moving processes needs it. Run as root, or use --backend dry-run.");
        }

        layout ??= CgroupLayout.Detect(options.MountInfoPath);
        var cpuController = options.CpuMode == CpuLimitMode.Quota ? "cpu" : "cpuset";
        foreach (var controller in new[] { "memory", cpuController })
        {
            if (layout.V1(controller) is null)
            {
                if (layout.V2Mount is null || !layout.V2Has(controller))
                {
                    var v2 = layout.V2Mount is null ? "there is no cgroup v2 mount" : $"the cgroup v2 hierarchy at {layout.V2Mount} offers only [{string.Join(' ', layout.V2Controllers)}] (its cgroup.controllers)";
                    throw new PredictorException(
                        $"The cgroup controller '{controller}' is missing: no v1 '{controller}' hierarchy is mounted and {v2}. Enable '{controller}' in the v2 root (boot without it bound to v1, e.g. systemd.unified_cgroup_hierarchy=1), or mount v1 (mount -t cgroup -o {controller} cgroup /sys/fs/cgroup/{controller}), or use --backend dry-run.");
                }

                _v2Controllers.Add(controller);
                _v2Mount = layout.V2Mount;
            }

            _controllers.Add(controller);
        }

        // A partition's CPU use (cpuacct.usage) lives in the v1 cpuacct hierarchy. Co-mounted with a hierarchy the
        // partitions already use (cpu,cpuacct) it is that group; mounted on its own, the partition needs a group there
        // too, holding the same tasks, or partition/*/cpu cannot be read. No v1 cpuacct: v2's cpu.stat has usage_usec.
        string? accountingShared = null;
        if (layout.CpuacctMount is { } acct)
        {
            accountingShared = _controllers.FirstOrDefault(c => !_v2Controllers.Contains(c) && string.Equals(layout.V1(c), acct, StringComparison.Ordinal));
            if (accountingShared is null)
            {
                _controllers.Add("cpuacct");
            }
        }

        _cpuCount = Environment.ProcessorCount;
        _ownership = TakeOwnership(options, Path.Combine(layout.V1(_controllers[0]) ?? layout.V2Mount!, options.GroupName));
        try
        {
            if (_v2Mount is not null)
            {
                CreateV2Groups(_v2Mount);
            }

            foreach (var controller in _controllers)
            {
                if (_v2Controllers.Contains(controller))
                {
                    continue;
                }

                var group = Path.Combine(layout.V1(controller)!, options.GroupName);
                _groupDirs[controller] = group;
                Directory.CreateDirectory(group);
                if (controller == "cpuset")
                {
                    // A cpuset cgroup accepts tasks only once cpus and mems are set; start from the parent's.
                    var parent = layout.V1(controller)!;
                    Write(Path.Combine(group, "cpuset.cpus"), File.ReadAllText(Path.Combine(parent, "cpuset.effective_cpus")).Trim());
                    Write(Path.Combine(group, "cpuset.mems"), File.ReadAllText(Path.Combine(parent, "cpuset.effective_mems")).Trim());
                }

                foreach (var name in PartitionNames)
                {
                    var dir = Path.Combine(group, name);
                    Directory.CreateDirectory(dir);
                    if (controller == "cpuset")
                    {
                        Write(Path.Combine(dir, "cpuset.cpus"), File.ReadAllText(Path.Combine(group, "cpuset.cpus")).Trim());
                        Write(Path.Combine(dir, "cpuset.mems"), File.ReadAllText(Path.Combine(group, "cpuset.mems")).Trim());
                    }
                }

                if (controller == "cpu")
                {
                    foreach (var name in PartitionNames)
                    {
                        Write(Path.Combine(group, name, "cpu.cfs_period_us"), options.CpuPeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
                    }
                }
            }

            if (accountingShared is not null)
            {
                _groupDirs["cpuacct"] = _groupDirs[accountingShared];
            }
        }
        catch
        {
            RemoveGroups();
            _ownership.Dispose();
            throw;
        }
    }

    // One run per group: a second run on the same group would adopt the first's partitions and remove them when it
    // stops, leaving the first with none. An exclusive lock, held until Dispose (or the process ends), says who owns it.
    private static FileStream TakeOwnership(LinuxBackendOptions options, string group)
    {
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(group)))[..16];
        var path = Path.Combine(options.LockDirectory, $"predictor-cgroup-{options.GroupName}-{key}.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new PredictorException(
                $"The cgroup '{group}' is in use by another predictor run (it holds '{path}'); sharing it, the run that stops first would remove the other's partitions. Give this run another --cgroup-name.", ex);
        }
    }

    /// <summary>
    /// The directory of a partition's cgroup in one hierarchy (<c>memory</c>, <c>cpu</c>, <c>cpuset</c>, or
    /// <c>cpuacct</c> when v1 has it: the group holding cpuacct.usage, shared with cpu when they are co-mounted).
    /// </summary>
    public string PartitionPath(string controller, PartitionId partition) =>
        Path.Combine(_groupDirs.TryGetValue(controller, out var dir)
            ? dir
            : throw new PredictorException($"This Linux backend does not use the '{controller}' hierarchy; it uses [{string.Join(", ", _controllers)}]."),
            PartitionNames[(int)partition]);

    /// <summary>Moves process <paramref name="pid"/> (all its threads) into a partition's cgroups.</summary>
    public void AttachToPartition(PartitionId partition, int pid)
    {
        if (!_attached.ContainsKey(pid))
        {
            _attached[pid] = OriginalCgroups(pid);
        }

        // v2 controllers share one directory per partition: write the pid there once.
        var v2Done = false;
        foreach (var controller in _controllers)
        {
            var isV2 = _v2Controllers.Contains(controller);
            if (isV2 && v2Done)
            {
                continue;
            }

            v2Done |= isV2;
            Write(Path.Combine(PartitionPath(controller, partition), "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Names the process that runs module <paramref name="module"/>; its migrations pin this process's threads.</summary>
    public void AttachModule(int module, int pid) => _modulePids[module] = pid;

    /// <inheritdoc/>
    public BackendReport Apply(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var failures = 0;
        string? first = null;
        var memory = decision[ResourceKind.Memory];
        var cpu = decision[ResourceKind.Cpu];
        for (var p = 0; p < 2; p++)
        {
            var id = (PartitionId)p;
            if (memory[id] != _lastMemory[p])
            {
                var memoryFile = _v2Controllers.Contains("memory") ? "memory.max" : "memory.limit_in_bytes";
                Try(() => Write(Path.Combine(PartitionPath("memory", id), memoryFile), memory[id].ToString(CultureInfo.InvariantCulture)), ref failures, ref first);
                _lastMemory[p] = memory[id];
            }

            if (cpu[id] != _lastCpu[p])
            {
                var millicores = cpu[id];
                if (_options.CpuMode == CpuLimitMode.Quota)
                {
                    var quota = Math.Max(1000, millicores * _options.CpuPeriodMicroseconds / 1000);
                    if (_v2Controllers.Contains("cpu"))
                    {
                        // v2 cpu.max is "<quota µs> <period µs>" in one write.
                        var value = string.Create(CultureInfo.InvariantCulture, $"{quota} {_options.CpuPeriodMicroseconds}");
                        Try(() => Write(Path.Combine(PartitionPath("cpu", id), "cpu.max"), value), ref failures, ref first);
                    }
                    else
                    {
                        Try(() => Write(Path.Combine(PartitionPath("cpu", id), "cpu.cfs_quota_us"), quota.ToString(CultureInfo.InvariantCulture)), ref failures, ref first);
                    }
                }
                else
                {
                    Try(() => Write(Path.Combine(PartitionPath("cpuset", id), "cpuset.cpus"), CpusFor(id, millicores)), ref failures, ref first);
                }

                _lastCpu[p] = millicores;
            }
        }

        // A move that did not happen is removed from the decision (IExecutionBackend.Apply's rule), so the loop's
        // placement keeps the module where it really is: fail closed. Backwards, so removal keeps indices valid.
        var applied = 0;
        for (int i = decision.MigrationCount - 1; i >= 0; i--)
        {
            var m = decision.Migrations[i];
            string? error = _modulePids.TryGetValue(m.Module, out var pid)
                ? PinProcess(pid, _locations[m.To].CpuIds)
                : $"module {m.Module} has no process attached (AttachModule); migration skipped";
            if (error is null)
            {
                applied++;
            }
            else
            {
                failures++;
                first ??= error;
                decision.RemoveMigrationAt(i);
            }
        }

        return new BackendReport(0, 0, 0, applied, failures, first);
    }

    /// <summary>
    /// Pins every thread of <paramref name="pid"/> to <paramref name="cpus"/>; returns null or why it failed. Threads
    /// that exit meanwhile (ESRCH) are not failures.
    /// </summary>
    public static string? PinProcess(int pid, IReadOnlyList<int> cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        var taskDir = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task";
        if (!Directory.Exists(taskDir))
        {
            return $"process {pid} does not exist";
        }

        foreach (var dir in Directory.EnumerateDirectories(taskDir))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
            {
                continue;
            }

            var errno = LibC.SetAffinity(tid, cpus);
            if (errno != 0 && errno != 3 /* ESRCH: the thread exited */)
            {
                return $"sched_setaffinity({tid}, [{string.Join(',', cpus)}]) failed with errno {errno} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)})";
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var (pid, original) in _attached)
        {
            if (!Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}"))
            {
                continue;
            }

            if (_v2Mount is not null)
            {
                // /proc/<pid>/cgroup names the v2 cgroup on the "0::" line (key ""). The group itself cannot take
                // tasks (no internal processes with controllers enabled), so a vanished origin falls back to the root.
                var back = original.TryGetValue("", out var v2Path) ? _v2Mount + v2Path : _v2Mount;
                if (!Directory.Exists(back) || back.StartsWith(Path.Combine(_v2Mount, _options.GroupName), StringComparison.Ordinal))
                {
                    back = _v2Mount;
                }

                TryWrite(Path.Combine(back, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            }

            foreach (var controller in _controllers)
            {
                if (!_v2Controllers.Contains(controller) && original.TryGetValue(controller, out var path) && _groupDirs.TryGetValue(controller, out var group))
                {
                    var mount = Path.GetDirectoryName(group)!;
                    TryWrite(Path.Combine(mount + path, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        foreach (var controller in _controllers)
        {
            // Tasks we did not attach (children forked inside a partition) keep rmdir failing with EBUSY: v1 has no
            // record of where they came from, so they go to the hierarchy's root, which takes any task.
            if (_v2Controllers.Contains(controller) || !_groupDirs.TryGetValue(controller, out var group))
            {
                continue;
            }

            var mount = Path.GetDirectoryName(group)!;
            foreach (var name in PartitionNames)
            {
                foreach (var pid in TasksOf(Path.Combine(group, name)))
                {
                    TryWrite(Path.Combine(mount, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        if (_v2Mount is not null)
        {
            // Tasks we did not attach (e.g. children forked inside a partition) would keep rmdir failing with EBUSY.
            foreach (var name in PartitionNames)
            {
                var procs = Path.Combine(_v2Mount, _options.GroupName, name, "cgroup.procs");
                if (!File.Exists(procs))
                {
                    continue;
                }

                foreach (var line in File.ReadAllLines(procs))
                {
                    if (int.TryParse(line.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !_attached.ContainsKey(pid))
                    {
                        TryWrite(Path.Combine(_v2Mount, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
                    }
                }
            }
        }

        RemoveGroups();
        _ownership.Dispose();
    }

    private void CreateV2Groups(string mount)
    {
        var group = Path.Combine(mount, _options.GroupName);
        foreach (var controller in _v2Controllers)
        {
            _groupDirs[controller] = group;
        }

        // Order matters: a controller must be enabled in the root's subtree_control before the group can offer it
        // to its children. Only controllers not yet enabled at the root are written (the root is shared with systemd).
        var rootControl = Path.Combine(mount, "cgroup.subtree_control");
        var enabled = File.Exists(rootControl)
            ? File.ReadAllText(rootControl).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        var missing = _controllers.Where(c => _v2Controllers.Contains(c) && !enabled.Contains(c, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            Write(rootControl, string.Join(' ', missing.Select(c => "+" + c)));
        }

        Directory.CreateDirectory(group);
        Write(Path.Combine(group, "cgroup.subtree_control"), string.Join(' ', _controllers.Where(_v2Controllers.Contains).Select(c => "+" + c)));
        var mems = Path.Combine(mount, "cpuset.mems.effective");
        foreach (var name in PartitionNames)
        {
            var dir = Path.Combine(group, name);
            Directory.CreateDirectory(dir);
            if (_v2Controllers.Contains("cpu"))
            {
                // No limit until the first decision: "max <period>".
                Write(Path.Combine(dir, "cpu.max"), string.Create(CultureInfo.InvariantCulture, $"max {_options.CpuPeriodMicroseconds}"));
            }

            if (_v2Controllers.Contains("cpuset") && File.Exists(mems))
            {
                // Empty cpuset.mems would inherit the parent's; written explicitly so the partition's nodes are visible.
                Write(Path.Combine(dir, "cpuset.mems"), File.ReadAllText(mems).Trim());
            }
        }
    }

    private string CpusFor(PartitionId id, long millicores)
    {
        var count = (int)Math.Clamp((millicores + 999) / 1000, 1, _cpuCount);
        var start = id == PartitionId.User ? 0 : _cpuCount - count;
        return count == 1
            ? start.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{start}-{start + count - 1}");
    }

    private static Dictionary<string, string> OriginalCgroups(int pid)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var file = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cgroup";
        if (!File.Exists(file))
        {
            throw new PredictorException($"Process {pid} does not exist; cannot attach it to a partition.");
        }

        foreach (var line in File.ReadLines(file))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3)
            {
                foreach (var controller in parts[1].Split(','))
                {
                    result[controller] = parts[2];
                }
            }
        }

        return result;
    }

    private static List<int> TasksOf(string cgroup)
    {
        var pids = new List<int>();
        try
        {
            var procs = Path.Combine(cgroup, "cgroup.procs");
            if (File.Exists(procs))
            {
                foreach (var line in File.ReadAllLines(procs))
                {
                    if (int.TryParse(line.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    {
                        pids.Add(pid);
                    }
                }
            }
        }
        catch (IOException)
        {
        }

        return pids;
    }

    private void RemoveGroups()
    {
        foreach (var group in _groupDirs.Values.Distinct(StringComparer.Ordinal))
        {
            foreach (var name in PartitionNames)
            {
                TryRemove(Path.Combine(group, name));
            }

            TryRemove(group);
        }
    }

    private static void TryRemove(string dir)
    {
        // A cgroup directory is removed with rmdir (its control files are not real files); EBUSY right after its
        // last task exits clears within milliseconds, hence the short retry.
        for (var attempt = 0; attempt < 20 && Directory.Exists(dir); attempt++)
        {
            try
            {
                Directory.Delete(dir, recursive: false);
            }
            catch (IOException)
            {
                Thread.Sleep(10);
            }
        }
    }

    private static void Write(string path, string value) => File.WriteAllText(path, value);

    private static void TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
        }
        catch (IOException)
        {
        }
    }

    private static void Try(Action action, ref int failures, ref string? first)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failures++;
            first ??= ex.Message;
        }
    }
}

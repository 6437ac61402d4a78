using System.Globalization;
using System.Runtime.InteropServices;

namespace Predictor.Engine.Backends.Linux;

/// <summary>One finding of <c>predictor doctor</c>: what was checked, whether it holds, and why.</summary>
/// <param name="Name">What was checked, e.g. <c>cgroup v1 memory</c>.</param>
/// <param name="Ok">True when the host supports it.</param>
/// <param name="Detail">What was found and what it means for Predictor.</param>
public sealed record DoctorCheck(string Name, bool Ok, string Detail);

/// <summary>Probes what this host supports for the Linux backend, reading only (it creates nothing).</summary>
public static class HostDoctor
{
    /// <summary>Runs every check. <paramref name="onnxRuntimeProbe"/> says whether ONNX Runtime loads (the host
    /// passes the ONNX binding's probe); null reports the check as not done.</summary>
    public static IReadOnlyList<DoctorCheck> Run(Func<(bool Ok, string Detail)>? onnxRuntimeProbe = null)
    {
        var checks = new List<DoctorCheck>();
        var linux = OperatingSystem.IsLinux();
        checks.Add(new("operating system", linux, linux ? RuntimeInformation.OSDescription : $"{RuntimeInformation.OSDescription}: only the simulated and dry-run backends work here"));
        if (!linux)
        {
            return checks;
        }

        var root = LibC.IsRoot;
        checks.Add(new("root", root, root
            ? "effective uid 0: cgroups can be created and processes moved"
            : $"effective uid {LibC.GetEffectiveUserId()}: the Linux backend needs root (cgroup writes, moving other processes); dry-run and simulated work"));

        var layout = CgroupLayout.Detect();
        foreach (var controller in new[] { "memory", "cpu", "cpuset", "cpuacct" })
        {
            var mount = layout.V1(controller);
            if (mount is null)
            {
                checks.Add(new($"cgroup v1 {controller}", false, controller == "cpuacct"
                    ? "not mounted: partition/*/cpu can only come from cgroup v2 (cpu.stat usage_usec), when the partitions are there"
                    : "not mounted"));
                continue;
            }

            var writable = IsWritableDirectory(mount);
            checks.Add(new($"cgroup v1 {controller}", writable,
                $"mounted at {mount}, {(writable ? "writable" : root ? "not writable (read-only mount?)" : "writable only by root")}" + Purpose(controller, layout)));
        }

        if (layout.V2Mount is null)
        {
            checks.Add(new("cgroup v2", false, "no cgroup2 mount"));
        }
        else
        {
            var usable = layout.V2Has("memory") && layout.V2Has("cpu");
            var offered = layout.V2Controllers.Count == 0 ? "no controllers" : string.Join(' ', layout.V2Controllers);
            checks.Add(new("cgroup v2", usable,
                $"mounted at {layout.V2Mount} with [{offered}]" + (usable
                    ? "; the Linux backend uses it for each controller that has no v1 hierarchy mounted (v1 wins where both exist)"
                    : "; it lacks memory and cpu, so partitions use the v1 hierarchies")));
        }

        var cpusetMount = layout.V1("cpuset");
        if (cpusetMount is not null)
        {
            var cpus = ReadTrim(Path.Combine(cpusetMount, "cpuset.effective_cpus")) ?? ReadTrim(Path.Combine(cpusetMount, "cpuset.cpus"));
            var mems = ReadTrim(Path.Combine(cpusetMount, "cpuset.effective_mems")) ?? ReadTrim(Path.Combine(cpusetMount, "cpuset.mems"));
            checks.Add(new("cpuset cpus/mems", cpus is not null && mems is not null, $"root cpuset: cpus {cpus ?? "?"}, mems {mems ?? "?"}"));
        }

        var psi = ReadTrim("/proc/pressure/cpu");
        checks.Add(new("PSI", psi is not null, psi is null
            ? "/proc/pressure/cpu is not readable (kernel without CONFIG_PSI or psi=0): pressure series are not collected"
            : "/proc/pressure/{cpu,memory,io} readable: pressure series can be collected"));

        var online = ReadTrim("/sys/devices/system/cpu/online") ?? "?";
        checks.Add(new("CPUs", true, $"{Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)} available to this process, online {online}"));
        var nodes = ReadTrim("/sys/devices/system/node/online");
        checks.Add(new("NUMA nodes", nodes is not null, nodes is null ? "no /sys/devices/system/node: treat the host as one node" : $"online {nodes}"));

        try
        {
            var allowed = LibC.GetAffinity(0);
            checks.Add(new("sched_setaffinity", true, $"this process may run on CPUs [{string.Join(',', allowed)}]; modules are moved between cores by pinning their threads"));
        }
        catch (PredictorException ex)
        {
            checks.Add(new("sched_setaffinity", false, ex.Message));
        }

        if (onnxRuntimeProbe is null)
        {
            checks.Add(new("ONNX Runtime", false, "not checked"));
        }
        else
        {
            var (ok, detail) = onnxRuntimeProbe();
            checks.Add(new("ONNX Runtime", ok, detail));
        }

        return checks;
    }

    private static string Purpose(string controller, CgroupLayout layout) => controller switch
    {
        "memory" => " (partition memory limits: memory.limit_in_bytes)",
        "cpu" => " (partition CPU quotas: cpu.cfs_quota_us)",
        "cpuset" => " (partition CPU sets and the Secure profile's exclusive cpuset)",
        _ when layout.CpuacctSeparate =>
            " (partition CPU use: cpuacct.usage; mounted apart from cpu, so the Linux backend also makes each partition a group here with the same tasks)",
        _ => " (partition CPU use: cpuacct.usage; co-mounted with cpu, so it is read in the partition's cpu group)",
    };

    private static bool IsWritableDirectory(string path) => Directory.Exists(path) && LibC.CanWrite(path);

    private static string? ReadTrim(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

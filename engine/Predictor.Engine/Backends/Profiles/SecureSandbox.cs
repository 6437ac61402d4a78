using System.Globalization;
using Predictor.Engine.Backends.Linux;

namespace Predictor.Engine.Backends.Profiles;

/// <summary>
/// The Secure profile: the strongest isolation this host offers without an enclave. It first looks for a hardware
/// enclave (Intel SGX / TDX, AMD SEV, by their device nodes and CPU flags) and says plainly that none is available
/// when so (on this machine none is); then gives the module its own cgroup v1 pair: a cpuset with the given CPUs
/// marked exclusive (no sibling cpuset may share them) and memory pinned to the given nodes, and a memory cgroup with
/// a hard limit. <see cref="Isolation"/> says exactly what was applied. What this is not: memory encryption or
/// attestation; processes outside Predictor's cgroups (in the root cpuset) may still be scheduled on these CPUs.
/// Needs root; Dispose moves nothing back (kill or move the module first) and removes the cgroups.
/// </summary>
public sealed class SecureSandbox : IDisposable
{
    private readonly string _cpusetGroup;
    private readonly string _cpuset;
    private readonly string _memoryGroup;
    private readonly string _memory;

    private SecureSandbox(string cpusetGroup, string cpuset, string memoryGroup, string memory, string isolation)
    {
        _cpusetGroup = cpusetGroup;
        _cpuset = cpuset;
        _memoryGroup = memoryGroup;
        _memory = memory;
        Isolation = isolation;
    }

    /// <summary>One paragraph: whether an enclave exists, and what isolation was applied instead.</summary>
    public string Isolation { get; }

    /// <summary>The module's cpuset cgroup directory.</summary>
    public string CpusetPath => _cpuset;

    /// <summary>The module's memory cgroup directory.</summary>
    public string MemoryPath => _memory;

    /// <summary>What hardware enclave this host has, or null when none (with what was looked at).</summary>
    public static (string? Enclave, string Checked) DetectEnclave()
    {
        string[] devices = ["/dev/sgx_enclave", "/dev/sgx/enclave", "/dev/isgx", "/dev/sev", "/dev/sev-guest", "/dev/tdx_guest", "/dev/tdx-guest"];
        foreach (var device in devices)
        {
            if (File.Exists(device) || Directory.Exists(device))
            {
                return (device, $"found {device}");
            }
        }

        var flags = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? string.Empty
            : string.Empty;
        var sgx = flags.Split(' ').Contains("sgx", StringComparer.Ordinal);
        return (null, $"no {string.Join(", ", devices)}; CPU flag sgx {(sgx ? "present but no driver" : "absent")}");
    }

    /// <summary>Creates <c>cpuset/&lt;group&gt;/&lt;module&gt;</c> and <c>memory/&lt;group&gt;/&lt;module&gt;</c> with exclusive CPUs and a memory limit.</summary>
    public static SecureSandbox Create(string group, string module, IReadOnlyList<int> cpus, long memoryLimitBytes, CgroupLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        if (!LibC.IsRoot)
        {
            throw new PredictorException($"The Secure profile must run as root (effective uid {LibC.GetEffectiveUserId()}): it creates cgroups. Run as root or use the Standard profile.");
        }

        if (cpus.Count == 0 || memoryLimitBytes <= 0)
        {
            throw new PredictorException($"Secure profile for '{module}': give at least one CPU and a positive memory limit (got {cpus.Count} CPUs, {memoryLimitBytes} bytes).");
        }

        layout ??= CgroupLayout.Detect();
        var cpusetRoot = layout.V1("cpuset") ?? throw new PredictorException("Secure profile: no cgroup v1 cpuset hierarchy is mounted; an exclusive cpuset is not possible here.");
        var memoryRoot = layout.V1("memory") ?? throw new PredictorException("Secure profile: no cgroup v1 memory hierarchy is mounted; a memory limit is not possible here.");
        var cpuList = string.Join(',', cpus.Select(c => c.ToString(CultureInfo.InvariantCulture)));
        var mems = File.ReadAllText(Path.Combine(cpusetRoot, "cpuset.effective_mems")).Trim();
        var cpusetGroup = Path.Combine(cpusetRoot, group);
        var cpuset = Path.Combine(cpusetGroup, module);
        var memoryGroup = Path.Combine(memoryRoot, group);
        var memory = Path.Combine(memoryGroup, module);
        var (enclave, looked) = DetectEnclave();
        var sandbox = new SecureSandbox(cpusetGroup, cpuset, memoryGroup, memory,
            (enclave is null
                ? $"No hardware enclave is available on this host ({looked}), so the module runs without memory encryption or attestation. "
                : $"A hardware enclave device exists ({enclave}) but Predictor does not drive it; ") +
            $"Isolation applied instead: its own cpuset cgroup {cpuset} with CPUs {cpuList} marked exclusive (cpuset.cpu_exclusive=1: no sibling cpuset shares them) " +
            $"and memory nodes {mems}, and its own memory cgroup {memory} with a hard limit of {memoryLimitBytes.ToString(CultureInfo.InvariantCulture)} bytes. " +
            "Processes outside Predictor's cgroups may still run on those CPUs.");
        try
        {
            // An exclusive cpuset needs an exclusive parent: the group takes exactly the module's CPUs too.
            Directory.CreateDirectory(cpusetGroup);
            File.WriteAllText(Path.Combine(cpusetGroup, "cpuset.cpus"), cpuList);
            File.WriteAllText(Path.Combine(cpusetGroup, "cpuset.mems"), mems);
            File.WriteAllText(Path.Combine(cpusetGroup, "cpuset.cpu_exclusive"), "1");
            Directory.CreateDirectory(cpuset);
            File.WriteAllText(Path.Combine(cpuset, "cpuset.cpus"), cpuList);
            File.WriteAllText(Path.Combine(cpuset, "cpuset.mems"), mems);
            File.WriteAllText(Path.Combine(cpuset, "cpuset.cpu_exclusive"), "1");
            Directory.CreateDirectory(memory);
            File.WriteAllText(Path.Combine(memory, "memory.limit_in_bytes"), memoryLimitBytes.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            sandbox.Dispose();
            throw new PredictorException($"Secure profile for '{module}': the kernel refused the cgroup setup ({ex.Message}); check that CPUs {cpuList} are not exclusive to another cpuset.", ex);
        }

        return sandbox;
    }

    /// <summary>Moves process <paramref name="pid"/> into the sandbox's cgroups.</summary>
    public void Attach(int pid)
    {
        var text = pid.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(_cpuset, "cgroup.procs"), text);
        File.WriteAllText(Path.Combine(_memory, "cgroup.procs"), text);
    }

    /// <summary>Removes the cgroups (their processes must have exited or moved).</summary>
    public void Dispose()
    {
        foreach (var dir in new[] { _cpuset, _cpusetGroup, _memory, _memoryGroup })
        {
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
    }
}

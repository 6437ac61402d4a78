using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Predictor.Engine.Modules.Hosting;

/// <summary>
/// The seam through which a hosted module's thread is pinned to CPUs: Linux (<c>sched_setaffinity</c>) or simulated.
/// It is a small port rather than a one-verb interface because a move must also be observable: who am I (OS thread
/// id), pin, read the mask back, and where did the thread last run.
/// </summary>
public interface ICpuAffinity
{
    /// <summary>The calling thread's OS thread id (Linux: gettid; simulated: the managed thread id).</summary>
    int CurrentThreadId();

    /// <summary>Restricts thread <paramref name="osThreadId"/> to <paramref name="cpuIds"/>; when the thread is the caller, it runs on one of them on return.</summary>
    void Apply(int osThreadId, IReadOnlyList<int> cpuIds);

    /// <summary>The CPUs thread <paramref name="osThreadId"/> may run on.</summary>
    IReadOnlyList<int> Get(int osThreadId);

    /// <summary>The CPU the thread last ran on (Linux: field 39 <c>processor</c> of <c>/proc/self/task/TID/stat</c>).</summary>
    int LastProcessor(int osThreadId);
}

/// <summary>Linux affinity through libc: gettid, sched_setaffinity, sched_getaffinity and /proc/self/task/TID/stat.</summary>
public sealed partial class LinuxCpuAffinity : ICpuAffinity
{
    // cpu_set_t in glibc is 1024 bits; the kernel accepts any multiple of sizeof(long) covering its nr_cpu_ids.
    private const int MaskWords = 16;

    /// <inheritdoc/>
    public int CurrentThreadId() => GetTid();

    /// <inheritdoc/>
    public unsafe void Apply(int osThreadId, IReadOnlyList<int> cpuIds)
    {
        ArgumentNullException.ThrowIfNull(cpuIds);
        if (cpuIds.Count == 0)
        {
            throw new ArgumentException("a location needs at least one CPU id", nameof(cpuIds));
        }

        var mask = stackalloc ulong[MaskWords];
        foreach (var cpu in cpuIds)
        {
            if (cpu is < 0 or >= MaskWords * 64)
            {
                throw new ModuleOperationException($"CPU id {cpu} is outside 0..{(MaskWords * 64) - 1}; fix the location's CpuIds");
            }

            mask[cpu / 64] |= 1UL << (cpu % 64);
        }

        if (SchedSetAffinity(osThreadId, (nuint)(MaskWords * sizeof(ulong)), mask) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new ModuleOperationException(errno == 22
                ? $"sched_setaffinity(tid {osThreadId}, CPUs {string.Join(',', cpuIds)}) failed with EINVAL: none of these CPUs is online or allowed to this process (check its cpuset); fix the location's CpuIds"
                : $"sched_setaffinity(tid {osThreadId}, CPUs {string.Join(',', cpuIds)}) failed with errno {errno}");
        }
    }

    /// <inheritdoc/>
    public unsafe IReadOnlyList<int> Get(int osThreadId)
    {
        var mask = stackalloc ulong[MaskWords];
        if (SchedGetAffinity(osThreadId, (nuint)(MaskWords * sizeof(ulong)), mask) < 0)
        {
            throw new ModuleOperationException($"sched_getaffinity(tid {osThreadId}) failed with errno {Marshal.GetLastPInvokeError()}");
        }

        var cpus = new List<int>();
        for (var i = 0; i < MaskWords * 64; i++)
        {
            if ((mask[i / 64] & (1UL << (i % 64))) != 0)
            {
                cpus.Add(i);
            }
        }

        return cpus;
    }

    /// <inheritdoc/>
    public int LastProcessor(int osThreadId)
    {
        var stat = File.ReadAllText($"/proc/self/task/{osThreadId}/stat");

        // Field 2 (comm) is in parentheses and may itself contain spaces or ')': split after the last ')'.
        var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(rest[39 - 3], NumberStyles.None, CultureInfo.InvariantCulture);
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static unsafe partial int SchedSetAffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static unsafe partial int SchedGetAffinity(int pid, nuint cpusetsize, ulong* mask);
}

/// <summary>
/// Affinity in memory, for replay and for machines where pinning is not allowed: a mask per thread id, checked
/// against a simulated CPU count; a thread "runs" on the lowest CPU of its mask.
/// </summary>
public sealed class SimulatedCpuAffinity : ICpuAffinity
{
    private readonly ConcurrentDictionary<int, int[]> _masks = new();
    private readonly int _cpuCount;

    /// <summary>Simulates a machine with <paramref name="cpuCount"/> CPUs numbered from 0.</summary>
    public SimulatedCpuAffinity(int cpuCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpuCount, 1);
        _cpuCount = cpuCount;
    }

    /// <inheritdoc/>
    public int CurrentThreadId() => Environment.CurrentManagedThreadId;

    /// <inheritdoc/>
    public void Apply(int osThreadId, IReadOnlyList<int> cpuIds)
    {
        ArgumentNullException.ThrowIfNull(cpuIds);
        if (cpuIds.Count == 0 || cpuIds.Any(c => c < 0 || c >= _cpuCount))
        {
            throw new ModuleOperationException($"CPUs {string.Join(',', cpuIds)} are not all in 0..{_cpuCount - 1} of the simulated machine; fix the location's CpuIds");
        }

        _masks[osThreadId] = cpuIds.Distinct().Order().ToArray();
    }

    /// <inheritdoc/>
    public IReadOnlyList<int> Get(int osThreadId) => _masks.TryGetValue(osThreadId, out var m) ? m : Enumerable.Range(0, _cpuCount).ToArray();

    /// <inheritdoc/>
    public int LastProcessor(int osThreadId) => Get(osThreadId)[0];
}

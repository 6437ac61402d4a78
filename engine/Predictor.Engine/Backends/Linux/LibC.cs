using System.Runtime.InteropServices;

namespace Predictor.Engine.Backends.Linux;

/// <summary>The few libc calls the Linux backend needs. Raw results stay here; callers get managed values or exceptions.</summary>
internal static partial class LibC
{
    /// <summary>cpu_set_t is 1024 bits in glibc: 16 × 64-bit words.</summary>
    public const int CpuSetWords = 16;

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static unsafe partial int SchedSetAffinity(int pid, nuint cpuSetSize, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static unsafe partial int SchedGetAffinity(int pid, nuint cpuSetSize, ulong* mask);

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Access(string path, int mode);

    /// <summary>True when this process may write into <paramref name="path"/> (access(2) with W_OK, which honours read-only mounts).</summary>
    public static bool CanWrite(string path) => Access(path, 2) == 0;

    /// <summary>True when the process runs as root (effective uid 0).</summary>
    public static bool IsRoot => GetEffectiveUserId() == 0;

    /// <summary>Pins thread <paramref name="tid"/> to <paramref name="cpus"/>; returns 0 or the errno.</summary>
    public static unsafe int SetAffinity(int tid, IReadOnlyList<int> cpus)
    {
        var mask = stackalloc ulong[CpuSetWords];
        new Span<ulong>(mask, CpuSetWords).Clear();
        foreach (var cpu in cpus)
        {
            if ((uint)cpu >= CpuSetWords * 64)
            {
                throw new PredictorException($"CPU {cpu} is outside the 0..{(CpuSetWords * 64) - 1} range sched_setaffinity accepts here; check the location's CpuIds.");
            }

            mask[cpu / 64] |= 1UL << (cpu % 64);
        }

        return SchedSetAffinity(tid, (nuint)(CpuSetWords * sizeof(ulong)), mask) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>The CPUs thread <paramref name="tid"/> may run on (0 = the caller).</summary>
    public static unsafe IReadOnlyList<int> GetAffinity(int tid)
    {
        var mask = stackalloc ulong[CpuSetWords];
        if (SchedGetAffinity(tid, (nuint)(CpuSetWords * sizeof(ulong)), mask) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new PredictorException($"sched_getaffinity({tid}) failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).");
        }

        var cpus = new List<int>();
        for (var i = 0; i < CpuSetWords * 64; i++)
        {
            if ((mask[i / 64] & (1UL << (i % 64))) != 0)
            {
                cpus.Add(i);
            }
        }

        return cpus;
    }
}

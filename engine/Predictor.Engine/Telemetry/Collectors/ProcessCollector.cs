using System.Runtime.InteropServices;

namespace Predictor.Engine.Telemetry.Collectors;

/// <summary>
/// Registered module processes: <c>/proc/&lt;pid&gt;/stat</c> utime+stime (clock ticks) become
/// <c>module/&lt;name&gt;/cpu</c> in cores (CPU-seconds per second, from the injected clock), and
/// <c>/proc/&lt;pid&gt;/status</c> gives <c>module/&lt;name&gt;/mem</c> (VmRSS, bytes) and <c>module/&lt;name&gt;/threads</c>.
/// A process that exits is reported once and skipped.
/// </summary>
internal sealed partial class ProcessCollector : ITelemetryCollector, IDisposable
{
    private readonly Watched[] _watched;
    private readonly TimeProvider _time;
    private readonly double _ticksPerSecond;
    private readonly ulong[] _fields = new ulong[1];

    public ProcessCollector(HostTelemetryOptions options, ISeriesRegistry registry, ProblemReporter problems, TimeProvider time)
    {
        _time = time;
        _ticksPerSecond = ClockTicksPerSecond();
        _watched = [.. options.Modules.Select(m =>
        {
            var name = SeriesNames.Segment(m.Name);
            var dir = Path.Combine(options.ProcRoot, m.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new Watched(
                new KernelFile(Path.Combine(dir, "stat"), problems, 1024),
                new KernelFile(Path.Combine(dir, "status"), problems, 4096),
                registry.Register(new SeriesInfo($"module/{name}/cpu", "cores", options.Step)),
                registry.Register(new SeriesInfo($"module/{name}/mem", "bytes", options.Step)),
                registry.Register(new SeriesInfo($"module/{name}/threads", "count", options.Step)));
        })];
    }

    public void Collect(SampleBuffer output)
    {
        foreach (var w in _watched)
        {
            if (w.Stat.TryRead() && TryCpuTicks(w.Stat.Data, out var ticks))
            {
                var now = _time.GetTimestamp();
                if (w.HasBaseline && ticks >= w.LastTicks)
                {
                    var seconds = _time.GetElapsedTime(w.LastStamp, now).TotalSeconds;
                    if (seconds > 0)
                    {
                        output.Add(w.CpuId, (ticks - w.LastTicks) / _ticksPerSecond / seconds);
                    }
                }

                w.LastTicks = ticks;
                w.LastStamp = now;
                w.HasBaseline = true;
            }

            if (w.Status.TryRead())
            {
                var d = w.Status.Data;
                if (KernelText.TryFindLine(d, "VmRSS:"u8, out var rss) && KernelText.ParseUnsigned(rss, _fields.AsSpan(0, 1)) == 1)
                {
                    output.Add(w.MemId, _fields[0] * 1024.0);
                }

                if (KernelText.TryFindLine(d, "Threads:"u8, out var threads) && KernelText.ParseUnsigned(threads, _fields.AsSpan(0, 1)) == 1)
                {
                    output.Add(w.ThreadsId, _fields[0]);
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var w in _watched)
        {
            w.Stat.Dispose();
            w.Status.Dispose();
        }
    }

    /// <summary>utime + stime: fields 14 and 15 of /proc/pid/stat, counted after the last ')' since comm may hold spaces.</summary>
    internal bool TryCpuTicks(ReadOnlySpan<byte> stat, out ulong ticks)
    {
        ticks = 0;
        var close = stat.LastIndexOf((byte)')');
        if (close < 0)
        {
            return false;
        }

        // After ") " come fields 3 (state), 4 (ppid) ...; utime and stime are fields 14 and 15, i.e. tokens 11 and 12.
        // Some fields (tpgid) may be −1, so tokens are taken by position, not parsed as one run of numbers.
        var rest = stat[(close + 1)..];
        if (!System.Buffers.Text.Utf8Parser.TryParse(KernelText.Token(rest, 11), out ulong utime, out _)
            || !System.Buffers.Text.Utf8Parser.TryParse(KernelText.Token(rest, 12), out ulong stime, out _))
        {
            return false;
        }

        ticks = utime + stime;
        return true;
    }

    private static double ClockTicksPerSecond()
    {
        try
        {
            var hz = SysConf(ScClockTicks);
            return hz > 0 ? hz : 100;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100; // USER_HZ is 100 on every mainstream Linux architecture.
        }
    }

    private const int ScClockTicks = 2; // _SC_CLK_TCK on Linux

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    private sealed class Watched(KernelFile stat, KernelFile status, int cpuId, int memId, int threadsId)
    {
        public KernelFile Stat { get; } = stat;

        public KernelFile Status { get; } = status;

        public int CpuId { get; } = cpuId;

        public int MemId { get; } = memId;

        public int ThreadsId { get; } = threadsId;

        public ulong LastTicks { get; set; }

        public long LastStamp { get; set; }

        public bool HasBaseline { get; set; }
    }
}

using System.Globalization;
using Predictor.Engine.Control;

namespace Predictor.Hosting;

/// <summary>
/// The host's own demand, read from /proc, for running the loop on this machine: memory user = AnonPages (process
/// memory), memory system = Slab + KernelStack + PageTables (kernel memory), both bytes; CPU user = user + nice time,
/// CPU system = system + irq + softirq time, both in cores (Δtime / Δwall over the last tick). The first tick has no
/// CPU delta yet and reports NaN (the loop holds, fail closed). Interim: the telemetry collectors replace it once
/// they are wired in; it allocates (it reads the files as text), so the benchmark does not use it.
/// </summary>
internal sealed class HostUsageSource : ISampleSource
{
    public static readonly string[] SeriesNames = ["host/mem/user", "host/mem/system", "host/cpu/user", "host/cpu/system"];
    private long _lastMs = -1;
    private double _lastUser;
    private double _lastSystem;

    public void Read(long timestampMs, Span<double> values)
    {
        double anon = 0, slab = 0, stack = 0, tables = 0;
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            anon = Kib(line, "AnonPages:", anon);
            slab = Kib(line, "Slab:", slab);
            stack = Kib(line, "KernelStack:", stack);
            tables = Kib(line, "PageTables:", tables);
        }

        values[0] = anon;
        values[1] = slab + stack + tables;

        // /proc/stat "cpu" line: user nice system idle iowait irq softirq ..., in USER_HZ (100 per second).
        var cpu = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var user = (Field(cpu, 1) + Field(cpu, 2)) / 100.0;
        var system = (Field(cpu, 3) + Field(cpu, 6) + Field(cpu, 7)) / 100.0;
        if (_lastMs >= 0 && timestampMs > _lastMs)
        {
            var seconds = (timestampMs - _lastMs) / 1000.0;
            values[2] = Math.Max(0, (user - _lastUser) / seconds);
            values[3] = Math.Max(0, (system - _lastSystem) / seconds);
        }
        else
        {
            values[2] = double.NaN;
            values[3] = double.NaN;
        }

        _lastMs = timestampMs;
        _lastUser = user;
        _lastSystem = system;
    }

    /// <summary>MemTotal in bytes (the default memory budget).</summary>
    public static long MemTotalBytes()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            var v = Kib(line, "MemTotal:", double.NaN);
            if (!double.IsNaN(v))
            {
                return (long)v;
            }
        }

        throw new Engine.PredictorException("/proc/meminfo has no MemTotal line; set Predictor:MemoryBudgetBytes.");
    }

    private static double Kib(string line, string key, double current) =>
        line.StartsWith(key, StringComparison.Ordinal)
            ? double.Parse(line.AsSpan(key.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024
            : current;

    private static double Field(string[] fields, int index) =>
        index < fields.Length ? double.Parse(fields[index], CultureInfo.InvariantCulture) : 0;
}

/// <summary>For the simulated backend in a live run: the live samples become the simulated machine's demand.</summary>
internal sealed class DemandFeedingSource : ISampleSource
{
    private readonly ISampleSource _inner;
    private readonly Engine.Backends.SimulatedBackend _backend;
    private readonly double _cpuScale;

    public DemandFeedingSource(ISampleSource inner, Engine.Backends.SimulatedBackend backend, double cpuScale)
    {
        _inner = inner;
        _backend = backend;
        _cpuScale = cpuScale;
    }

    public void Read(long timestampMs, Span<double> values)
    {
        _inner.Read(timestampMs, values);
        _backend.SetPartitionDemand(Engine.Partitioning.ResourceKind.Memory, values[0], values[1]);
        _backend.SetPartitionDemand(Engine.Partitioning.ResourceKind.Cpu, values[2] * _cpuScale, values[3] * _cpuScale);
    }
}

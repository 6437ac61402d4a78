namespace Predictor.Engine.Telemetry.Collectors;

/// <summary>
/// /proc/meminfo (kB) as bytes: <c>host/mem/{total,free,available,used,buffers,cached,swap_used}</c>, where
/// used = MemTotal − MemAvailable (what applications really hold; the kernel's estimate of reclaimable memory is not used);
/// and the split the hosted loop sizes partitions by: <c>host/mem/anon</c> = AnonPages (process memory not backed by
/// files) and <c>host/mem/kernel</c> = Slab + KernelStack + PageTables (the kernel's own memory; added when Slab is there).
/// </summary>
internal sealed class MeminfoCollector : ITelemetryCollector, IDisposable
{
    private readonly KernelFile _file;
    private readonly int _total, _free, _available, _used, _buffers, _cached, _swapUsed, _anon, _kernel;

    public MeminfoCollector(HostTelemetryOptions options, ISeriesRegistry registry, ProblemReporter problems)
    {
        _file = new KernelFile(Path.Combine(options.ProcRoot, "meminfo"), problems, 8 * 1024);
        int R(string name) => registry.Register(new SeriesInfo($"host/mem/{name}", "bytes", options.Step));
        _total = R("total");
        _free = R("free");
        _available = R("available");
        _used = R("used");
        _buffers = R("buffers");
        _cached = R("cached");
        _swapUsed = R("swap_used");
        _anon = R("anon");
        _kernel = R("kernel");
    }

    public void Collect(SampleBuffer output)
    {
        if (!_file.TryRead())
        {
            return;
        }

        var d = _file.Data;
        var hasTotal = Kb(d, "MemTotal:"u8, out var total);
        var hasAvailable = Kb(d, "MemAvailable:"u8, out var available);
        AddIf(output, _total, hasTotal, total);
        AddIf(output, _free, Kb(d, "MemFree:"u8, out var free), free);
        AddIf(output, _available, hasAvailable, available);
        AddIf(output, _used, hasTotal && hasAvailable, total - available);
        AddIf(output, _buffers, Kb(d, "Buffers:"u8, out var buffers), buffers);
        AddIf(output, _cached, Kb(d, "Cached:"u8, out var cached), cached);
        if (Kb(d, "SwapTotal:"u8, out var swapTotal) && Kb(d, "SwapFree:"u8, out var swapFree))
        {
            output.Add(_swapUsed, swapTotal - swapFree);
        }

        AddIf(output, _anon, Kb(d, "AnonPages:"u8, out var anon), anon);
        if (Kb(d, "Slab:"u8, out var slab))
        {
            // KernelStack and PageTables exist on every kernel since 2.6; a missing one counts as 0 rather than hiding Slab.
            _ = Kb(d, "KernelStack:"u8, out var stack);
            _ = Kb(d, "PageTables:"u8, out var tables);
            output.Add(_kernel, slab + stack + tables);
        }
    }

    public void Dispose() => _file.Dispose();

    private static void AddIf(SampleBuffer output, int id, bool ok, double value)
    {
        if (ok)
        {
            output.Add(id, value);
        }
    }

    private static bool Kb(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key, out double bytes)
    {
        bytes = 0;
        if (!KernelText.TryFindLine(data, key, out var rest))
        {
            return false;
        }

        Span<ulong> one = stackalloc ulong[1];
        if (KernelText.ParseUnsigned(rest, one) != 1)
        {
            return false;
        }

        bytes = one[0] * 1024.0;
        return true;
    }
}

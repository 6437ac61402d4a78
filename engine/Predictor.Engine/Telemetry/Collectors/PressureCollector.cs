namespace Predictor.Engine.Telemetry.Collectors;

/// <summary>
/// Pressure stall information, /proc/pressure/{cpu,memory,io}: the kernel's running averages
/// <c>host/psi/&lt;r&gt;/some_avg10|some_avg60|some_avg300|full_avg10</c> (percent of time some/all tasks stalled),
/// and <c>host/psi/&lt;r&gt;/some_stall|full_stall</c>: percent of wall time stalled since the previous read, from the
/// <c>total=</c> microsecond counters and the injected clock. Kernels without PSI (or with it disabled) report once.
/// </summary>
internal sealed class PressureCollector : ITelemetryCollector, IDisposable
{
    private static readonly string[] Resources = ["cpu", "memory", "io"];

    private readonly KernelFile[] _files;
    private readonly int[,] _ids; // [resource, 0..5]
    private readonly ulong[,] _lastTotal; // [resource, some/full]
    private readonly bool[,] _hasTotal;
    private readonly long[] _lastStamp;
    private readonly TimeProvider _time;

    public PressureCollector(HostTelemetryOptions options, ISeriesRegistry registry, ProblemReporter problems, TimeProvider time)
    {
        _time = time;
        _files = new KernelFile[Resources.Length];
        _ids = new int[Resources.Length, 6];
        _lastTotal = new ulong[Resources.Length, 2];
        _hasTotal = new bool[Resources.Length, 2];
        _lastStamp = new long[Resources.Length];
        string[] names = ["some_avg10", "some_avg60", "some_avg300", "full_avg10", "some_stall", "full_stall"];
        for (var r = 0; r < Resources.Length; r++)
        {
            _files[r] = new KernelFile(Path.Combine(options.ProcRoot, "pressure", Resources[r]), problems, 1024);
            for (var k = 0; k < names.Length; k++)
            {
                _ids[r, k] = registry.Register(new SeriesInfo($"host/psi/{Resources[r]}/{names[k]}", "percent", options.Step));
            }
        }
    }

    public void Collect(SampleBuffer output)
    {
        for (var r = 0; r < _files.Length; r++)
        {
            if (!_files[r].TryRead())
            {
                continue;
            }

            var now = _time.GetTimestamp();
            var elapsedUs = _lastStamp[r] == 0 ? 0 : _time.GetElapsedTime(_lastStamp[r], now).TotalMicroseconds;
            _lastStamp[r] = now;
            var data = _files[r].Data;
            if (KernelText.TryFindLine(data, "some "u8, out var some))
            {
                AddAfter(output, some, "avg10="u8, _ids[r, 0]);
                AddAfter(output, some, "avg60="u8, _ids[r, 1]);
                AddAfter(output, some, "avg300="u8, _ids[r, 2]);
                AddStall(output, some, r, 0, elapsedUs, _ids[r, 4]);
            }

            if (KernelText.TryFindLine(data, "full "u8, out var full))
            {
                AddAfter(output, full, "avg10="u8, _ids[r, 3]);
                AddStall(output, full, r, 1, elapsedUs, _ids[r, 5]);
            }
        }
    }

    public void Dispose()
    {
        foreach (var f in _files)
        {
            f.Dispose();
        }
    }

    private static void AddAfter(SampleBuffer output, ReadOnlySpan<byte> line, ReadOnlySpan<byte> key, int id)
    {
        if (KernelText.TryParseAfter(line, key, out double v))
        {
            output.Add(id, v);
        }
    }

    private void AddStall(SampleBuffer output, ReadOnlySpan<byte> line, int r, int kind, double elapsedUs, int id)
    {
        if (!KernelText.TryParseAfter(line, "total="u8, out ulong total))
        {
            return;
        }

        if (_hasTotal[r, kind] && elapsedUs > 0 && total >= _lastTotal[r, kind])
        {
            output.Add(id, Math.Min(100.0, 100.0 * (total - _lastTotal[r, kind]) / elapsedUs));
        }

        _lastTotal[r, kind] = total;
        _hasTotal[r, kind] = true;
    }
}

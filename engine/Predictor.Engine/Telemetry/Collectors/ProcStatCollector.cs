using System.Globalization;

namespace Predictor.Engine.Telemetry.Collectors;

/// <summary>
/// /proc/stat: the aggregate <c>cpu</c> line (jiffies spent in user, nice, system, idle, iowait, irq, softirq, steal)
/// becomes percent of all CPU time between two reads: <c>host/cpu/&lt;mode&gt;</c> and <c>host/cpu/busy</c>
/// (100 − idle − iowait); per-core lines give <c>host/core/&lt;n&gt;/busy</c>. The first read only sets the baseline.
/// Guest time is already included in user/nice by the kernel, so it is not added again.
/// </summary>
internal sealed class ProcStatCollector : ITelemetryCollector, IDisposable
{
    private const int Modes = 8;
    private static readonly string[] ModeNames = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];

    private readonly KernelFile _file;
    private readonly int[] _modeIds = new int[Modes];
    private readonly int _busyId;
    private readonly int[] _coreIds;
    private readonly byte[][] _corePrefixes;
    private readonly ulong[] _previous;
    private readonly ulong[] _current;
    private readonly ulong[] _fields = new ulong[10];
    private bool _hasBaseline;

    public ProcStatCollector(HostTelemetryOptions options, ISeriesRegistry registry, ProblemReporter problems)
    {
        _file = new KernelFile(Path.Combine(options.ProcRoot, "stat"), problems, 16 * 1024);
        var step = options.Step;
        for (var m = 0; m < Modes; m++)
        {
            _modeIds[m] = registry.Register(new SeriesInfo($"host/cpu/{ModeNames[m]}", "percent", step));
        }

        _busyId = registry.Register(new SeriesInfo("host/cpu/busy", "percent", step));
        var cores = 0;
        if (options.PerCore && _file.TryRead())
        {
            while (KernelText.TryFindLine(_file.Data, System.Text.Encoding.ASCII.GetBytes($"cpu{cores} "), out _))
            {
                cores++;
            }
        }

        _coreIds = new int[cores];
        _corePrefixes = new byte[cores][];
        for (var c = 0; c < cores; c++)
        {
            _coreIds[c] = registry.Register(new SeriesInfo($"host/core/{c.ToString(CultureInfo.InvariantCulture)}/busy", "percent", step));
            _corePrefixes[c] = System.Text.Encoding.ASCII.GetBytes($"cpu{c.ToString(CultureInfo.InvariantCulture)} ");
        }

        // Row 0: the aggregate line; row 1 + c: core c. Each row holds the 8 mode counters.
        _previous = new ulong[(cores + 1) * Modes];
        _current = new ulong[(cores + 1) * Modes];
    }

    public void Collect(SampleBuffer output)
    {
        if (!_file.TryRead())
        {
            return;
        }

        var data = _file.Data;
        if (!ReadRow(data, "cpu "u8, 0))
        {
            return;
        }

        for (var c = 0; c < _coreIds.Length; c++)
        {
            ReadRow(data, _corePrefixes[c], c + 1);
        }

        if (_hasBaseline)
        {
            var total = RowDelta(0, out var idle);
            if (total > 0)
            {
                for (var m = 0; m < Modes; m++)
                {
                    output.Add(_modeIds[m], 100.0 * Delta(m) / total);
                }

                output.Add(_busyId, 100.0 * (total - idle) / total);
            }

            for (var c = 0; c < _coreIds.Length; c++)
            {
                var coreTotal = RowDelta(c + 1, out var coreIdle);
                if (coreTotal > 0)
                {
                    output.Add(_coreIds[c], 100.0 * (coreTotal - coreIdle) / coreTotal);
                }
            }
        }

        Array.Copy(_current, _previous, _current.Length);
        _hasBaseline = true;
    }

    public void Dispose() => _file.Dispose();

    private bool ReadRow(ReadOnlySpan<byte> data, ReadOnlySpan<byte> prefix, int row)
    {
        if (!KernelText.TryFindLine(data, prefix, out var rest))
        {
            return false;
        }

        var n = KernelText.ParseUnsigned(rest, _fields);
        for (var m = 0; m < Modes; m++)
        {
            _current[(row * Modes) + m] = m < n ? _fields[m] : 0;
        }

        return true;
    }

    // Counters only grow; a decrease (CPU hot-unplug, counter reset) counts as zero rather than a huge wrap.
    private double Delta(int index) => _current[index] >= _previous[index] ? _current[index] - _previous[index] : 0;

    private double RowDelta(int row, out double idle)
    {
        double total = 0;
        for (var m = 0; m < Modes; m++)
        {
            total += Delta((row * Modes) + m);
        }

        idle = Delta((row * Modes) + 3) + Delta((row * Modes) + 4);
        return total;
    }
}

namespace Predictor.Engine.Control;

/// <summary>
/// Ring buffers of the last W observations of N series at one model step, for building a model's N×W window
/// without allocation. Ticks faster than the step are averaged into one observation per step (the step's mean, as a
/// recording at that step would hold). A missing value (NaN) repeats the previous observation so the model input
/// stays finite; <see cref="StaleSteps"/> says for how many steps a series has had no fresh value.
/// </summary>
internal sealed class SeriesWindows
{
    private readonly float[] _ring;
    private readonly double[] _sum;
    private readonly int[] _count;
    private readonly int[] _stale;
    private readonly long _stepMs;
    private readonly int _series;
    private readonly int _capacity;
    private long _bucket = long.MinValue;
    private int _head;

    public SeriesWindows(int series, int capacity, TimeSpan step)
    {
        _series = series;
        _capacity = Math.Max(1, capacity);
        _stepMs = Math.Max(1, (long)step.TotalMilliseconds);
        _ring = new float[series * _capacity];
        _sum = new double[series];
        _count = new int[series];
        _stale = new int[series];
        _ring.AsSpan().Fill(float.NaN);
    }

    /// <summary>Observations pushed so far, up to the capacity.</summary>
    public int Filled { get; private set; }

    /// <summary>Steps since series <paramref name="index"/> last had a value (0 = fresh).</summary>
    public int StaleSteps(int index) => _stale[index];

    /// <summary>Adds one tick's values; closes a step when <paramref name="timestampMs"/> enters a new one. Returns true when a step closed.</summary>
    public bool Add(long timestampMs, ReadOnlySpan<double> values)
    {
        var bucket = Telemetry.StepGrid.Index(timestampMs, _stepMs);
        var closed = false;
        if (_bucket != long.MinValue && bucket != _bucket)
        {
            Close();
            closed = true;
        }

        _bucket = bucket;
        for (var i = 0; i < _series; i++)
        {
            var v = values[i];
            if (!double.IsNaN(v))
            {
                _sum[i] += v;
                _count[i]++;
            }
        }

        return closed;
    }

    /// <summary>The step that closed last, one value per series; NaN for a series that had no fresh value in it.</summary>
    public void CopyLastClosed(Span<double> destination)
    {
        var last = (_head - 1 + _capacity) % _capacity;
        for (var s = 0; s < _series; s++)
        {
            destination[s] = Filled == 0 || _stale[s] > 0 ? double.NaN : _ring[(s * _capacity) + last];
        }
    }

    /// <summary>Writes the last <paramref name="window"/> observations of each series, oldest first, row-major N×W.</summary>
    public void CopyWindow(int window, Span<float> destination)
    {
        // The last `window` slots start at (head − window) mod capacity and may wrap: copy as (at most) two runs.
        var start = ((_head - window) % _capacity + _capacity) % _capacity;
        var firstRun = Math.Min(window, _capacity - start);
        for (var s = 0; s < _series; s++)
        {
            var ring = _ring.AsSpan(s * _capacity, _capacity);
            var row = destination.Slice(s * window, window);
            ring.Slice(start, firstRun).CopyTo(row);
            ring[..(window - firstRun)].CopyTo(row[firstRun..]);
        }
    }

    private void Close()
    {
        var previous = (_head - 1 + _capacity) % _capacity;
        for (var s = 0; s < _series; s++)
        {
            float value;
            if (_count[s] > 0)
            {
                value = (float)(_sum[s] / _count[s]);
                _stale[s] = 0;
            }
            else
            {
                value = Filled > 0 ? _ring[(s * _capacity) + previous] : float.NaN;
                _stale[s]++;
            }

            _ring[(s * _capacity) + _head] = value;
            _sum[s] = 0;
            _count[s] = 0;
        }

        _head = (_head + 1) % _capacity;
        Filled = Math.Min(Filled + 1, _capacity);
    }
}

using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;

namespace Predictor.Engine.Replay;

/// <summary>
/// Runs a replay's inference ahead of the loop, many ticks in one call. In a replay the model's input is a function of
/// the recorded demand alone (decisions never feed back into it), so the windows the loop will build at the next ticks
/// are known in advance: this forecaster rebuilds them from the recording with the loop's own <see cref="SeriesWindows"/>,
/// forecasts up to <c>ticksPerCall</c> ticks × N series in one batched call (which ONNX Runtime can spread over cores),
/// and hands each tick's rows to the loop when it asks.
/// <para>
/// Nothing is taken on trust: each call compares the window and calendar the loop passes with the ones forecast
/// ahead, bit for bit, and runs the model on the loop's own input when they differ (counted in <see cref="Misses"/>).
/// So the forecast a decision at tick t sees is always the model applied to the loop's window at t: the same result as
/// without lookahead, as long as the model's rows do not depend on the other rows of the batch (true of every model of
/// the contract: each row is forecast from its own window).
/// </para>
/// </summary>
internal sealed class LookaheadForecaster : IForecaster
{
    private readonly IForecaster _inner;
    private readonly IReadOnlyList<double[]> _recorded;
    private readonly long _startMs;
    private readonly long _tickMs;
    private readonly int _ticks;
    private readonly int _series;
    private readonly int _ticksPerCall;
    private readonly ForecastShape _shape;
    private readonly SeriesWindows _windows;
    private readonly double[] _values;
    private readonly float[] _window;
    private readonly float[] _calendar;
    private readonly float[] _forecast;
    private readonly float[] _upper;

    // Row blocks (N rows each) of the current batch, and for each call the loop will make, the block it reads.
    private readonly int[] _blockOfCall;
    private int _calls;
    private int _served;
    private int _blocks;
    private int _nextTick;
    private long _originMs;
    private bool _closedSinceLastBlock = true;
    private bool _nextTickAdded;

    /// <param name="inner">The model; its rows must not depend on each other.</param>
    /// <param name="recorded">The recorded values of the model's series, in the loop's row order, one array per series.</param>
    /// <param name="startMs">Time of tick 0.</param>
    /// <param name="tickMs">Time between ticks.</param>
    /// <param name="ticksPerCall">Ticks forecast per call to <paramref name="inner"/> (≥ 2).</param>
    public LookaheadForecaster(IForecaster inner, IReadOnlyList<double[]> recorded, long startMs, long tickMs, int ticksPerCall)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentOutOfRangeException.ThrowIfLessThan(ticksPerCall, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(recorded.Count, 1);
        _inner = inner;
        _recorded = recorded;
        _startMs = startMs;
        _tickMs = tickMs;
        _ticks = recorded.Min(r => r.Length);
        _series = recorded.Count;
        _ticksPerCall = ticksPerCall;
        _shape = inner.Shape;
        _windows = new SeriesWindows(_series, _shape.Window, _shape.Step);
        _values = new double[_series];
        _window = new float[ticksPerCall * _series * _shape.Window];
        _calendar = new float[ticksPerCall * _series * _shape.CalendarWidth];
        _forecast = new float[ticksPerCall * _series * _shape.Horizon];
        _upper = new float[ticksPerCall * _series * _shape.Horizon];
        _blockOfCall = new int[_ticks];
    }

    /// <inheritdoc/>
    public ForecastShape Shape => _shape;

    /// <summary>Calls whose input differed from the one forecast ahead (then the model ran on the loop's input).</summary>
    public int Misses { get; private set; }

    /// <summary>Calls answered from a batch forecast ahead.</summary>
    public int Hits { get; private set; }

    /// <summary>Batched calls made to the model.</summary>
    public int BatchCalls { get; private set; }

    /// <summary>
    /// How many ticks one call to <paramref name="inner"/> may cover for <paramref name="series"/> series, or 0 when a
    /// lookahead would not pay (the model takes fewer than two ticks' rows per call).
    /// </summary>
    public static int TicksPerCall(IForecaster inner, int series, int maxRowsPerCall)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var rows = Math.Min(inner.MaxSeriesPerCall, maxRowsPerCall);
        var ticks = rows / Math.Max(1, series);
        return ticks >= 2 ? ticks : 0;
    }

    /// <inheritdoc/>
    public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper)
    {
        if (seriesCount == _series && _served == _calls)
        {
            Refill();
        }

        var h = _shape.Horizon;
        if (seriesCount == _series && _served < _calls)
        {
            var block = _blockOfCall[_served++];
            var w = _series * _shape.Window;
            var c = _series * _shape.CalendarWidth;
            // Bitwise: the forecast ahead stands only for exactly the input the loop has (NaN included).
            if (Bits(window).SequenceEqual(Bits(_window.AsSpan(block * w, w))) &&
                Bits(calendar).SequenceEqual(Bits(_calendar.AsSpan(block * c, c))))
            {
                _forecast.AsSpan(block * _series * h, _series * h).CopyTo(forecast);
                _upper.AsSpan(block * _series * h, _series * h).CopyTo(upper);
                Hits++;
                return;
            }
        }

        Misses++;
        _inner.Forecast(window, calendar, seriesCount, forecast, upper);
    }

    /// <summary>Nothing to release: the model belongs to whoever opened it.</summary>
    public void Dispose()
    {
    }

    private static ReadOnlySpan<byte> Bits(ReadOnlySpan<float> values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values);

    /// <summary>
    /// Advances the copy of the loop's windows over the next ticks, as the loop does (add the tick's values, forecast
    /// once W steps are in), until <c>ticksPerCall</c> distinct inputs are collected, and forecasts them in one call.
    /// A tick that closed no step has the same input as the tick before it and reuses its rows.
    /// </summary>
    private void Refill()
    {
        _calls = 0;
        _served = 0;
        _blocks = 0;
        var calls = 0;
        var w = _series * _shape.Window;
        var c = _series * _shape.CalendarWidth;
        while (_nextTick < _ticks)
        {
            if (!_nextTickAdded)
            {
                var now = _startMs + (_nextTick * _tickMs);
                for (var s = 0; s < _series; s++)
                {
                    _values[s] = _recorded[s][_nextTick];
                }

                if (_windows.Add(now, _values))
                {
                    _originMs = now;
                    _closedSinceLastBlock = true;
                }
            }

            _nextTickAdded = false;

            if (_windows.Filled >= _shape.Window)
            {
                if (_closedSinceLastBlock || _blocks == 0)
                {
                    if (_blocks == _ticksPerCall)
                    {
                        _nextTickAdded = true; // this tick starts the next batch, already added to the windows
                        break;
                    }

                    _windows.CopyWindow(_shape.Window, _window.AsSpan(_blocks * w, w));
                    if (c > 0)
                    {
                        CalendarFeatures.Fill(_originMs, _calendar.AsSpan(_blocks * c, c), _shape.CalendarWidth);
                    }

                    _blocks++;
                    _closedSinceLastBlock = false;
                }

                _blockOfCall[calls++] = _blocks - 1;
            }

            _nextTick++;
        }

        if (_blocks == 0)
        {
            return;
        }

        var rows = _blocks * _series;
        try
        {
            _inner.Forecast(
                _window.AsSpan(0, rows * _shape.Window),
                _calendar.AsSpan(0, rows * _shape.CalendarWidth),
                rows,
                _forecast.AsSpan(0, rows * _shape.Horizon),
                _upper.AsSpan(0, rows * _shape.Horizon));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Only a batch that ran is served. These ticks get no rows: their calls, and (since calls are matched in
            // order) every later one, run the model on the loop's own input as misses, which fail or succeed exactly
            // as they would without lookahead. Slower, never different.
            return;
        }

        BatchCalls++;
        _calls = calls;
    }
}

using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;

namespace Predictor.Engine.Tests.Control;

/// <summary>A clock that moves only when told (Microsoft.Extensions.TimeProvider.Testing is not served here).</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _ticks;

    public ManualTime(DateTimeOffset start) => Now = start;

    public DateTimeOffset Now { get; private set; }

    public override DateTimeOffset GetUtcNow() => Now;

    public override long GetTimestamp() => _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        Now += by;
        _ticks += by.Ticks;
    }
}

/// <summary>Returns the values a test sets, per series.</summary>
internal sealed class ArraySource : ISampleSource
{
    public ArraySource(int count) => Values = new double[count];

    public double[] Values { get; }

    public Exception? Throw { get; set; }

    public void Read(long timestampMs, Span<double> values)
    {
        if (Throw is not null)
        {
            throw Throw;
        }

        Values.CopyTo(values);
    }
}

/// <summary>Forecast = last value; upper = last value × Factor (or what Upper says); counts calls and series per call.</summary>
internal sealed class ScriptedForecaster : IForecaster
{
    public ScriptedForecaster(int window = 4, int horizon = 3, TimeSpan? step = null, int calendarWidth = 0) =>
        Shape = new ForecastShape(window, horizon, calendarWidth, step ?? TimeSpan.FromMilliseconds(100), 0.9);

    public ForecastShape Shape { get; }

    public double Factor { get; set; } = 1.5;

    public Func<int, int, float>? Upper { get; set; }

    public int Calls { get; private set; }

    public int LastSeriesCount { get; private set; }

    public float[]? LastWindow { get; private set; }

    public bool Throw { get; set; }

    public bool RecordWindow { get; set; }

    public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper)
    {
        if (Throw)
        {
            throw new InvalidOperationException("model exploded");
        }

        Calls++;
        LastSeriesCount = seriesCount;
        if (RecordWindow)
        {
            LastWindow = window.ToArray();
        }
        var w = Shape.Window;
        var h = Shape.Horizon;
        for (var s = 0; s < seriesCount; s++)
        {
            var last = window[(s * w) + w - 1];
            for (var j = 0; j < h; j++)
            {
                forecast[(s * h) + j] = last;
                upper[(s * h) + j] = Upper?.Invoke(s, j) ?? (float)(last * Factor);
            }
        }
    }

    public void Dispose()
    {
    }
}

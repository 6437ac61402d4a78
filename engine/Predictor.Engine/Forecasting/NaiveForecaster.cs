namespace Predictor.Engine.Forecasting;

/// <summary>Shape of the naive forecaster (the engine's fallback). Validated when set.</summary>
public sealed class NaiveForecasterOptions
{
    private int _window = 48;
    private int _horizon = 12;
    private TimeSpan _step = TimeSpan.FromSeconds(10);
    private double _nominalQuantile = 0.9;

    /// <summary>W: observations read per series (the upper bound uses their range).</summary>
    /// <value>The default value is 48.</value>
    public int Window
    {
        get => _window;
        set => _window = value is >= 1 and <= 1_000_000 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Window must be between 1 and 1000000 observations.");
    }

    /// <summary>H: steps forecast.</summary>
    /// <value>The default value is 12.</value>
    public int Horizon
    {
        get => _horizon;
        set => _horizon = value is >= 1 and <= 100_000 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Horizon must be between 1 and 100000 steps.");
    }

    /// <summary>Time between two observations.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan Step
    {
        get => _step;
        set => _step = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Step must be positive.");
    }

    /// <summary>
    /// The quantile reported in <see cref="ForecastShape.Quantile"/>. Nominal: the naive bound (last value + the
    /// window's range) is not calibrated on residuals, so this is a label for consumers, not a measured coverage.
    /// </summary>
    /// <value>The default value is 0.9.</value>
    public double NominalQuantile
    {
        get => _nominalQuantile;
        set => _nominalQuantile = value is > 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "NominalQuantile must be strictly between 0 and 1.");
    }
}

/// <summary>
/// The fallback forecaster: every step repeats the last observation. Its upper bound is last + (max − min of the
/// window): the largest move the series made within the window. Why the range: a fallback has no backtest residuals
/// to calibrate a quantile, the range is in the series' own units and scales with its volatility, and it errs high,
/// which for partition sizing means over-provisioning (safe) rather than starving a partition. A flat window gives a
/// zero margin. NaN observations are skipped for the range; a NaN last value gives NaN forecasts, which the policies'
/// safety steps reject (fail closed). Pure managed code, no ONNX Runtime: it works when the native library does not.
/// </summary>
internal sealed class NaiveForecaster : IForecaster
{
    public NaiveForecaster(NaiveForecasterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Shape = new ForecastShape(options.Window, options.Horizon, 0, options.Step, options.NominalQuantile);
    }

    public ForecastShape Shape { get; }

    public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper)
    {
        int w = Shape.Window;
        int h = Shape.Horizon;
        if (seriesCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(seriesCount), seriesCount, "At least one series is needed.");
        }

        if (window.Length != seriesCount * w)
        {
            throw new ArgumentException($"window holds {window.Length} floats; {seriesCount} series × W={w} need {seriesCount * w}.", nameof(window));
        }

        if (forecast.Length < seriesCount * h || upper.Length < seriesCount * h)
        {
            throw new ArgumentException($"forecast and upper must hold at least {seriesCount} series × H={h} = {seriesCount * h} floats.", nameof(forecast));
        }

        // The naive forecaster takes no calendar features; any passed are ignored (C = 0 in its shape).
        _ = calendar;
        for (int row = 0; row < seriesCount; row++)
        {
            var observations = window.Slice(row * w, w);
            float last = observations[w - 1];
            float min = float.PositiveInfinity;
            float max = float.NegativeInfinity;
            foreach (float x in observations)
            {
                if (!float.IsNaN(x))
                {
                    min = Math.Min(min, x);
                    max = Math.Max(max, x);
                }
            }

            float margin = max >= min ? max - min : 0f;
            forecast.Slice(row * h, h).Fill(last);
            upper.Slice(row * h, h).Fill(last + margin);
        }
    }

    public void Dispose()
    {
    }
}

namespace Predictor.Engine.Forecasting;

/// <summary>
/// Forecasts H steps ahead for N series at once from their last W observations (the model contract of DESIGN.md).
/// Implementations write into caller-owned spans and must not allocate per call after warm-up: the control loop
/// calls this every k ticks of 100 ms.
/// </summary>
public interface IForecaster : IDisposable
{
    /// <summary>Window, horizon, calendar width and step of this forecaster.</summary>
    ForecastShape Shape { get; }

    /// <summary>The largest N one <see cref="Forecast"/> call accepts (an ONNX model's <c>OnnxForecasterOptions.MaxBatch</c>).</summary>
    /// <value>Unlimited (<see cref="int.MaxValue"/>) unless the implementation says otherwise.</value>
    int MaxSeriesPerCall => int.MaxValue;

    /// <summary>
    /// Forecasts <paramref name="seriesCount"/> series.
    /// </summary>
    /// <param name="window">N×W observations, row-major, oldest first, in the series' own units.</param>
    /// <param name="calendar">N×C calendar features of the forecast origin (see <see cref="CalendarFeatures"/>);
    /// empty when <see cref="ForecastShape.CalendarWidth"/> is 0.</param>
    /// <param name="seriesCount">N, the number of series (rows).</param>
    /// <param name="forecast">N×H point forecasts for steps 1..H, written by the call.</param>
    /// <param name="upper">N×H upper bounds at <see cref="ForecastShape.Quantile"/>, written by the call.</param>
    void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper);
}

/// <summary>The shape of a forecaster's input and output.</summary>
/// <param name="Window">W: observations per series the forecaster reads, oldest first.</param>
/// <param name="Horizon">H: steps forecast.</param>
/// <param name="CalendarWidth">C: calendar features per series; 0 when the model takes none.</param>
/// <param name="Step">The time between two observations (and two forecast steps).</param>
/// <param name="Quantile">The quantile that <c>upper</c> covers, in (0, 1).</param>
public readonly record struct ForecastShape(int Window, int Horizon, int CalendarWidth, TimeSpan Step, double Quantile);

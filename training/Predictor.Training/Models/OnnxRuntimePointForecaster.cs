using Predictor.Engine.Forecasting;

namespace Predictor.Training.Models;

/// <summary>
/// Runs a model file through the engine's forecaster (ONNX Runtime), one series at a time, so evaluation scores
/// exactly what the engine would compute, for any kind of graph (linear maps, tree ensembles, ...).
/// </summary>
internal sealed class OnnxRuntimePointForecaster : IPointForecaster, IDisposable
{
    private readonly IForecaster _forecaster;
    private readonly float[] _window;
    private readonly float[] _calendar;
    private readonly float[] _forecast;
    private readonly float[] _upper;

    public OnnxRuntimePointForecaster(string path, string kind)
    {
        _forecaster = ForecasterLoader.OpenOnnx(path);
        var shape = _forecaster.Shape;
        Kind = kind;
        _window = new float[shape.Window];
        _calendar = new float[shape.CalendarWidth];
        _forecast = new float[shape.Horizon];
        _upper = new float[shape.Horizon];
    }

    public string Kind { get; }

    public int Window => _window.Length;

    /// <summary>The <c>upper</c> output of the last call.</summary>
    public ReadOnlySpan<float> LastUpper => _upper;

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast)
    {
        var last = history[^_window.Length..];
        for (int i = 0; i < _window.Length; i++)
        {
            _window[i] = (float)last[i];
        }

        if (_calendar.Length > 0)
        {
            CalendarFeatures.Compute(originUnixMs, _calendar);
        }

        _forecaster.Forecast(_window, _calendar, 1, _forecast, _upper);
        for (int h = 0; h < forecast.Length; h++)
        {
            forecast[h] = _forecast[h];
        }
    }

    public void Dispose() => _forecaster.Dispose();
}

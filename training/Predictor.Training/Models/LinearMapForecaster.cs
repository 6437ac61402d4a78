using Predictor.Engine.Forecasting;
using Predictor.Training.Onnx;

namespace Predictor.Training.Models;

/// <summary>
/// A forecast that is a linear map of the (normalised) window and, optionally, the calendar features:
/// <c>([(w − μ)/s, calendar] · A + b) · s + μ</c>. SSA and ridge both end here, and both export the same graph
/// (<see cref="ForecastModels.Linear(ModelCard, ReadOnlySpan{float}, ReadOnlySpan{float}, bool, WindowNormalization, ReadOnlySpan{float})"/>).
/// The C# forecast reads the float32 weights the file stores, so backtests score exactly what is shipped.
/// </summary>
internal sealed class LinearMapForecaster : IExportableForecaster
{
    private readonly float[] _weights;
    private readonly float[] _bias;
    private readonly double[] _features;

    /// <param name="kind">Card kind (ssa, ridge).</param>
    /// <param name="window">W.</param>
    /// <param name="horizon">H.</param>
    /// <param name="weights">A, row-major [W (+C), H].</param>
    /// <param name="bias">b, H values.</param>
    /// <param name="withCalendar">Whether calendar features follow the window.</param>
    /// <param name="normalization">Per-window normalisation.</param>
    public LinearMapForecaster(string kind, int window, int horizon, float[] weights, float[] bias, bool withCalendar, WindowNormalization normalization)
    {
        int width = window + (withCalendar ? CalendarFeatures.Width : 0);
        if (weights.Length != width * horizon || bias.Length != horizon)
        {
            throw new ArgumentException($"A [{width}×{horizon}] map needs {width * horizon} weights and {horizon} biases.", nameof(weights));
        }

        Kind = kind;
        Window = window;
        Horizon = horizon;
        _weights = weights;
        _bias = bias;
        WithCalendar = withCalendar;
        Normalization = normalization;
        _features = new double[width];
    }

    public string Kind { get; }

    public int Window { get; }

    public int Horizon { get; }

    public bool WithCalendar { get; }

    public WindowNormalization Normalization { get; }

    /// <summary>A, row-major [F, H].</summary>
    public ReadOnlySpan<float> Weights => _weights;

    /// <summary>b.</summary>
    public ReadOnlySpan<float> Bias => _bias;

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast)
    {
        var window = history[^Window..];
        var (mean, scale) = WindowNormalizer.Measure(window, Normalization);
        for (int k = 0; k < Window; k++)
        {
            _features[k] = (window[k] - mean) / scale;
        }

        if (WithCalendar)
        {
            Span<float> calendar = stackalloc float[CalendarFeatures.Width];
            CalendarFeatures.Compute(originUnixMs, calendar);
            for (int c = 0; c < calendar.Length; c++)
            {
                _features[Window + c] = calendar[c];
            }
        }

        int h = Horizon;
        for (int j = 0; j < forecast.Length; j++)
        {
            double s = _bias[j];
            for (int k = 0; k < _features.Length; k++)
            {
                s += _features[k] * _weights[(k * h) + j];
            }

            forecast[j] = (s * scale) + mean;
        }
    }

    public bool UsesCalendar => WithCalendar;

    public string EmitInto(ContractModelBuilder builder, string prefix)
    {
        if (builder.Card.Window != Window || builder.Card.Horizon != Horizon)
        {
            throw new InvalidOperationException($"A linear branch of W = {Window}, H = {Horizon} cannot sit in a model of W = {builder.Card.Window}, H = {builder.Card.Horizon}.");
        }

        return ForecastModels.EmitLinear(builder, prefix, _weights, _bias, WithCalendar, Normalization);
    }

    public byte[] Export(ModelCard card, ReadOnlySpan<float> upperOffsets) =>
        ForecastModels.Linear(card with { Kind = Kind, Window = Window, Horizon = Horizon }, _weights, _bias, WithCalendar, Normalization, upperOffsets);
}

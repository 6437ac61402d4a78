namespace Predictor.Training.Models;

/// <summary>
/// A fitted point forecaster as training sees it: forecasts H steps from the history up to an origin. The backtest
/// runs every candidate and every baseline through this one verb, so all are scored the same way.
/// </summary>
internal interface IPointForecaster
{
    /// <summary>Model kind as written in the card (<c>ssa</c>, <c>ridge</c>, <c>naive</c>, ...).</summary>
    string Kind { get; }

    /// <summary>W: how many of the latest observations the forecaster needs (the ONNX window for exportable ones).</summary>
    int Window { get; }

    /// <summary>Writes forecasts of steps 1..H after the last point of <paramref name="history"/>.</summary>
    /// <param name="history">Every observation up to and including the origin, oldest first (≥ <see cref="Window"/> points).</param>
    /// <param name="originUnixMs">Timestamp of the origin (for calendar features).</param>
    /// <param name="forecast">H values, written by the call.</param>
    void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast);
}

/// <summary>A forecaster that can be written as an ONNX model of the contract.</summary>
internal interface IExportableForecaster : IPointForecaster
{
    /// <summary>The model bytes for <paramref name="card"/> with the given conformal offsets.</summary>
    byte[] Export(Onnx.ModelCard card, ReadOnlySpan<float> upperOffsets);

    /// <summary>Whether the forecaster reads the <c>calendar</c> input.</summary>
    bool UsesCalendar { get; }

    /// <summary>
    /// Emits this forecaster as one branch of a larger graph (node and tensor names prefixed with
    /// <paramref name="prefix"/>); returns the name of its [N, H] forecast. The graph's W may exceed this forecaster's.
    /// </summary>
    string EmitInto(Onnx.ContractModelBuilder builder, string prefix);
}

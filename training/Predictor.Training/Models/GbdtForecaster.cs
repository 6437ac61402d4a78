using Predictor.Engine.Forecasting;
using Predictor.Training.Onnx;
using Predictor.Training.Trees;

namespace Predictor.Training.Models;

/// <summary>
/// The gradient-boosted trees of <c>Trees/</c> as a candidate: forecasts from the <c>SupervisedWindows</c> row
/// (the model's <c>TreeFeatures</c> of the window, then calendar) with <see cref="GbdtModel.Predict"/>, exported by <see cref="GbdtOnnx.Export"/>.
/// </summary>
internal sealed class GbdtForecaster : IExportableForecaster
{
    private readonly GbdtModel _model;
    private readonly float[] _row;
    private readonly float[] _out;

    public GbdtForecaster(GbdtModel model)
    {
        _model = model;
        _row = new float[model.FeatureWidth];
        _out = new float[model.Horizon];
    }

    public string Kind => GbdtOnnx.Kind;

    /// <summary>The trees per horizon step that early stopping (or fixed rounds) kept.</summary>
    public IReadOnlyList<int> TreesPerHorizon => _model.TreesPerHorizon;

    public int Window => _model.Window;

    public bool UsesCalendar => _model.CalendarWidth > 0;

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast)
    {
        _model.Features.Fill(history[^Window..], _row);
        if (UsesCalendar)
        {
            CalendarFeatures.Compute(originUnixMs, _row.AsSpan(_model.Features.Width));
        }

        _model.Predict(_row, _out);
        for (int h = 0; h < forecast.Length; h++)
        {
            forecast[h] = _out[h];
        }
    }

    public byte[] Export(ModelCard card, ReadOnlySpan<float> upperOffsets) =>
        GbdtOnnx.Export(_model, card with { Kind = Kind, Window = Window, Horizon = _model.Horizon }, upperOffsets);

    public string EmitInto(ContractModelBuilder builder, string prefix) => GbdtOnnx.Emit(builder, prefix, _model);
}

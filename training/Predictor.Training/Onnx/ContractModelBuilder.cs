using Predictor.Engine;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Training.Onnx.Proto;

namespace Predictor.Training.Onnx;

/// <summary>
/// Builds a model that honours the model contract (DESIGN.md): input <c>window</c> float32 [N, W], optional input
/// <c>calendar</c> float32 [N, C], outputs <c>forecast</c> and <c>upper</c> float32 [N, H], the card in
/// <c>metadata_props</c>. A model kind writes its body into <see cref="Graph"/> (reading <see cref="WindowInput"/>,
/// <see cref="CalendarInput"/> or <see cref="FeatureRow"/>) and hands the name of its [N, H] point forecast to
/// <see cref="Build"/>, which adds <c>upper = forecast + offsets</c> (one offset per step, the conformal quantiles
/// of backtest residuals) and the card.
/// </summary>
internal sealed class ContractModelBuilder
{
    private string? _featureRow;

    /// <summary>Starts a contract model for <paramref name="card"/>; declares <c>calendar</c> when <paramref name="withCalendar"/>.</summary>
    public ContractModelBuilder(ModelCard card, bool withCalendar)
    {
        ArgumentNullException.ThrowIfNull(card);
        card.Validate();
        Card = card;
        Graph = new GraphBuilder($"predictor_{card.Kind}");
        WindowInput = Graph.AddInput(ModelContract.WindowInput, null, card.Window);
        CalendarInput = withCalendar ? Graph.AddInput(ModelContract.CalendarInput, null, CalendarFeatures.Width) : null;
    }

    /// <summary>The card written into the model.</summary>
    public ModelCard Card { get; }

    /// <summary>The graph the model kind writes its nodes into.</summary>
    public GraphBuilder Graph { get; }

    /// <summary>Name of the [N, W] window input.</summary>
    public string WindowInput { get; }

    /// <summary>Name of the [N, C] calendar input, or null when the model takes none.</summary>
    public string? CalendarInput { get; }

    /// <summary>Width of <see cref="FeatureRow"/>: W, plus C with a calendar.</summary>
    public int FeatureWidth => Card.Window + (CalendarInput is null ? 0 : CalendarFeatures.Width);

    /// <summary>
    /// The [N, W (+C)] feature row of <see cref="Features.SupervisedWindows"/>: the window, oldest first, then the
    /// calendar features (<c>Concat</c> on axis 1). Without a calendar it is the window itself.
    /// </summary>
    /// <param name="window">The [N, W] tensor standing for the window (the input itself, or a normalised copy).</param>
    public string FeatureRow(string? window = null)
    {
        window ??= WindowInput;
        if (_featureRow is not null)
        {
            return _featureRow;
        }

        if (CalendarInput is null)
        {
            _featureRow = window;
        }
        else
        {
            _featureRow = "features";
            Graph.AddNode("Concat", [window, CalendarInput], [_featureRow], GraphBuilder.OnnxDomain, OnnxAttributes.Int("axis", 1));
        }

        return _featureRow;
    }

    /// <summary>
    /// Finishes the model: <c>forecast</c> is <paramref name="forecastTensor"/> (an [N, H] tensor the body wrote),
    /// <c>upper</c> is <c>forecast + upperOffsets</c>, broadcast over rows.
    /// </summary>
    /// <param name="forecastTensor">Name of the body's [N, H] point forecast.</param>
    /// <param name="upperOffsets">H finite offsets, step 1 first.</param>
    public ModelProto Build(string forecastTensor, ReadOnlySpan<float> upperOffsets)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(forecastTensor);
        int h = Card.Horizon;
        if (upperOffsets.Length != h)
        {
            throw new PredictorException($"Model '{Card.Kind}': {upperOffsets.Length} upper-bound offsets given for horizon {h}; give one per step.");
        }

        for (int i = 0; i < upperOffsets.Length; i++)
        {
            if (!float.IsFinite(upperOffsets[i]))
            {
                throw new PredictorException($"Model '{Card.Kind}': upper-bound offset of step {i + 1} is {upperOffsets[i]}; offsets must be finite (check the backtest residuals for NaN).");
            }
        }

        Graph.AddOutput(ModelContract.ForecastOutput, null, h);
        Graph.AddOutput(ModelContract.UpperOutput, null, h);
        if (forecastTensor != ModelContract.ForecastOutput)
        {
            Graph.AddNode("Identity", [forecastTensor], [ModelContract.ForecastOutput]);
        }

        string offsets = Graph.AddInitializer("upper_offsets", upperOffsets, h);
        Graph.AddNode("Add", [ModelContract.ForecastOutput, offsets], [ModelContract.UpperOutput]);
        return Graph.Build(Card.ToMetadata(), $"Predictor {Card.Kind} forecaster: window {Card.Window}, horizon {h}.");
    }
}

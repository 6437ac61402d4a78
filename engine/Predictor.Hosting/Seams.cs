using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;

namespace Predictor.Hosting;

/// <summary>Opens a model file as a forecaster (the ONNX binding, with its naive fallback).</summary>
public interface IModelLoader
{
    /// <summary>Loads <paramref name="path"/>; null loads the default forecaster.</summary>
    IForecaster Load(string? path);
}

/// <summary>
/// Builds the loop's setup once models are loaded (in StartAsync). Replace it to run your own series, modules and
/// backend. The hosted service sets <see cref="ControlLoopSetup.Sink"/> (its store channel) and, when the setup
/// has none, <see cref="ControlLoopSetup.Log"/>.
/// </summary>
public interface IControlLoopSetupFactory
{
    /// <summary>Creates the setup; <paramref name="forecasters"/> were loaded from <see cref="PredictorOptions.ModelPaths"/>.</summary>
    ControlLoopSetup Create(PredictorOptions options, IReadOnlyList<IForecaster> forecasters);
}

/// <summary>Where the default setup's dry-run backend and decision log write, when registered (the CLI registers its output).</summary>
/// <param name="Writer">The writer; the caller owns it.</param>
public sealed record PredictorConsole(TextWriter Writer);

using Predictor.Engine.Onnx;

namespace Predictor.Engine.Forecasting;

/// <summary>A forecaster ready to run, and whether it is the fallback (with the reason).</summary>
/// <param name="Forecaster">The model's forecaster, or the naive fallback.</param>
/// <param name="FallbackReason">Null when the model loaded; otherwise why the naive forecaster is used instead, one line.</param>
public sealed record ForecasterLoadResult(IForecaster Forecaster, string? FallbackReason)
{
    /// <summary>True when the model was missing or refused and the naive forecaster runs instead.</summary>
    public bool IsFallback => FallbackReason is not null;
}

/// <summary>
/// Creates forecasters. <see cref="OpenOnnx"/> loads a model and throws when it cannot; <see cref="LoadOrFallback"/>
/// never throws for a bad model: the engine keeps running on the naive forecaster and reports why.
/// </summary>
public static class ForecasterLoader
{
    /// <summary>Loads an ONNX model that fits the contract.</summary>
    /// <exception cref="OnnxRuntimeException">ORT cannot load the file (missing, not ONNX, invalid graph).</exception>
    /// <exception cref="ModelContractException">It does not fit the contract; lists every problem.</exception>
    /// <exception cref="OnnxRuntimeLibraryException">ONNX Runtime's native library is missing or unusable.</exception>
    public static IForecaster OpenOnnx(string path, OnnxForecasterOptions? options = null)
        => OnnxForecaster.Open(path, options ?? new OnnxForecasterOptions());

    /// <summary>The naive forecaster (last value; upper = last + the window's range).</summary>
    public static IForecaster Naive(NaiveForecasterOptions? options = null) => new NaiveForecaster(options ?? new NaiveForecasterOptions());

    /// <summary>
    /// Loads the model at <paramref name="path"/>, or, when there is none, it is missing, ONNX Runtime cannot load it,
    /// or it does not fit the contract, returns the naive forecaster with the reason.
    /// </summary>
    /// <param name="path">The model file; null or empty means no model was configured.</param>
    /// <param name="options">Options of the ONNX forecaster.</param>
    /// <param name="fallback">Shape of the naive forecaster used when the model is not.</param>
    public static ForecasterLoadResult LoadOrFallback(string? path, OnnxForecasterOptions? options = null, NaiveForecasterOptions? fallback = null)
    {
        fallback ??= new NaiveForecasterOptions();
        if (string.IsNullOrWhiteSpace(path))
        {
            return new ForecasterLoadResult(Naive(fallback), "no model file configured; using the naive forecaster.");
        }

        if (!File.Exists(path))
        {
            return new ForecasterLoadResult(Naive(fallback), $"model file '{Path.GetFullPath(path)}' does not exist; using the naive forecaster.");
        }

        try
        {
            return new ForecasterLoadResult(OpenOnnx(path, options), null);
        }
        catch (PredictorException ex)
        {
            return new ForecasterLoadResult(Naive(fallback), $"{ex.Message.ReplaceLineEndings(" ")} Using the naive forecaster.");
        }
    }
}

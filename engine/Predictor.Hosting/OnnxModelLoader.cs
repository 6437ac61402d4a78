using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Predictor.Engine.Forecasting;

namespace Predictor.Hosting;

/// <summary>
/// The default model loader: an ONNX model through the engine's ONNX Runtime binding, or, when the path is null or
/// the model cannot be used (missing, not loadable, off-contract), the naive forecaster, with the reason logged.
/// The naive forecaster's step is the inference period (tick × k), so its window fills in W inference periods.
/// </summary>
internal sealed class OnnxModelLoader : IModelLoader
{
    private readonly IOptions<PredictorOptions> _options;
    private readonly ILogger _logger;

    public OnnxModelLoader(IOptions<PredictorOptions> options, IServiceProvider services)
    {
        _options = options;
        _logger = (services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Predictor.Models");
    }

    public IForecaster Load(string? path)
    {
        var options = _options.Value;
        var fallback = new NaiveForecasterOptions { Step = options.TickInterval * options.InferenceEveryTicks };
        var result = ForecasterLoader.LoadOrFallback(path, fallback: fallback);
        if (result.IsFallback && path is not null)
        {
            _logger.LogWarning("Model {Path} is not used: {Reason}", path, result.FallbackReason);
        }

        return result.Forecaster;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Predictor.Hosting;

#pragma warning disable IDE0130 // extension methods live in the DI namespace by convention, so they show up where services are
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers Predictor's control loop as a hosted service.</summary>
public static class PredictorServiceCollectionExtensions
{
    /// <summary>
    /// Adds the control loop (a hosted service ticking every <see cref="PredictorOptions.TickInterval"/>) and its
    /// defaults. Idempotent: calling it again adds the configuration, never a second loop. Options are validated when
    /// the host starts. Register your own <see cref="IControlLoopSetupFactory"/>, <see cref="IModelLoader"/>,
    /// <c>ISampleStore</c>, <c>IDecisionLog</c> or <see cref="TimeProvider"/> before or after: the defaults are added
    /// with TryAdd and never replace yours.
    /// </summary>
    public static IServiceCollection AddPredictor(this IServiceCollection services, Action<PredictorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<PredictorOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PredictorOptions>, PredictorOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IControlLoopSetupFactory, DefaultSetupFactory>();
        services.TryAddSingleton<IModelLoader, OnnxModelLoader>();
        services.TryAddSingleton<PredictorService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PredictorService>(sp => sp.GetRequiredService<PredictorService>()));
        return services;
    }
}

using Microsoft.Extensions.Configuration;
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

    /// <summary>
    /// As <see cref="AddPredictor(IServiceCollection, Action{PredictorOptions}?)"/>, with the options bound from
    /// <paramref name="configuration"/>, usually <c>builder.Configuration.GetSection("Predictor")</c>: appsettings.json,
    /// environment variables (<c>Predictor__TickInterval=00:00:00.250</c>), the command line. Keys are the option names
    /// (<c>TickInterval</c>, <c>Backend</c>, <c>ModelPaths</c>, <c>Modules</c> as a list of <c>{ "Name", "Pid" }</c>, ...).
    /// A key that is not an option (a typo) or a value that does not convert fails the host's start with a message
    /// naming the key, as an out-of-range value does. <paramref name="configure"/> runs after the binding, so code
    /// overrides configuration. A list the section names (<c>ModelPaths</c>, <c>Modules</c>) replaces the list, as any other
    /// key replaces its option's value, so binding the same section twice lists nothing twice.
    /// </summary>
    public static IServiceCollection AddPredictor(this IServiceCollection services, IConfiguration configuration, Action<PredictorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<PredictorOptions>().Configure(options => Bind(configuration, options));
        return services.AddPredictor(configure);
    }

    private static void Bind(IConfiguration configuration, PredictorOptions options)
    {
        // The binder appends to a list that already has items; clearing a list the section names makes it replace.
        if (configuration.GetSection(nameof(PredictorOptions.ModelPaths)).GetChildren().Any())
        {
            options.ModelPaths.Clear();
        }

        if (configuration.GetSection(nameof(PredictorOptions.Modules)).GetChildren().Any())
        {
            options.Modules.Clear();
        }

        var keys = typeof(PredictorOptions).GetProperties().Select(p => p.PropertyType.IsEnum
            ? $"{p.Name} ({string.Join(", ", Enum.GetNames(p.PropertyType))})"
            : p.PropertyType == typeof(TimeSpan) ? $"{p.Name} (hh:mm:ss.fff)" : p.Name);
        var accepted = $"Predictor's options are: {string.Join(", ", keys)}; Modules is a list of {{ \"Name\", \"Pid\" }}.";

        // A list or an object where one value is expected is skipped by the binder without a word: say so.
        foreach (var property in typeof(PredictorOptions).GetProperties().Where(p => p.PropertyType.IsEnum || p.PropertyType.IsValueType || p.PropertyType == typeof(string)))
        {
            var section = configuration.GetSection(property.Name);
            if (section.GetChildren().Any())
            {
                throw new InvalidOperationException(
                    $"'{section.Path}' is a list or an object, but {property.Name} takes one value (e.g. \"{property.Name}\": {Example(property.PropertyType)}). {accepted}");
            }
        }

        try
        {
            configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key and the value, sometimes only in an inner exception (a module's fields are bound
            // through its constructor); give every distinct message, then what is accepted, so the fix is in the message.
            var messages = new List<string>();
            for (Exception? x = e; x is not null; x = x.InnerException)
            {
                var m = x.Message.TrimEnd().TrimEnd('.');
                if (!messages.Contains(m, StringComparer.Ordinal))
                {
                    messages.Add(m);
                }
            }

            throw new InvalidOperationException($"{string.Join(": ", messages)}. {accepted}", e);
        }
    }

    private static string Example(Type type) =>
        type.IsEnum ? $"\"{Enum.GetNames(type)[0]}\""
        : type == typeof(TimeSpan) ? "\"00:00:00.100\""
        : type == typeof(bool) ? "true"
        : type == typeof(string) ? "\"...\""
        : "1";
}

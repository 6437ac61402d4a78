using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Predictor.Engine;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;

namespace Predictor.Hosting;

/// <summary>
/// Runs the control loop on a <see cref="PeriodicTimer"/>. StartAsync validates the options, loads the models and
/// builds the loop (so a bad model or option fails the host's start, not a background thread); ExecuteAsync ticks;
/// a second task drains the sample channel into the store (if one is registered) so the tick never waits on disk;
/// StopAsync stops ticking, drains and flushes the store, flushes the decision log and releases the backend (the
/// Linux backend removes its cgroups). A tick that throws is logged and the loop goes on.
/// </summary>
internal sealed class PredictorService : BackgroundService
{
    private readonly IOptions<PredictorOptions> _options;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<IForecaster> _forecasters = [];
    private ControlLoop? _loop;
    private ControlLoopSetup? _setup;
    private SampleChannel? _channel;
    private ISampleStore? _store;
    private Task? _drainTask;
    private CancellationTokenSource? _drainStop;

    public PredictorService(IOptions<PredictorOptions> options, IServiceProvider services, TimeProvider time)
    {
        _options = options;
        _services = services;
        _time = time;
        _logger = (services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Predictor");
    }

    /// <summary>The running loop (null before start).</summary>
    public ControlLoop? Loop => _loop;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var options = _options.Value; // runs the validators: an invalid option fails the start here
        var loader = _services.GetService<IModelLoader>();
        foreach (var path in options.ModelPaths)
        {
            if (loader is null)
            {
                throw new PredictorException($"Predictor:ModelPaths names '{path}' but no IModelLoader is registered; register one (services.AddSingleton<IModelLoader, ...>()).");
            }

            _forecasters.Add(loader.Load(path));
            _logger.LogInformation("Loaded model {Path}", path);
        }

        if (options.ModelPaths.Count == 0 && loader is not null)
        {
            _forecasters.Add(loader.Load(null));
        }

        _setup = _services.GetRequiredService<IControlLoopSetupFactory>().Create(options, _forecasters);
        _channel = new SampleChannel(_setup.Series.Count, Math.Max(64, options.StoreFlushEveryTicks * 4));
        _setup.Sink = _channel;
        _setup.Log ??= _services.GetService<IDecisionLog>() ?? new LoggingDecisionLog(_logger);
        _loop = new ControlLoop(_setup);
        _store = _services.GetService<ISampleStore>();
        _drainStop = new CancellationTokenSource();
        _drainTask = Task.Run(() => DrainAsync(_drainStop.Token), CancellationToken.None);
        _logger.LogInformation("Predictor loop starting: tick {Tick}, backend {Backend}, policy {Policy}, {Models} model(s)",
            options.TickInterval, options.Backend, options.Policy, _forecasters.Count);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_drainStop is not null)
        {
            await _drainStop.CancelAsync().ConfigureAwait(false);
        }

        if (_drainTask is not null)
        {
            await _drainTask.ConfigureAwait(false);
        }

        Drain();
        _store?.Flush();
        if (_setup?.Log is TextDecisionLog)
        {
            // TextDecisionLog writes to a writer the caller owns; flushing it is theirs. Nothing buffered here.
        }

        _setup?.Backend.Dispose();
        _loop?.Dispose();
        foreach (var forecaster in _forecasters)
        {
            forecaster.Dispose();
        }

        _logger.LogInformation("Predictor loop stopped after {Ticks} ticks; samples flushed", _loop?.Ticks ?? 0);
    }

    public override void Dispose()
    {
        _drainStop?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loop = _loop!;
        using var timer = new PeriodicTimer(_options.Value.TickInterval, _time);
        try
        {
            do
            {
                try
                {
                    loop.RunOnce();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // RunOnce fails closed inside; this guards the service against a bug in it. Keep ticking.
                    _logger.LogError(ex, "A control-loop tick failed; the next tick runs as usual");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task DrainAsync(CancellationToken token)
    {
        try
        {
            while (await _channel!.WaitToReadAsync(token).ConfigureAwait(false))
            {
                Drain();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private void Drain()
    {
        var store = _store;
        if (store is null)
        {
            _channel?.Drain(static (_, _) => { });
            return;
        }

        try
        {
            _channel?.Drain(store.Append);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogError(ex, "Writing samples to the store failed; the loop goes on, these samples are lost");
        }
    }
}

using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Predictor.Engine;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Hosting;

/// <summary>
/// Runs the control loop on a <see cref="PeriodicTimer"/>. StartAsync validates the options, loads the models and
/// builds the loop (so a bad model or option fails the host's start, not a background thread); ExecuteAsync ticks;
/// a second task drains the sample channel into the stores (an <see cref="ISampleStore"/> registered in DI, and the
/// SQLite store of <see cref="PredictorOptions.StorePath"/>) so the tick never waits on disk; with a SQLite store the
/// decision log also goes to its decision-log table. StopAsync stops ticking, drains the channel, flushes the stores
/// (samples and decisions committed), releases the backend (the Linux backend removes its cgroups) and the collectors'
/// files, and closes the SQLite store. A tick that throws is logged and the loop goes on.
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
    private ISampleStore[] _stores = [];
    private TimeSeriesStore? _sqlite;
    private StoreDecisionLog? _storeLog;
    private SampleHandler? _append;
    private Task? _drainTask;
    private Task? _retentionTask;
    private CancellationTokenSource? _drainStop;
    private StoreRetention? _retention;

    public PredictorService(IOptions<PredictorOptions> options, IServiceProvider services, TimeProvider time)
    {
        _options = options;
        _services = services;
        _time = time;
        _logger = (services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Predictor");
    }

    /// <summary>The running loop (null before start).</summary>
    public ControlLoop? Loop => _loop;

    /// <summary>Samples the SQLite store refused because its queue was full (0 without a store).</summary>
    public long StoreDroppedSamples => _sqlite?.DroppedSamples ?? 0;

    /// <summary>Decision-log records the SQLite store refused because its queue was full (0 without a store).</summary>
    public long StoreDroppedDecisions => _storeLog?.Dropped ?? 0;

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
        try
        {
            var stores = new List<ISampleStore>();
            if (_services.GetService<ISampleStore>() is { } registered)
            {
                stores.Add(registered);
            }

            if (options.StorePath is { } path)
            {
                OpenStore(path, options, stores);
            }

            _stores = [.. stores];
            _loop = new ControlLoop(_setup);
            if (_sqlite is { } recorded)
            {
                // What is older than the retention goes before the first tick (and the warm start reads what is kept).
                if (options.StoreRetention is { } keep)
                {
                    WarnIfShorterThanAWindow(keep);
                    _retention = new StoreRetention(recorded, keep, _time,
                        deleted =>
                        {
                            if (deleted > 0)
                            {
                                _logger.LogInformation("Store {Path}: deleted {Chunks} chunks recorded more than {Retention} ago", recorded.Path, deleted, keep);
                            }
                        },
                        ex => _logger.LogError(ex, "Store {Path}: deleting what is older than {Retention} failed; trying again in {Every}", recorded.Path, keep, StoreRetention.PassInterval(keep)));
                    _retention.PassAsync(CancellationToken.None).GetAwaiter().GetResult();
                }

                WarmStart(recorded);
            }
        }
        catch
        {
            // A failed start must not leave cgroups or open kernel files behind.
            _setup.Backend.Dispose();
            (_setup.Source as IDisposable)?.Dispose();
            throw;
        }

        _drainStop = new CancellationTokenSource();
        _drainTask = Task.Run(() => DrainAsync(_drainStop.Token), CancellationToken.None);
        if (_retention is { } retention)
        {
            _retentionTask = Task.Run(() => retention.RunAsync(_drainStop.Token), CancellationToken.None);
        }

        _logger.LogInformation("Predictor loop starting: tick {Tick}, backend {Backend}, policy {Policy}, {Models} model(s)",
            options.TickInterval, options.Backend, options.Policy, _forecasters.Count);
        return base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Per model (in the order loaded), how many steps of its window were filled from the store at the start (see
    /// <see cref="ControlLoop.WarmUp"/>); empty without a store.
    /// </summary>
    public IReadOnlyList<(string Model, int Filled, int Window)> WarmedSteps { get; private set; } = [];

    /// <summary>Why the store's history could not fill the windows (they then fill live); null when it could, or without a store.</summary>
    public string? WarmStartProblem { get; private set; }

    // A restarted service forecasts at once: each model's window is filled from what the store recorded before the stop.
    // Best effort: history that cannot be read costs the warm start, never the start.
    private void WarmStart(TimeSeriesStore store)
    {
        IReadOnlyList<int> filled;
        try
        {
            filled = _loop!.WarmUp((name, from, to, step) => store.FindSeries(name) is null ? null : store.Downsample(name, from, to, step, Aggregation.Mean));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            WarmStartProblem = $"{ex.GetType().Name}: {ex.Message}";
            _logger.LogWarning(ex, "The store's history could not fill the models' windows; they fill live");
            return;
        }

        var paths = _options.Value.ModelPaths;
        var named = filled.Count == paths.Count;
        WarmedSteps = [.. filled.Select((n, i) => (named ? paths[i] : paths.Count == 0 && filled.Count == 1 ? "naive (default)" : $"model {i + 1}", n, _setup!.Models[i].Forecaster.Shape.Window))];
        foreach (var (model, n, window) in WarmedSteps)
        {
            _logger.LogInformation("Model {Model}: {Filled} of {Window} window steps filled from the store", model, n, window);
        }
    }

    /// <summary>Chunks of samples the retention deleted from the store (see <see cref="PredictorOptions.StoreRetention"/>).</summary>
    public long RetentionDeletedChunks => _retention?.DeletedChunks ?? 0;

    /// <summary>One sentence per model whose window spans more than <see cref="PredictorOptions.StoreRetention"/> (a restart fills only part of it); empty otherwise.</summary>
    public IReadOnlyList<string> RetentionWarnings { get; private set; } = [];

    private void WarnIfShorterThanAWindow(TimeSpan retention)
    {
        var paths = _options.Value.ModelPaths;
        var warnings = new List<string>();
        for (var i = 0; i < _setup!.Models.Count; i++)
        {
            var shape = _setup.Models[i].Forecaster.Shape;
            var span = shape.Step * shape.Window;
            if (retention < span)
            {
                var model = i < paths.Count ? paths[i] : "the default forecaster";
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"the retention ({retention}) is shorter than the window of {model} ({span}): a restart fills only part of it from the store; keep at least {span}"));
                _logger.LogWarning("Predictor:StoreRetention {Retention} is shorter than the window of {Model} ({Span}): a restart fills only part of it from the store", retention, model, span);
            }
        }

        RetentionWarnings = warnings;
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

        if (_retentionTask is not null)
        {
            await _retentionTask.ConfigureAwait(false);
        }

        Drain();
        foreach (var store in _stores)
        {
            try
            {
                store.Flush();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.LogError(ex, "Flushing the store failed; what was committed before stays");
            }
        }

        // TextDecisionLog writes to a writer the caller owns; flushing it is theirs. Nothing is buffered here.
        _setup?.Backend.Dispose();
        (_setup?.Source as IDisposable)?.Dispose();
        _loop?.Dispose();
        if (_sqlite is not null)
        {
            _logger.LogInformation("Store {Path}: committed up to item {Durable}; {Dropped} samples and {DroppedDecisions} decisions dropped (queue full)",
                _sqlite.Path, _sqlite.DurableUpTo, _sqlite.DroppedSamples, _storeLog?.Dropped ?? 0);
            _sqlite.Dispose();
        }

        foreach (var forecaster in _forecasters)
        {
            forecaster.Dispose();
        }

        _logger.LogInformation("Predictor loop stopped after {Ticks} ticks; samples flushed", _loop?.Ticks ?? 0);
    }

    public override void Dispose()
    {
        _drainStop?.Dispose();
        _sqlite?.Dispose(); // after a stop this is a no-op; without one (a failed start) it closes the file
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

    private void OpenStore(string path, PredictorOptions options, List<ISampleStore> stores)
    {
        var setup = _setup!;
        var sqlite = TimeSeriesStore.Open(path, new StoreOptions { OnProblem = p => _logger.LogError("Store {Path}: {Problem}", path, p) });
        try
        {
            sqlite.AcquireWriter();
            var describe = setup.Source as ISeriesDescriptions;
            var series = new SeriesInfo[setup.Series.Count];
            for (var i = 0; i < series.Length; i++)
            {
                // A custom source that does not describe its series: unit unknown, one value per tick.
                series[i] = describe?.Describe(i) ?? new SeriesInfo(setup.Series[i], "value", options.TickInterval);
            }

            stores.Add(new SqliteSampleStore(sqlite, series));
            _storeLog = new StoreDecisionLog(sqlite, [.. setup.Modules.Select(m => m.Name)], [.. setup.Locations.Select(l => l.Id)]);
            setup.Log = new TeeDecisionLog(setup.Log!, _storeLog);
            _sqlite = sqlite;
            _logger.LogInformation("Recording {Count} series and the decision log to {Path}", series.Length, sqlite.Path);
        }
        catch
        {
            sqlite.Dispose();
            throw;
        }
    }

    private void Drain()
    {
        if (_stores.Length == 0)
        {
            _channel?.Drain(static (_, _) => { });
            return;
        }

        try
        {
            _channel?.Drain(_append ??= Append);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogError(ex, "Writing samples to the store failed; the loop goes on, these samples are lost");
        }
    }

    private void Append(long timestampMs, ReadOnlySpan<double> values)
    {
        foreach (var store in _stores)
        {
            store.Append(timestampMs, values);
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Predictor.Engine;
using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;

namespace Predictor.Hosting.Tests;

public sealed class AddPredictorTests
{
    private static IHost Build(Action<IServiceCollection> configure)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        configure(builder.Services);
        return builder.Build();
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        for (var i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "condition not reached within 30 s");
    }

    [Fact]
    public void AddPredictor_CalledTwice_RegistersOneLoop()
    {
        var services = new ServiceCollection();
        services.AddPredictor(o => o.TickInterval = TimeSpan.FromMilliseconds(50));
        services.AddPredictor(o => o.InferenceEveryTicks = 3);
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<PredictorOptions>));
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<PredictorOptions>>().Value;
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.TickInterval);
        Assert.Equal(3, options.InferenceEveryTicks);
    }

    [Fact]
    public void AddPredictor_OwnFactoryRegisteredFirst_IsKept()
    {
        var services = new ServiceCollection();
        var mine = new FakeSetupFactory();
        services.AddSingleton<IControlLoopSetupFactory>(mine);
        services.AddPredictor();
        using var provider = services.BuildServiceProvider();
        Assert.Same(mine, provider.GetRequiredService<IControlLoopSetupFactory>());
    }

    [Fact]
    public void PredictorOptions_Defaults_AreTheDocumentedOnes()
    {
        var options = new PredictorOptions();
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.TickInterval);
        Assert.Equal(BackendKind.DryRun, options.Backend);
        Assert.Equal(PolicyKind.Predictive, options.Policy);
    }

    [Fact]
    public async Task Start_InvalidTickInterval_FailsTheStartNamingTheOption()
    {
        using var host = Build(s => s.AddPredictor(o => o.TickInterval = TimeSpan.Zero).AddSingleton<IControlLoopSetupFactory>(new FakeSetupFactory()));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Predictor:TickInterval", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnusableModelFile_FallsBackToTheNaiveForecasterAndRuns()
    {
        var model = Path.GetTempFileName();
        try
        {
            File.WriteAllText(model, "not an onnx model");
            var factory = new FakeSetupFactory();
            using var host = Build(s => s
                .AddPredictor(o =>
                {
                    o.ModelPaths.Add(model);
                    o.TickInterval = TimeSpan.FromMilliseconds(20);
                    o.InferenceEveryTicks = 5;
                })
                .AddSingleton<IControlLoopSetupFactory>(factory));
            await host.StartAsync();
            var forecaster = Assert.Single(factory.Forecasters!);
            Assert.Equal(TimeSpan.FromMilliseconds(100), forecaster.Shape.Step); // naive: step = tick × k
            await host.StopAsync();
        }
        finally
        {
            File.Delete(model);
        }
    }

    [Fact]
    public async Task Start_NoModelConfigured_LoadsTheNaiveForecaster()
    {
        var factory = new FakeSetupFactory();
        using var host = Build(s => s.AddPredictor().AddSingleton<IControlLoopSetupFactory>(factory));
        await host.StartAsync();
        var forecaster = Assert.Single(factory.Forecasters!);
        Assert.Equal(TimeSpan.FromSeconds(1), forecaster.Shape.Step);
        await host.StopAsync();
    }

    [Fact]
    public async Task Run_ModelsLoadedInStartAsync_BeforeTheFirstTick()
    {
        var model = Path.GetTempFileName();
        try
        {
            var loader = new FakeLoader();
            var factory = new FakeSetupFactory();
            using var host = Build(s => s
                .AddPredictor(o => o.ModelPaths.Add(model))
                .AddSingleton<IControlLoopSetupFactory>(factory)
                .AddSingleton<IModelLoader>(loader));
            await host.StartAsync();
            Assert.Equal([model], loader.Loaded);
            Assert.Single(factory.Forecasters!);
            await host.StopAsync();
        }
        finally
        {
            File.Delete(model);
        }
    }

    [Fact]
    public async Task Run_TicksOnTheTimerAndGracefulStopFlushesEverySample()
    {
        var store = new FakeStore();
        var factory = new FakeSetupFactory();
        var log = new DecisionLogBuffer();
        using var host = Build(s => s
            .AddPredictor(o => o.TickInterval = TimeSpan.FromMilliseconds(10))
            .AddSingleton<IControlLoopSetupFactory>(factory)
            .AddSingleton<ISampleStore>(store)
            .AddSingleton<IDecisionLog>(log));
        await host.StartAsync();
        var service = host.Services.GetRequiredService<PredictorService>();
        await WaitFor(() => service.Loop!.Ticks >= 10);
        await host.StopAsync();

        var ticks = service.Loop!.Ticks;
        Assert.Equal(ticks - service.Loop.DroppedSamples, store.Appended);
        Assert.True(store.FlushedAfterLastAppend);
        Assert.Equal(ticks, log.Count);
        Assert.True(factory.Backend.Disposed);
    }

    private sealed class FakeSetupFactory : IControlLoopSetupFactory
    {
        public CountingBackend Backend { get; } = new();

        public IReadOnlyList<IForecaster>? Forecasters { get; private set; }

        public ControlLoopSetup Create(PredictorOptions options, IReadOnlyList<IForecaster> forecasters)
        {
            Forecasters = forecasters;
            return new ControlLoopSetup
            {
                Series = ["u", "s"],
                Memory = new PartitionBinding(ResourceKind.Memory, 1000, 0, 1),
                Cpu = new PartitionBinding(ResourceKind.Cpu, 1000, 0, 1),
                MemoryPolicy = PartitionPolicies.Threshold(),
                CpuPolicy = PartitionPolicies.Threshold(),
                Source = new ConstantSource(),
                Backend = Backend,
            };
        }
    }

    private sealed class ConstantSource : ISampleSource
    {
        public void Read(long timestampMs, Span<double> values) => values.Fill(300);
    }

    private sealed class CountingBackend : IExecutionBackend
    {
        public bool Disposed { get; private set; }

        public BackendReport Apply(Decision decision) => default;

        public void Dispose() => Disposed = true;
    }

    private sealed class FakeStore : ISampleStore
    {
        private readonly Lock _gate = new();
        private long _appended;
        private bool _flushedAfterLast;

        public long Appended
        {
            get
            {
                lock (_gate)
                {
                    return _appended;
                }
            }
        }

        public bool FlushedAfterLastAppend
        {
            get
            {
                lock (_gate)
                {
                    return _flushedAfterLast;
                }
            }
        }

        public void Append(long timestampMs, ReadOnlySpan<double> values)
        {
            lock (_gate)
            {
                _appended++;
                _flushedAfterLast = false;
            }
        }

        public void Flush()
        {
            lock (_gate)
            {
                _flushedAfterLast = true;
            }
        }
    }

    private sealed class FakeLoader : IModelLoader
    {
        public List<string?> Loaded { get; } = [];

        public IForecaster Load(string? path)
        {
            Loaded.Add(path);
            return new NullForecaster();
        }
    }

    private sealed class NullForecaster : IForecaster
    {
        public ForecastShape Shape { get; } = new(2, 1, 0, TimeSpan.FromMilliseconds(10), 0.9);

        public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper)
        {
            forecast.Clear();
            upper.Clear();
        }

        public void Dispose()
        {
        }
    }
}

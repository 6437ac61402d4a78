using Microsoft.Extensions.DependencyInjection;
using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Hosting.Tests;

/// <summary>The default setup built straight from the factory, on this host's /proc.</summary>
public sealed class DefaultSetupFactoryTests
{
    private static ControlLoopSetup Create(PredictorOptions options, params IForecaster[] forecasters) =>
        new DefaultSetupFactory(TimeProvider.System, new ServiceCollection().BuildServiceProvider()).Create(options, forecasters);

    private static void Release(ControlLoopSetup setup)
    {
        setup.Backend.Dispose();
        (setup.Source as IDisposable)?.Dispose();
    }

    [Fact]
    public void Create_HostDemand_BindsTheCollectorSeriesTheReadmeNames()
    {
        var setup = Create(new PredictorOptions { Backend = BackendKind.Simulated });
        try
        {
            Assert.Equal("host/mem/anon", setup.Series[setup.Memory.UserSeries]);
            Assert.Equal("host/mem/kernel", setup.Series[setup.Memory.SystemSeries]);
            Assert.Equal("host/cpu/user", setup.Series[setup.Cpu.UserSeries]);
            Assert.Equal("host/cpu/system", setup.Series[setup.Cpu.SystemSeries]);

            // Percent of all CPU time → millicores: 100 % is every CPU /proc/stat lists, i.e. the default CPU budget.
            Assert.Equal(setup.Cpu.Total, 100 * setup.Cpu.Scale, 9);
            Assert.Equal(DefaultSetupFactory.MemTotalBytes("/proc"), setup.Memory.Total);
            Assert.Empty(setup.Modules);
            Assert.Null(setup.Placement);
        }
        finally
        {
            Release(setup);
        }
    }

    [Fact]
    public void Create_ModuleRegistered_PlacesItOnOneLocationPerCpuWithItsCpuSeries()
    {
        var options = new PredictorOptions { Backend = BackendKind.Simulated };
        options.Modules.Add(new ModuleProcess("self", Environment.ProcessId));
        using var naive = ForecasterLoader.LoadOrFallback(null, fallback: new NaiveForecasterOptions { Step = TimeSpan.FromSeconds(1) }).Forecaster;
        var setup = Create(options, naive);
        try
        {
            var module = Assert.Single(setup.Modules);
            Assert.Equal("module/self/cpu", module.DemandSeries);
            Assert.Equal("module/self/cpu", setup.Series[Assert.Single(setup.ModuleSeries)]);
            Assert.Equal(DefaultSetupFactory.OnlineCpus("/proc"), setup.Locations.Count);
            Assert.All(setup.Locations, l => Assert.Single(l.CpuIds));
            Assert.NotNull(setup.Placement);
            Assert.Contains(setup.ModuleSeries[0], Assert.Single(setup.Models).Series);
        }
        finally
        {
            Release(setup);
        }
    }

    [Fact]
    public void RunOnce_HostedDefaultSteadyState_AllocatesNothing()
    {
        var options = new PredictorOptions { Backend = BackendKind.Simulated, Policy = PolicyKind.Threshold, TickInterval = TimeSpan.FromMilliseconds(30), InferenceEveryTicks = 2 };
        options.Modules.Add(new ModuleProcess("self", Environment.ProcessId));
        using var naive = ForecasterLoader.LoadOrFallback(null, fallback: new NaiveForecasterOptions { Step = TimeSpan.FromMilliseconds(60) }).Forecaster;
        var setup = Create(options, naive);
        var channel = new SampleChannel(setup.Series.Count, 64);
        setup.Sink = channel;
        try
        {
            using var loop = new ControlLoop(setup);
            for (var i = 0; i < 5; i++)
            {
                loop.RunOnce();
                channel.Drain(static (_, _) => { });
                Thread.Sleep(30); // the kernel's CPU counters move in 10 ms jiffies: let some pass between reads
            }

            long allocated = 0, held = 0;
            for (var i = 0; i < 20; i++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                var decision = loop.RunOnce();
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                held += decision.Held ? 1 : 0;
                channel.Drain(static (_, _) => { });
                Thread.Sleep(30);
            }

            Assert.Equal(0, held);
            Assert.Equal(0, allocated);
            Assert.Equal(ResourceKind.Memory, setup.Memory.Resource);
        }
        finally
        {
            Release(setup);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Hosting.Tests;

/// <summary>
/// The hosted default on this machine: the loop's series come from the engine's collectors over the real /proc, go
/// through the sample channel into the SQLite store with the decision log, and a graceful stop commits both.
/// Durations are short and every wait polls with a generous bound; nothing asserts on wall-clock speed.
/// </summary>
public sealed class HostedTelemetryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-hosted-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IHost Build(Action<IServiceCollection> configure)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        configure(builder.Services);
        return builder.Build();
    }

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        for (var i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), $"{what} not reached within 30 s");
    }

    private static Dictionary<long, double> Values(TimeSeriesStore store, string name)
    {
        var series = store.ReadRange(name, long.MinValue, long.MaxValue);
        var map = new Dictionary<long, double>();
        for (var i = 0; i < series.Count; i++)
        {
            map[series.Timestamps[i]] = series.Values[i];
        }

        return map;
    }

    private static double MemTotalBytes() =>
        double.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))[9..].Trim().TrimEnd('B', 'k').Trim(), CultureInfo.InvariantCulture) * 1024;

    [Fact]
    public async Task Run_OnThisHost_RecordsTheCollectorsSeriesAndTheDecisionsToTheStore()
    {
        var path = Path.Combine(_dir, "host.db");
        var log = new TimestampLog();
        using var host = Build(s => s
            .AddPredictor(o =>
            {
                o.TickInterval = TimeSpan.FromMilliseconds(20);
                o.InferenceEveryTicks = 5;
                o.Policy = PolicyKind.Threshold;
                o.StorePath = path;
            })
            .AddSingleton<IDecisionLog>(log));
        await host.StartAsync();
        var service = host.Services.GetRequiredService<PredictorService>();
        await WaitFor(() => service.Loop!.Ticks >= 15, "15 ticks");
        await host.StopAsync();

        var ticks = service.Loop!.Ticks;
        Assert.Equal(ticks, log.Count);
        Assert.Equal(0, service.Loop.DroppedSamples);
        Assert.Equal(0, service.StoreDroppedSamples);
        Assert.Equal(0, service.StoreDroppedDecisions);
        var tickTimes = log.DistinctTimestamps;

        using var store = TimeSeriesStore.Open(path);
        Assert.Equal("ok", store.CheckIntegrity());
        var names = store.ListSeries().Select(x => x.Info.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in new[]
        {
            "host/cpu/user", "host/cpu/nice", "host/cpu/system", "host/cpu/idle", "host/cpu/iowait", "host/cpu/irq",
            "host/cpu/softirq", "host/cpu/steal", "host/cpu/busy", "host/core/0/busy",
            "host/mem/total", "host/mem/free", "host/mem/available", "host/mem/used", "host/mem/buffers", "host/mem/cached",
            "host/mem/swap_used", "host/mem/anon", "host/mem/kernel",
        })
        {
            Assert.Contains(name, names);
        }

        Assert.Equal("percent", store.FindSeries("host/cpu/user")!.Info.Unit);
        Assert.Equal("bytes", store.FindSeries("host/mem/anon")!.Info.Unit);
        Assert.Equal(TimeSpan.FromMilliseconds(20), store.FindSeries("host/mem/anon")!.Info.Step);

        // Memory is read at every tick: one committed sample per tick, at the tick's own timestamp.
        var total = Values(store, "host/mem/total");
        Assert.Equal(tickTimes.Order(), total.Keys.Order());
        Assert.All(total.Values, v => Assert.Equal(MemTotalBytes(), v));
        foreach (var name in new[] { "host/mem/used", "host/mem/anon", "host/mem/kernel", "host/mem/available" })
        {
            Assert.All(Values(store, name).Values, v => Assert.InRange(v, 1, MemTotalBytes()));
        }

        // CPU is a rate between two reads: none at the first tick, then percentages of all CPU time that add up to 100.
        var modes = new[] { "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal" }
            .Select(m => Values(store, $"host/cpu/{m}")).ToArray();
        Assert.InRange(modes[0].Count, 1, tickTimes.Count - 1);
        Assert.DoesNotContain(tickTimes.Min(), modes[0].Keys);
        foreach (var t in modes[0].Keys)
        {
            Assert.Equal(100.0, modes.Sum(m => m[t]), 6);
            Assert.All(modes, m => Assert.InRange(m[t], 0, 100));
        }

        Assert.All(Values(store, "host/core/0/busy").Values, v => Assert.InRange(v, 0, 100));
        if (File.Exists("/proc/pressure/cpu"))
        {
            var psi = Values(store, "host/psi/cpu/some_avg10");
            Assert.Equal(tickTimes.Count, psi.Count);
            Assert.All(psi.Values, v => Assert.InRange(v, 0, 100));
        }
        else
        {
            Assert.Empty(Values(store, "host/psi/cpu/some_avg10"));
        }

        // The decision log: the first tick holds (CPU needs two reads), both resources, with the sentence saying why.
        var decisions = store.ReadDecisions(long.MinValue, long.MaxValue);
        var first = decisions.Where(d => d.TimestampMs == tickTimes.Min()).ToList();
        Assert.Equal(["partition/cpu", "partition/memory"], first.Select(d => d.Subject).Order());
        Assert.All(first, d =>
        {
            Assert.Equal("hold", d.Action);
            Assert.Contains("missing data: host/cpu/user", d.Reason, StringComparison.Ordinal);
        });
        Assert.All(decisions, d => Assert.Contains(d.TimestampMs, tickTimes));
    }

    [Fact]
    public async Task Run_ProcUnreadable_SaysSoOnceAndHoldsTheLastSafeStateWhileTicking()
    {
        var proc = Directory.CreateDirectory(Path.Combine(_dir, "proc")).FullName; // empty: no stat, meminfo, pressure
        var path = Path.Combine(_dir, "held.db");
        var text = new StringWriter(CultureInfo.InvariantCulture);
        var console = TextWriter.Synchronized(text); // the loop writes from its own thread
        using var host = Build(s => s
            .AddSingleton(new PredictorConsole(console))
            .AddPredictor(o =>
            {
                o.TickInterval = TimeSpan.FromMilliseconds(20);
                o.ProcRoot = proc;
                o.MemoryBudgetBytes = 1L << 30;
                o.CpuBudgetMillicores = 2000;
                o.StorePath = path;
            }));
        await host.StartAsync();
        var service = host.Services.GetRequiredService<PredictorService>();
        await WaitFor(() => service.Loop!.Ticks >= 10, "10 ticks");
        await host.StopAsync();

        var ticks = service.Loop!.Ticks;
        Assert.True(service.Loop.LastDecision.Held);
        Assert.Contains("missing data", service.Loop.LastDecision.Detail, StringComparison.Ordinal);
        var lines = text.ToString().Split('\n');
        var problems = lines.Where(l => l.StartsWith("collector: ", StringComparison.Ordinal)).ToList();
        Assert.Single(problems, p => p.Contains($"'{Path.Combine(proc, "meminfo")}'", StringComparison.Ordinal));
        Assert.Single(problems, p => p.Contains($"'{Path.Combine(proc, "stat")}'", StringComparison.Ordinal));
        Assert.Equal(problems.Count, problems.Distinct(StringComparer.Ordinal).Count());

        using var store = TimeSeriesStore.Open(path);
        var decisions = store.ReadDecisions(long.MinValue, long.MaxValue);
        Assert.Equal(2 * ticks, decisions.Count); // every tick holds both resources, and says so
        Assert.All(decisions, d => Assert.Equal("hold", d.Action));
        Assert.Empty(store.ReadRange("host/mem/anon", long.MinValue, long.MaxValue).Timestamps);
    }

    [Fact]
    public async Task Run_ModuleProcessRegistered_RecordsItsSeriesFromTheProcessCollector()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var path = Path.Combine(_dir, "module.db");
            var log = new TimestampLog();
            using var host = Build(s => s.AddPredictor(o =>
            {
                o.TickInterval = TimeSpan.FromMilliseconds(20);
                o.Backend = BackendKind.Simulated;
                o.StorePath = path;
                o.Modules.Add(new ModuleProcess("sleeper", child.Id));
            }).AddSingleton<IDecisionLog>(log));
            await host.StartAsync();
            var service = host.Services.GetRequiredService<PredictorService>();
            await WaitFor(() => service.Loop!.Ticks >= 10, "10 ticks");
            await host.StopAsync();
            Assert.Equal(1, service.Loop!.Assignment.Length);

            using var store = TimeSeriesStore.Open(path);
            var mem = Values(store, "module/sleeper/mem");
            // One sample per tick, at the tick's timestamp (on a loaded machine a late tick can share its millisecond
            // with the next, and the store keeps one sample per timestamp).
            Assert.Equal(service.Loop.Ticks, log.Count);
            Assert.Equal(log.DistinctTimestamps.Count, mem.Count);
            Assert.Superset(log.DistinctTimestamps, mem.Keys.ToHashSet());
            Assert.All(mem.Values, v => Assert.InRange(v, 4096, 1L << 30)); // VmRSS of sleep: some pages, far below 1 GiB
            Assert.All(Values(store, "module/sleeper/threads").Values, v => Assert.Equal(1, v));
            var cpu = Values(store, "module/sleeper/cpu");
            Assert.NotEmpty(cpu);
            Assert.All(cpu.Values, v => Assert.InRange(v, 0, 0.5)); // it sleeps
            Assert.Equal("cores", store.FindSeries("module/sleeper/cpu")!.Info.Unit);
        }
        finally
        {
            child.Kill();
            await child.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Run_LinuxBackend_RecordsThePartitionCgroupsUsageAndRemovesThemOnStop()
    {
        // Needs root (the Linux backend creates cgroups); CI runs as root. Not root, the start fails saying so.
        var group = $"predictor-hosted-{Guid.NewGuid():N}"[..28];
        var path = Path.Combine(_dir, "linux.db");
        var text = new StringWriter(CultureInfo.InvariantCulture);
        var console = TextWriter.Synchronized(text); // the loop writes from its own thread
        using var host = Build(s => s
            .AddSingleton(new PredictorConsole(console))
            .AddPredictor(o =>
            {
                o.TickInterval = TimeSpan.FromMilliseconds(20);
                o.Backend = BackendKind.Linux;
                o.Policy = PolicyKind.Threshold;
                o.CgroupName = group;
                o.StorePath = path;
            }));
        await host.StartAsync();
        var service = host.Services.GetRequiredService<PredictorService>();
        await WaitFor(() => service.Loop!.Ticks >= 10, "10 ticks");
        await host.StopAsync();

        Assert.False(Directory.Exists(Path.Combine("/sys/fs/cgroup/memory", group)), "the backend's cgroups are removed on stop");
        using var store = TimeSeriesStore.Open(path);
        // Every tick reads host memory and the partitions' memory at the same timestamp (on a loaded machine a late
        // tick can share its millisecond with the next, and the store keeps one sample per timestamp: at most two).
        var tickTimes = Values(store, "host/mem/total").Keys.ToHashSet();
        Assert.InRange(tickTimes.Count, (service.Loop!.Ticks + 1) / 2, service.Loop!.Ticks);
        foreach (var partition in new[] { "user", "system" })
        {
            var mem = Values(store, $"partition/{partition}/mem");
            Assert.Equal(tickTimes, mem.Keys.ToHashSet());
            Assert.All(mem.Values, v => Assert.InRange(v, 0, MemTotalBytes()));
            // CPU use is read wherever cpuacct lives (here its own v1 mount, where the backend makes a group too);
            // the first tick only sets the baseline.
            var cpu = Values(store, $"partition/{partition}/cpu");
            var problems = text.ToString().Split('\n').Count(l => l.StartsWith("collector: ", StringComparison.Ordinal) && l.Contains($"{group}/{partition}/", StringComparison.Ordinal));
            Assert.InRange(cpu.Count, tickTimes.Count - 1, tickTimes.Count); // the first tick's time may be shared with the second's
            Assert.Subset(tickTimes, cpu.Keys.ToHashSet());
            Assert.All(cpu.Values, v => Assert.InRange(v, 0, Environment.ProcessorCount + 0.5));
            Assert.Equal(0, problems);
        }

        // The policies' demand is the host's (PartitionDemand.Host): an unreadable cgroup file does not stop control.
        // A held tick logs both resources; fewer hold rows than 2 per tick means some ticks decided on real data.
        var holds = store.ReadDecisions(long.MinValue, long.MaxValue).Count(d => d.Action == "hold");
        Assert.InRange(holds, 2, (2 * service.Loop!.Ticks) - 1);
    }

    [Fact]
    public async Task Run_CgroupDemand_SizesByThePartitionsCgroups()
    {
        // Needs root, like every Linux-backend test. The policies read partition/{user,system}/{mem,cpu}.
        var group = $"predictor-demand-{Guid.NewGuid():N}"[..28];
        var path = Path.Combine(_dir, "demand.db");
        using var host = Build(s => s.AddPredictor(o =>
        {
            o.TickInterval = TimeSpan.FromMilliseconds(20);
            o.Backend = BackendKind.Linux;
            o.PartitionDemand = PartitionDemand.Cgroups;
            o.Policy = PolicyKind.Threshold;
            o.CgroupName = group;
            o.StorePath = path;
        }));
        await host.StartAsync();
        var service = host.Services.GetRequiredService<PredictorService>();
        await WaitFor(() => service.Loop!.Ticks >= 10, "10 ticks");
        await host.StopAsync();

        using var store = TimeSeriesStore.Open(path);
        var decisions = store.ReadDecisions(long.MinValue, long.MaxValue);
        var holds = decisions.Count(d => d.Action == "hold");

        // The partitions' CPU use is read (on this host from the separately mounted cpuacct hierarchy), so only the
        // first tick (CPU needs two reads) holds for missing data; the ticks after it decide.
        Assert.Equal(service.Loop!.Ticks - 1, store.ReadRange("partition/user/cpu", long.MinValue, long.MaxValue).Count);
        Assert.InRange(holds, 2, (2 * service.Loop!.Ticks) - 1);
        Assert.DoesNotContain(decisions, d => d.Reason.Contains("missing data", StringComparison.Ordinal) && d.TimestampMs != decisions.Min(x => x.TimestampMs));
    }

    [Fact]
    public void Validate_CgroupDemandWithoutTheLinuxBackend_NamesTheOptions()
    {
        var services = new ServiceCollection().AddPredictor(o => o.PartitionDemand = PartitionDemand.Cgroups);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PredictorOptions>>().Value);
        Assert.Contains("Predictor:PartitionDemand = Cgroups needs Predictor:Backend = Linux", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    public void Validate_CgroupNameThatIsNotOneSegment_NamesTheOption(string name)
    {
        // Refused by the options, before the Linux backend is ever built.
        var services = new ServiceCollection().AddPredictor(o => o.CgroupName = name);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PredictorOptions>>().Value);
        Assert.Contains($"Predictor:CgroupName '{name}' is not a cgroup name", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Counts decisions and keeps the tick timestamps (the store must hold one memory sample per tick time).</summary>
    private sealed class TimestampLog : IDecisionLog
    {
        private readonly Lock _gate = new();
        private readonly List<long> _times = [];

        public long Count
        {
            get
            {
                lock (_gate)
                {
                    return _times.Count;
                }
            }
        }

        public HashSet<long> DistinctTimestamps
        {
            get
            {
                lock (_gate)
                {
                    return [.. _times];
                }
            }
        }

        public void Append(long timestampMs, Decision decision, in BackendReport report)
        {
            lock (_gate)
            {
                _times.Add(timestampMs);
            }
        }
    }
}

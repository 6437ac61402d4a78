using System.Globalization;
using Microsoft.Extensions.Logging;
using Predictor.Engine.Backends;
using Predictor.Engine.Backends.Linux;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Hosting;

/// <summary>
/// The host setup. Series: every series of the engine's telemetry collectors (<see cref="HostCollectorSource"/>),
/// all recorded. Partitions: memory and CPU over the whole host (or the configured budgets); their demand is
/// <c>host/mem/anon</c> and <c>host/mem/kernel</c> (bytes) and <c>host/cpu/user</c> and <c>host/cpu/system</c>
/// (percent of all CPU time, scaled to millicores), or with <see cref="PartitionDemand.Cgroups"/> the usage of the
/// Linux backend's own cgroups <c>partition/{user,system}/{mem,cpu}</c> (collected and recorded whenever the Linux
/// backend runs). Modules (<see cref="PredictorOptions.Modules"/>): watched by the
/// per-process collector and placed on one location per CPU. Every loaded model forecasts the four demand series and
/// each module's CPU series.
/// </summary>
internal sealed class DefaultSetupFactory : IControlLoopSetupFactory
{
    /// <summary>CPU a module is assumed to need before it has a forecast (cores).</summary>
    private const double ModuleFootprintCores = 0.1;

    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly PredictorConsole? _console;

    public DefaultSetupFactory(TimeProvider time, IServiceProvider services)
    {
        _time = time;
        _loggers = (ILoggerFactory?)services.GetService(typeof(ILoggerFactory)) ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        _console = (PredictorConsole?)services.GetService(typeof(PredictorConsole));
    }

    public ControlLoopSetup Create(PredictorOptions options, IReadOnlyList<IForecaster> forecasters)
    {
        var cpus = OnlineCpus(options.ProcRoot);
        var memory = options.MemoryBudgetBytes ?? MemTotalBytes(options.ProcRoot);
        var cpu = options.CpuBudgetMillicores ?? (cpus * 1000L);
        var locations = options.Modules.Count == 0
            ? (IReadOnlyList<HardwareLocation>)[]
            : [.. Enumerable.Range(0, cpus).Select(c => new HardwareLocation(
                string.Create(CultureInfo.InvariantCulture, $"core{c}"), LocationKind.CoreSet, [c], 0, 1.0, memory / cpus, new HashSet<string>(StringComparer.Ordinal)))];
        var modules = options.Modules
            .Select(m => new ModuleSpec(m.Name, $"module/{SeriesNames.Segment(m.Name)}/cpu", ModuleFootprintCores, 0, 0, new HashSet<string>(StringComparer.Ordinal)))
            .ToArray();
        var initial = modules.Length == 0 ? [] : Placements.Initial(locations, modules, modules.Select(m => m.CpuFootprint).ToArray());

        // The Linux backend creates its cgroups first: the cgroup collector picks v1 or v2 by the files it finds.
        var backend = CreateBackend(options, modules, locations, initial, memory, cpu);
        HostCollectorSource source;
        try
        {
            var problems = _loggers.CreateLogger("Predictor.Telemetry");
            var telemetry = new HostTelemetryOptions
            {
                ProcRoot = options.ProcRoot,
                CgroupRoot = options.CgroupRoot,
                Step = options.TickInterval,
                OnProblem = message =>
                {
                    problems.LogWarning("Collector: {Problem}", message);
                    _console?.Writer.WriteLine($"collector: {message}");
                },
            };
            foreach (var module in options.Modules)
            {
                telemetry.Modules.Add(module);
            }

            if (backend is LinuxBackend)
            {
                telemetry.Partitions.Add(new CgroupPartition("user", $"{options.CgroupName}/user"));
                telemetry.Partitions.Add(new CgroupPartition("system", $"{options.CgroupName}/system"));
            }

            source = new HostCollectorSource(telemetry, _time);
        }
        catch
        {
            backend.Dispose();
            throw;
        }

        var cgroups = options.PartitionDemand == PartitionDemand.Cgroups;
        var memoryBinding = new PartitionBinding(ResourceKind.Memory, memory,
            source.IndexOf(cgroups ? "partition/user/mem" : "host/mem/anon"),
            source.IndexOf(cgroups ? "partition/system/mem" : "host/mem/kernel"));

        // host/cpu/* are percent of all CPU time: 1 % of `cpus` CPUs is cpus × 10 millicores. partition/*/cpu are cores.
        var cpuBinding = new PartitionBinding(ResourceKind.Cpu, cpu,
            source.IndexOf(cgroups ? "partition/user/cpu" : "host/cpu/user"),
            source.IndexOf(cgroups ? "partition/system/cpu" : "host/cpu/system"),
            Scale: cgroups ? 1000 : cpus * 10.0);
        var moduleSeries = modules.Select(m => source.IndexOf(m.DemandSeries)).ToArray();
        if (backend is SimulatedBackend simulated)
        {
            source.FeedSimulated(simulated, memoryBinding, cpuBinding, moduleSeries);
        }

        int[] modelSeries = [memoryBinding.UserSeries, memoryBinding.SystemSeries, cpuBinding.UserSeries, cpuBinding.SystemSeries, .. moduleSeries];
        return new ControlLoopSetup
        {
            Series = source.Series,
            Memory = memoryBinding,
            Cpu = cpuBinding,
            MemoryPolicy = Policy(options.Policy),
            CpuPolicy = Policy(options.Policy),
            Modules = modules,
            ModuleSeries = moduleSeries,
            Locations = locations,
            InitialAssignment = initial,
            Placement = modules.Length == 0 ? null : Placements.Planner(locations, modules),
            Models = [.. forecasters.Select(f => new ModelBinding(f, modelSeries))],
            Source = source,
            Backend = backend,
            Time = _time,
            Log = _console is null ? null : new TextDecisionLog(_console.Writer),
            InferenceEveryTicks = options.InferenceEveryTicks,
        };
    }

    /// <summary>MemTotal of <c>&lt;proc&gt;/meminfo</c> in bytes (the default memory budget); read once at start.</summary>
    internal static long MemTotalBytes(string procRoot)
    {
        var path = Path.Combine(procRoot, "meminfo");
        var lines = File.Exists(path) ? File.ReadLines(path) : [];
        foreach (var line in lines)
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal) &&
                long.TryParse(line.AsSpan(9).Trim().TrimEnd("kB").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
            {
                return kib * 1024;
            }
        }

        throw new Engine.PredictorException($"{path} has no MemTotal line, so the memory budget is unknown; set Predictor:MemoryBudgetBytes.");
    }

    /// <summary>CPUs /proc/stat counts (its <c>cpuN</c> lines: the host/cpu percentages are of all of them); the process's count when it cannot be read.</summary>
    internal static int OnlineCpus(string procRoot)
    {
        var path = Path.Combine(procRoot, "stat");
        var count = File.Exists(path)
            ? File.ReadLines(path).Count(l => l.Length > 3 && l.StartsWith("cpu", StringComparison.Ordinal) && char.IsAsciiDigit(l[3]))
            : 0;
        return count > 0 ? count : Environment.ProcessorCount;
    }

    private IExecutionBackend CreateBackend(PredictorOptions options, ModuleSpec[] modules, IReadOnlyList<HardwareLocation> locations, int[] initial, long memory, long cpu)
    {
        switch (options.Backend)
        {
            case BackendKind.Simulated:
                return new SimulatedBackend(locations, initial, PartitionSplit.Even(memory), PartitionSplit.Even(cpu));
            case BackendKind.Linux:
                var linux = new LinuxBackend(new LinuxBackendOptions { GroupName = options.CgroupName }, locations);
                for (var m = 0; m < options.Modules.Count; m++)
                {
                    linux.AttachModule(m, options.Modules[m].Pid);
                }

                return linux;
            default:
                return new DryRunBackend(_console?.Writer ?? new LoggerTextWriter(_loggers.CreateLogger("Predictor.DryRun")), modules, locations);
        }
    }

    private static IPartitionPolicy Policy(PolicyKind kind) => kind switch
    {
        PolicyKind.Threshold => PartitionPolicies.Threshold(),
        PolicyKind.VpaStyle => PartitionPolicies.VpaStyle(),
        PolicyKind.AutopilotStyle => PartitionPolicies.AutopilotStyle(),
        _ => PartitionPolicies.Predictive(),
    };
}

/// <summary>A TextWriter whose lines go to a logger at Information (for the dry-run backend's lines).</summary>
internal sealed class LoggerTextWriter : StringWriter
{
    private readonly ILogger _logger;

    public LoggerTextWriter(ILogger logger)
        : base(System.Globalization.CultureInfo.InvariantCulture) => _logger = logger;

    public override void WriteLine(string? value) => _logger.LogInformation("{Line}", value);
}

/// <summary>Logs decisions that changed something or held, at Information (holds at Warning with the reason).</summary>
internal sealed class LoggingDecisionLog : IDecisionLog
{
    private readonly ILogger _logger;
    private PartitionSplit _memory;
    private PartitionSplit _cpu;

    public LoggingDecisionLog(ILogger logger) => _logger = logger;

    public void Append(long timestampMs, Decision decision, in BackendReport report)
    {
        if (decision.Held)
        {
            _logger.LogWarning("Tick {Time}: held the last safe state: {Why}", timestampMs, decision.Detail);
            return;
        }

        var memory = decision[ResourceKind.Memory];
        var cpu = decision[ResourceKind.Cpu];
        if (memory != _memory || cpu != _cpu || decision.MigrationCount > 0)
        {
            _memory = memory;
            _cpu = cpu;
            _logger.LogInformation("Tick {Time}: memory {Memory}; cpu {Cpu}; {Migrations} migrations; reasons {Reasons}",
                timestampMs, memory, cpu, decision.MigrationCount, decision.Reasons);
        }

        if (report.Failures > 0)
        {
            _logger.LogWarning("Tick {Time}: backend refused {Failures} actions: {First}", timestampMs, report.Failures, report.FirstFailure);
        }
    }
}

using Microsoft.Extensions.Logging;
using Predictor.Engine.Backends;
using Predictor.Engine.Backends.Linux;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;

namespace Predictor.Hosting;

/// <summary>
/// The host setup: the four host series (<see cref="HostUsageSource"/>), memory and CPU partitions over the whole
/// host (or the configured budgets), the configured policy, the backend, and every loaded model forecasting all
/// four series. No modules: module placement comes with a setup that names modules and their processes.
/// </summary>
internal sealed class DefaultSetupFactory : IControlLoopSetupFactory
{
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
        var memory = options.MemoryBudgetBytes ?? HostUsageSource.MemTotalBytes();
        var cpu = options.CpuBudgetMillicores ?? (Environment.ProcessorCount * 1000L);
        ISampleSource source = new HostUsageSource();
        IExecutionBackend backend;
        switch (options.Backend)
        {
            case BackendKind.Simulated:
                var simulated = new SimulatedBackend([], [], PartitionSplit.Even(memory), PartitionSplit.Even(cpu));
                source = new DemandFeedingSource(source, simulated, 1000);
                backend = simulated;
                break;
            case BackendKind.Linux:
                backend = new LinuxBackend(new LinuxBackendOptions { GroupName = options.CgroupName }, []);
                break;
            default:
                backend = new DryRunBackend(_console?.Writer ?? new LoggerTextWriter(_loggers.CreateLogger("Predictor.DryRun")), [], []);
                break;
        }

        return new ControlLoopSetup
        {
            Series = HostUsageSource.SeriesNames,
            Memory = new PartitionBinding(ResourceKind.Memory, memory, 0, 1),
            Cpu = new PartitionBinding(ResourceKind.Cpu, cpu, 2, 3, Scale: 1000),
            MemoryPolicy = Policy(options.Policy),
            CpuPolicy = Policy(options.Policy),
            Models = [.. forecasters.Select(f => new ModelBinding(f, [0, 1, 2, 3]))],
            Source = source,
            Backend = backend,
            Time = _time,
            Log = _console is null ? null : new TextDecisionLog(_console.Writer),
            InferenceEveryTicks = options.InferenceEveryTicks,
        };
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

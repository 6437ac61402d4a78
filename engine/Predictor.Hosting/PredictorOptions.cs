using System.Globalization;
using Microsoft.Extensions.Options;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Hosting;

/// <summary>Which backend carries out decisions.</summary>
public enum BackendKind
{
    /// <summary>Logs what it would do; touches nothing.</summary>
    DryRun,

    /// <summary>An in-memory machine fed with the live samples; reports demand that did not fit.</summary>
    Simulated,

    /// <summary>cgroup v1 partitions and sched_setaffinity on this host (root).</summary>
    Linux,
}

/// <summary>Which partition policy the hosted loop runs.</summary>
public enum PolicyKind
{
    /// <summary>The forecast-driven policy (falls back to holding when there is no forecast yet).</summary>
    Predictive,

    /// <summary>The seed's threshold algorithm.</summary>
    Threshold,

    /// <summary>VPA-style recommender.</summary>
    VpaStyle,

    /// <summary>Autopilot-style moving window.</summary>
    AutopilotStyle,
}

/// <summary>What the partition policies take as the user and system partitions' use.</summary>
public enum PartitionDemand
{
    /// <summary>
    /// The host's: memory user = <c>host/mem/anon</c>, system = <c>host/mem/kernel</c> (bytes); CPU user =
    /// <c>host/cpu/user</c>, system = <c>host/cpu/system</c> (percent of all CPU time, scaled to millicores).
    /// </summary>
    Host,

    /// <summary>
    /// The Linux backend's own cgroups: <c>partition/{user,system}/{mem,cpu}</c> (what runs in them). Linux backend only;
    /// a cgroup file that cannot be read (e.g. no cpuacct controller at all) makes the loop hold.
    /// </summary>
    Cgroups,
}

/// <summary>Options of the hosted control loop. Validated when the host starts (ValidateOnStart).</summary>
public sealed class PredictorOptions
{
    /// <summary>Time between two ticks.</summary>
    /// <value>The default value is 100 ms.</value>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Inference runs every this many ticks.</summary>
    /// <value>The default value is 10.</value>
    public int InferenceEveryTicks { get; set; } = 10;

    /// <summary>The backend.</summary>
    /// <value>The default value is <see cref="BackendKind.DryRun"/>.</value>
    public BackendKind Backend { get; set; } = BackendKind.DryRun;

    /// <summary>The partition policy for both resources.</summary>
    /// <value>The default value is <see cref="PolicyKind.Predictive"/>.</value>
    public PolicyKind Policy { get; set; } = PolicyKind.Predictive;

    /// <summary>ONNX model files loaded in StartAsync; empty uses the naive forecaster (step = tick × InferenceEveryTicks).
    /// A model that cannot be used falls back to the naive forecaster, with the reason logged.</summary>
    /// <value>The default value is empty.</value>
    public IList<string> ModelPaths { get; } = [];

    /// <summary>Where the partition policies' demand comes from.</summary>
    /// <value>The default value is <see cref="PartitionDemand.Host"/>.</value>
    public PartitionDemand PartitionDemand { get; set; } = PartitionDemand.Host;

    /// <summary>Memory budget split between the partitions, bytes; null = the host's MemTotal.</summary>
    /// <value>The default value is null.</value>
    public long? MemoryBudgetBytes { get; set; }

    /// <summary>CPU budget, millicores; null = 1000 × the CPUs available.</summary>
    /// <value>The default value is null.</value>
    public long? CpuBudgetMillicores { get; set; }

    /// <summary>cgroup name under each hierarchy for the Linux backend.</summary>
    /// <value>The default value is <c>predictor</c>.</value>
    public string CgroupName { get; set; } = "predictor";

    /// <summary>Every how many ticks samples waiting for the store are drained and flushed.</summary>
    /// <value>The default value is 10.</value>
    public int StoreFlushEveryTicks { get; set; } = 10;

    /// <summary>
    /// SQLite store file (created if missing) that receives every collected series each tick and the decision log;
    /// null records nothing (an <c>ISampleStore</c> you register still receives samples). Series are registered with
    /// step = <see cref="TickInterval"/>: a store that already holds a host series at another step refuses the start.
    /// </summary>
    /// <value>The default value is null.</value>
    public string? StorePath { get; set; }

    /// <summary>
    /// How long the store of <see cref="StorePath"/> keeps what it recorded: chunks of samples whose last sample is older,
    /// and older decision-log records, are deleted at the start and then every hour (every quarter of the retention when
    /// that is shorter), so a service that runs for months keeps a bounded file (SQLite reuses the freed pages). Null
    /// keeps everything: a 100 ms recording of this host's ~40 series grows by about 120 MB a day. Keep at least the
    /// longest model window (a day for 288 five-minute steps), or a restart fills only part of it from the store.
    /// </summary>
    /// <value>The default value is null (keep everything).</value>
    public TimeSpan? StoreRetention { get; set; }

    /// <summary>
    /// Module processes: each is watched by the per-process collector (<c>module/&lt;name&gt;/cpu|mem|threads</c>)
    /// and placed on this host's cores by the placement planner (the Linux backend pins its threads).
    /// </summary>
    /// <value>The default value is empty.</value>
    public IList<ModuleProcess> Modules { get; } = [];

    /// <summary>Where procfs is mounted (e.g. <c>/host/proc</c> in a container).</summary>
    /// <value>The default value is <c>/proc</c>.</value>
    public string ProcRoot { get; set; } = "/proc";

    /// <summary>Where cgroups are mounted, for the partitions' usage under the Linux backend.</summary>
    /// <value>The default value is <c>/sys/fs/cgroup</c>.</value>
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";
}

/// <summary>Checks <see cref="PredictorOptions"/>; each failure names the option and the accepted range.</summary>
internal sealed class PredictorOptionsValidator : IValidateOptions<PredictorOptions>
{
    public ValidateOptionsResult Validate(string? name, PredictorOptions options)
    {
        var failures = new List<string>();
        if (options.TickInterval < TimeSpan.FromMilliseconds(1) || options.TickInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"Predictor:TickInterval = {options.TickInterval} is out of range: use 1 ms to 10 min (default 100 ms).");
        }

        if (options.InferenceEveryTicks < 1)
        {
            failures.Add($"Predictor:InferenceEveryTicks = {options.InferenceEveryTicks.ToString(CultureInfo.InvariantCulture)} is out of range: use 1 or more.");
        }

        if (options.StoreFlushEveryTicks < 1)
        {
            failures.Add($"Predictor:StoreFlushEveryTicks = {options.StoreFlushEveryTicks.ToString(CultureInfo.InvariantCulture)} is out of range: use 1 or more.");
        }

        if (options.MemoryBudgetBytes is <= 0 || options.CpuBudgetMillicores is <= 0)
        {
            failures.Add("Predictor:MemoryBudgetBytes and CpuBudgetMillicores must be positive when set (or null for the whole host).");
        }

        if (string.IsNullOrWhiteSpace(options.CgroupName) || options.CgroupName.IndexOfAny(['/', '\0']) >= 0 || options.CgroupName is "." or "..")
        {
            failures.Add($"Predictor:CgroupName '{options.CgroupName}' is not a cgroup name: use one path segment, not '.' or '..' (e.g. predictor).");
        }

        if (!Enum.IsDefined(options.Backend) || !Enum.IsDefined(options.Policy) || !Enum.IsDefined(options.PartitionDemand))
        {
            failures.Add("Predictor:Backend, Predictor:Policy or Predictor:PartitionDemand is not a known value.");
        }

        if (options.PartitionDemand == PartitionDemand.Cgroups && options.Backend != BackendKind.Linux)
        {
            failures.Add($"Predictor:PartitionDemand = Cgroups needs Predictor:Backend = Linux (it reads the backend's cgroups); got {options.Backend}. Use Host, or the Linux backend.");
        }

        if (options.StorePath is { } store && (string.IsNullOrWhiteSpace(store) || Directory.Exists(store)))
        {
            failures.Add($"Predictor:StorePath '{store}' is not a file path: give a file such as predictor.db (or null to record nothing).");
        }

        if (options.StoreRetention is { } retention)
        {
            if (retention < StoreRetention.Minimum)
            {
                failures.Add($"Predictor:StoreRetention {retention} is too short: give at least 1 s, e.g. 14.00:00:00 for two weeks (or null to keep everything).");
            }
            else if (options.StorePath is null)
            {
                failures.Add("Predictor:StoreRetention is set but Predictor:StorePath is not: there is no store to keep for a while. Set both, or neither.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ProcRoot) || string.IsNullOrWhiteSpace(options.CgroupRoot))
        {
            failures.Add("Predictor:ProcRoot and Predictor:CgroupRoot must be directories (defaults /proc and /sys/fs/cgroup).");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var module in options.Modules)
        {
            if (module is null || module.Pid <= 0 || string.IsNullOrWhiteSpace(module.Name) || !names.Add(Engine.Telemetry.SeriesNames.Segment(module.Name)))
            {
                failures.Add($"Predictor:Modules: '{module?.Name}' (pid {module?.Pid.ToString(CultureInfo.InvariantCulture)}) needs a unique name and a positive pid.");
            }
        }

        foreach (var path in options.ModelPaths)
        {
            if (!File.Exists(path))
            {
                failures.Add($"Predictor:ModelPaths: '{path}' does not exist; give the path of an .onnx model (or none for the naive forecaster).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

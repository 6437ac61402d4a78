using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Import;

namespace Predictor.Engine.Replay;

/// <summary>Where a scenario's telemetry comes from: a store file or a trace path with its format.</summary>
/// <param name="StorePath">Absolute path of a SQLite store written by <c>predictor collect</c>/<c>import</c>, or null.</param>
/// <param name="TracePath">Absolute path of a trace file or folder, or null.</param>
/// <param name="Format">Format of the trace; null for a store.</param>
public sealed record ScenarioSource(string? StorePath, string? TracePath, TraceFormat? Format)
{
    /// <summary>
    /// Reads every series of the source: all of a store, or every file of a trace (a file, or the files of a folder
    /// in name order, hidden ones left out) through <see cref="TraceImporter"/>.
    /// </summary>
    /// <param name="scenarioFile">The scenario file, named in errors.</param>
    /// <exception cref="ScenarioException">The store holds no series, or the folder has no files.</exception>
    public IReadOnlyList<RecordedSeries> Read(string scenarioFile) => Read(scenarioFile, _ => true);

    /// <summary>
    /// Reads the source as <see cref="Read(string)"/> does, but decodes a store's samples only for the series
    /// <paramref name="wanted"/> accepts (<see cref="ScenarioOptions.Uses"/>): the others are listed by name with no
    /// samples, so a week of a host's recording is not read whole to replay two of its series, and an error about a
    /// pattern that matches nothing still lists every name. Trace files are imported whole either way.
    /// </summary>
    public IReadOnlyList<RecordedSeries> Read(string scenarioFile, Func<string, bool> wanted)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        if (StorePath is not null)
        {
            using var ts = OpenStore(scenarioFile);
            return [.. ts.ListSeries().Select(s => wanted(s.Info.Name)
                ? ts.ReadRange(s.Info.Name, long.MinValue, long.MaxValue)
                : new RecordedSeries(s.Info, [], []))];
        }

        var trace = TracePath!;
        var files = Directory.Exists(trace)
            ? Directory.GetFiles(trace).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList()
            : [trace];
        if (files.Count == 0)
        {
            throw new ScenarioException(scenarioFile, "$.source.trace", $"the folder '{trace}' has no files; point \"trace\" at a trace file or a folder of them.");
        }

        List<RecordedSeries> series;
        try
        {
            series = [.. files.SelectMany(f => TraceImporter.Import(Format!.Value, f).Series)];
        }
        catch (TraceFormatException ex)
        {
            throw new ScenarioException(scenarioFile, "$.source", $"{ex.Message} Check \"format\" against the files, and keep other files out of a trace folder (or hide them with a leading '.').");
        }

        return series.Count > 0
            ? series
            : throw new ScenarioException(scenarioFile, "$.source.trace", $"the trace '{trace}' holds no series (its files have no data rows); point \"trace\" at recorded data.");
    }

    /// <summary>Opens the store source (the caller disposes it).</summary>
    /// <exception cref="InvalidOperationException">The source is a trace.</exception>
    /// <exception cref="ScenarioException">The store holds no series.</exception>
    internal TimeSeriesStore OpenStore(string scenarioFile)
    {
        var path = StorePath ?? throw new InvalidOperationException("The scenario's source is a trace, not a store.");
        if (new FileInfo(path).Length == 0)
        {
            // Opening would write a new store's schema into it: a replay only reads its source.
            throw new ScenarioException(scenarioFile, "$.source.store", $"the file '{path}' is empty (0 bytes), not a store; point \"store\" at a store written by predictor collect or predictor import.");
        }

        var store = TimeSeriesStore.Open(path);
        if (store.ListSeries().Count == 0)
        {
            store.Dispose();
            throw new ScenarioException(scenarioFile, "$.source.store", $"the store '{path}' holds no series; record or import some first (predictor collect / predictor import).");
        }

        return store;
    }

    /// <summary>
    /// False when the trace carries offsets from its start only: the importers put those on a documented epoch base,
    /// which is not a real date, so reports show elapsed days rather than calendar dates.
    /// </summary>
    public bool HasWallClock => Format is not (TraceFormat.AzureV1 or TraceFormat.Aggregate or TraceFormat.Google2011 or TraceFormat.Alibaba);
}

/// <summary>A series name or glob pattern (<c>*</c> any run of characters, <c>?</c> one character), with where it was written.</summary>
/// <param name="Pattern">The pattern, e.g. <c>nab/rds_cpu_utilization_*</c>.</param>
/// <param name="JsonPath">Where it stands in the scenario, e.g. <c>$.partitions.user.series[2]</c>, for errors found later (a pattern matching nothing).</param>
public sealed record SeriesPattern(string Pattern, string JsonPath)
{
    /// <summary>True when <paramref name="seriesName"/> matches (case-sensitive, whole name).</summary>
    public bool IsMatch(string seriesName)
    {
        ArgumentNullException.ThrowIfNull(seriesName);

        // Greedy wildcard matching with one backtrack point (the last '*'): linear in practice, no regex to build or cache.
        int p = 0, n = 0, star = -1, resume = 0;
        while (n < seriesName.Length)
        {
            if (p < Pattern.Length && (Pattern[p] == '?' || Pattern[p] == seriesName[n]))
            {
                p++;
                n++;
            }
            else if (p < Pattern.Length && Pattern[p] == '*')
            {
                star = p++;
                resume = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < Pattern.Length && Pattern[p] == '*')
        {
            p++;
        }

        return p == Pattern.Length;
    }
}

/// <summary>A partition: the series whose sum, times <paramref name="Scale"/>, is its demand.</summary>
/// <param name="Name"><c>user</c> or <c>system</c>.</param>
/// <param name="Series">Patterns; every series matching any of them is summed once.</param>
/// <param name="Scale">Factor turning the series' unit into the scenario's unit (e.g. 0.08 for % of 8 cores → cores).</param>
public sealed record ScenarioPartition(string Name, IReadOnlyList<SeriesPattern> Series, double Scale);

/// <summary>A module: the series summing to its load, where it starts, its state size and affinity.</summary>
/// <param name="Name">Unique module name.</param>
/// <param name="Series">Patterns summed into its load.</param>
/// <param name="Scale">Factor to the unit of location capacities.</param>
/// <param name="Location">Id of the location it starts on.</param>
/// <param name="StateBytes">Size of its state (what a migration moves).</param>
/// <param name="Affinity">Capabilities it prefers, e.g. <c>accelerator:gpu</c>.</param>
public sealed record ScenarioModule(string Name, IReadOnlyList<SeriesPattern> Series, double Scale, string Location, long StateBytes, IReadOnlyList<string> Affinity);

/// <summary>
/// How a series recorded more finely than the replay tick becomes one value per tick (scenario field <c>downsample</c>).
/// </summary>
public enum ScenarioDownsample
{
    /// <summary>The mean of the tick's step (epoch-aligned, NaN left out), as <c>predictor train --step</c> and the
    /// running loop's model windows average: what the partition used over the step.</summary>
    Mean,

    /// <summary>The largest sample of the step: the step's peak, a stricter demand.</summary>
    Max,

    /// <summary>The last sample at or before the tick (sample-and-hold), what the replay did before the field existed.</summary>
    Last,
}

/// <summary>The policy families a replay compares.</summary>
public enum ScenarioPolicyKind
{
    /// <summary>The seed's threshold algorithm (±10 % at 80 %/20 % use), the reactive baseline.</summary>
    Threshold,

    /// <summary>VPA-style recommender (decaying histogram, p90 + 15 % margin).</summary>
    Vpa,

    /// <summary>Autopilot-style moving window (p95 + 10 %, holding the last hour's max).</summary>
    Autopilot,

    /// <summary>The predictive policy, with one model.</summary>
    Predictive,
}

/// <summary>One policy to replay.</summary>
/// <param name="Name">Unique name shown in the report, e.g. <c>vpa</c>, <c>predictive/ssa</c>.</param>
/// <param name="Kind">Family.</param>
/// <param name="Model">Model name for a predictive policy, else null.</param>
/// <param name="Settings">A predictive policy's own settings (the scenario's <c>"settings"</c>), or null for the defaults.</param>
public sealed record ScenarioPolicy(string Name, ScenarioPolicyKind Kind, string? Model, PredictiveSettings? Settings = null);

/// <summary>
/// What a predictive policy in a scenario may set besides its model, so that one replay can compare settings side by
/// side: the partition policy's options, how many forecast steps the partitions size for, and the online tracking of
/// the upper bound. Whatever a scenario leaves out keeps the documented default.
/// </summary>
/// <param name="Policy">The partition policy's options.</param>
/// <param name="LeadSteps">Forecast steps the partitions size for (<see cref="Control.ControlLoopSetup.PartitionLeadSteps"/>); null for the whole horizon.</param>
/// <param name="UpperTracking">Online tracking of the upper bound (<see cref="Control.ControlLoopSetup.UpperTracking"/>); null turns it off.</param>
public sealed record PredictiveSettings(PredictivePolicyOptions Policy, int? LeadSteps, UpperTrackerOptions? UpperTracking)
{
    /// <summary>The documented defaults: what a predictive policy without <c>"settings"</c> runs with.</summary>
    public static PredictiveSettings Default => new(new PredictivePolicyOptions(), Control.ControlLoopSetup.DefaultPartitionLeadSteps, new UpperTrackerOptions());
}

/// <summary>A model: an ONNX file, or the built-in naive forecaster (<see cref="Path"/> null, name <c>naive</c>).</summary>
/// <param name="Name">Unique model name.</param>
/// <param name="Path">Absolute path of the ONNX file, or null for the built-in naive model.</param>
public sealed record ScenarioModel(string Name, string? Path);

/// <summary>
/// The total budget and how it was chosen. DESIGN.md: a budget far above demand makes every bounded policy sit on its
/// floor, so by default the total is <see cref="HeadroomFactor"/> × the peak of the summed partition demand.
/// </summary>
/// <param name="Total">An explicit total, or null for "auto".</param>
/// <param name="HeadroomFactor">For "auto": total = factor × peak of summed demand (default 1.25).</param>
/// <param name="Reason">Why this total (required for an explicit total).</param>
public sealed record ScenarioBudget(double? Total, double HeadroomFactor, string? Reason)
{
    /// <summary>True when the total is derived from the data.</summary>
    public bool IsAuto => Total is null;

    /// <summary>The total for this data, and a note saying how it was chosen (shown in the report).</summary>
    /// <param name="peakSummedDemand">Peak over ticks of the sum of every partition's demand.</param>
    public (double Total, string Note) Resolve(double peakSummedDemand)
    {
        if (Total is { } explicitTotal)
        {
            return (explicitTotal, Reason ?? "explicit");
        }

        if (!(peakSummedDemand > 0) || !double.IsFinite(peakSummedDemand))
        {
            throw new PredictorException(
                $"The budget is \"auto\" but the summed demand peaks at {peakSummedDemand}; give an explicit \"total\" or check the partition series.");
        }

        var total = HeadroomFactor * peakSummedDemand;
        var note = FormattableString.Invariant($"auto: {HeadroomFactor:0.###} × peak of summed demand ({peakSummedDemand:0.###})");
        return (total, Reason is null ? note : $"{note}; {Reason}");
    }
}

/// <summary>A validated replay scenario (see README, "Replay: scenarios, metrics and the report"). Built by <see cref="ScenarioFile"/>.</summary>
public sealed class ScenarioOptions
{
    internal ScenarioOptions(
        string file, string name, string description, ScenarioSource source, TimeSpan? tick, string unit,
        IReadOnlyList<ScenarioPartition> partitions, ScenarioBudget budget, IReadOnlyList<HardwareLocation> locations,
        IReadOnlyList<ScenarioModule> modules, IReadOnlyList<ScenarioPolicy> policies, IReadOnlyList<ScenarioModel> models, SurgeDefinition surge)
    {
        File = file;
        Name = name;
        Description = description;
        Source = source;
        Tick = tick;
        Unit = unit;
        Partitions = partitions;
        Budget = budget;
        Locations = locations;
        Modules = modules;
        Policies = policies;
        Models = models;
        Surge = surge;
    }

    /// <summary>The file it was read from (as given), used in error messages.</summary>
    public string File { get; }

    /// <summary>Scenario name (shown in the report).</summary>
    public string Name { get; }

    /// <summary>Free text: what the scenario shows.</summary>
    public string Description { get; }

    /// <summary>The data source.</summary>
    public ScenarioSource Source { get; }

    /// <summary>The replay tick; null to use the series' own step.</summary>
    public TimeSpan? Tick { get; }

    /// <summary>
    /// Time at the start of the replay that every policy runs through (so windows, histograms and models fill) but that
    /// no metric, table or report counts: the measured replay starts here. A model trained on a prefix of the trace
    /// must end at or before it, so that no model is judged on ticks it was trained on.
    /// </summary>
    /// <value>The default value is zero (every tick is measured).</value>
    public TimeSpan WarmUp { get; init; }

    /// <summary>
    /// How a series whose nominal step is shorter than the tick becomes one value per tick (see
    /// <see cref="ScenarioInputs.Assemble"/>). Series recorded at the tick, or coarser, are sampled and held either way.
    /// </summary>
    /// <value>The default value is <see cref="ScenarioDownsample.Mean"/>.</value>
    public ScenarioDownsample Downsample { get; init; }

    /// <summary>Unit of demand, allocations and budget after scaling, e.g. <c>cores</c>.</summary>
    public string Unit { get; }

    /// <summary>The partitions, <c>user</c> then <c>system</c>.</summary>
    public IReadOnlyList<ScenarioPartition> Partitions { get; }

    /// <summary>The total budget rule.</summary>
    public ScenarioBudget Budget { get; }

    /// <summary>Locations modules can run on (empty without placement).</summary>
    public IReadOnlyList<HardwareLocation> Locations { get; }

    /// <summary>Modules (empty without placement).</summary>
    public IReadOnlyList<ScenarioModule> Modules { get; }

    /// <summary>Policies to compare, predictive ones expanded to one per model.</summary>
    public IReadOnlyList<ScenarioPolicy> Policies { get; }

    /// <summary>Models named by predictive policies.</summary>
    public IReadOnlyList<ScenarioModel> Models { get; }

    /// <summary>What counts as a surge for the placement metric.</summary>
    public SurgeDefinition Surge { get; }

    /// <summary>Whether a series pattern of a partition or module matches <paramref name="seriesName"/>.</summary>
    public bool Uses(string seriesName) =>
        Partitions.Any(p => p.Series.Any(x => x.IsMatch(seriesName))) || Modules.Any(m => m.Series.Any(x => x.IsMatch(seriesName)));

    /// <summary>
    /// The names among <paramref name="available"/> that the patterns select, in the order available lists them, each once.
    /// </summary>
    /// <exception cref="ScenarioException">A pattern matches no available series (the error points at the pattern).</exception>
    public IReadOnlyList<string> Select(IReadOnlyList<SeriesPattern> patterns, IReadOnlyList<string> available)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        ArgumentNullException.ThrowIfNull(available);
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in patterns)
        {
            var any = false;
            foreach (var name in available)
            {
                if (p.IsMatch(name))
                {
                    any = true;
                    chosen.Add(name);
                }
            }

            if (!any)
            {
                var sample = string.Join(", ", available.Take(5)) + (available.Count > 5 ? $", … ({available.Count} in all)" : "");
                throw new ScenarioException(File, p.JsonPath,
                    $"'{p.Pattern}' matches no series in the source; expected a name or glob pattern matching one of: {sample}.");
            }
        }

        return available.Where(chosen.Contains).ToList();
    }
}

using Predictor.Engine.Backends;
using Predictor.Engine.Control.Safety;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Control;

/// <summary>Where one resource's partition demand comes from and how big its budget is.</summary>
/// <param name="Resource">Memory (bytes) or CPU (millicores).</param>
/// <param name="Total">The whole budget, in the resource's unit.</param>
/// <param name="UserSeries">Index of the series that is the user partition's use.</param>
/// <param name="SystemSeries">Index of the series that is the system partition's use.</param>
/// <param name="Scale">Multiplies series values into the resource's unit (e.g. 1000 for a series in cores).</param>
public sealed record PartitionBinding(ResourceKind Resource, long Total, int UserSeries, int SystemSeries, double Scale = 1.0);

/// <summary>A model and the series (indices into the loop's series) it forecasts in one batched call.</summary>
public sealed record ModelBinding(IForecaster Forecaster, IReadOnlyList<int> Series);

/// <summary>
/// Everything one control loop is made of. Built once (by the host, by replay, by tests); <see cref="ControlLoop"/>
/// checks it at construction and says which field is wrong.
/// </summary>
public sealed class ControlLoopSetup
{
    /// <summary>The default of <see cref="PartitionLeadSteps"/>.</summary>
    public const int DefaultPartitionLeadSteps = 6;

    private int _inferenceEveryTicks = 10;
    private int? _partitionLeadSteps = DefaultPartitionLeadSteps;
    private int _maxStaleSteps = 3;

    /// <summary>Names of the series, in the order <see cref="ISampleSource.Read"/> writes them.</summary>
    public required IReadOnlyList<string> Series { get; init; }

    /// <summary>Memory and CPU partitions: where their demand comes from and their totals.</summary>
    public required PartitionBinding Memory { get; init; }

    /// <summary>CPU partitions.</summary>
    public required PartitionBinding Cpu { get; init; }

    /// <summary>The partition policy of memory (one instance per resource: policies keep state).</summary>
    public required IPartitionPolicy MemoryPolicy { get; init; }

    /// <summary>The partition policy of CPU.</summary>
    public required IPartitionPolicy CpuPolicy { get; init; }

    /// <summary>Modules; empty for none.</summary>
    public IReadOnlyList<ModuleSpec> Modules { get; init; } = [];

    /// <summary>Index of each module's demand series (cores), parallel to <see cref="Modules"/>.</summary>
    public IReadOnlyList<int> ModuleSeries { get; init; } = [];

    /// <summary>Locations modules run on.</summary>
    public IReadOnlyList<HardwareLocation> Locations { get; init; } = [];

    /// <summary>Where each module starts (location index); null places them with <see cref="Placements.Initial"/>.</summary>
    public IReadOnlyList<int>? InitialAssignment { get; init; }

    /// <summary>The placement policy; null when there are no modules.</summary>
    public IPlacementPolicy? Placement { get; init; }

    /// <summary>Models; each forecasts its series in one call every <see cref="InferenceEveryTicks"/> ticks.</summary>
    public IReadOnlyList<ModelBinding> Models { get; init; } = [];

    /// <summary>Safety steps.</summary>
    /// <value>The default value is <see cref="SafetyPipeline.CreateDefault"/>.</value>
    public SafetyPipeline Safety { get; init; } = SafetyPipeline.CreateDefault();

    /// <summary>Reads the collectors.</summary>
    public required ISampleSource Source { get; init; }

    /// <summary>Where samples go toward the store; null to keep none.</summary>
    public ISampleSink? Sink { get; set; }

    /// <summary>Carries out decisions.</summary>
    public required IExecutionBackend Backend { get; init; }

    /// <summary>Records decisions; null to keep none.</summary>
    public IDecisionLog? Log { get; set; }

    /// <summary>The clock (a recorded one in replay).</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Run inference every k ticks (forecasts are reused in between).</summary>
    /// <value>The default value is 10 (once a second at 100 ms ticks).</value>
    public int InferenceEveryTicks
    {
        get => _inferenceEveryTicks;
        init => _inferenceEveryTicks = value >= 1 ? value : throw new PredictorException($"ControlLoopSetup.InferenceEveryTicks = {value} is out of range: use 1 or more ticks.");
    }

    /// <summary>
    /// Online tracking of each model's upper bound (<see cref="UpperTracker"/>): keeps <c>upper</c> at the model's stated
    /// quantile while the data drift away from what its conformal offsets were calibrated on. Null turns it off (the
    /// policies then see the model's bounds as written in the ONNX file).
    /// </summary>
    /// <value>The default value is the documented <see cref="UpperTrackerOptions"/> defaults.</value>
    public UpperTrackerOptions? UpperTracking { get; init; } = new();

    /// <summary>
    /// How many forecast steps the partition policies size for: each partition sees the maximum of the (tracked) upper
    /// bound over the first k steps of the horizon; null for the whole horizon. Placement always looks over the whole
    /// horizon, so a module can move before a surge. Why 6 (half an hour at 5-minute steps): a window ends at the last
    /// closed step, so step 1 is the step in progress and step 2 the one a decision made now applies to; the steps after
    /// it cover late or held ticks and the next surprises. Chosen with the policy's headroom on held-out replay scenarios
    /// (README, "Choosing the defaults"; the runs in docs/policy-experiments.md): 6 steps with 5 % headroom beat 3 steps with
    /// 7.5 % there; the whole horizon only buys slack, since growth is immediate at every tick.
    /// </summary>
    /// <value>The default value is <see cref="DefaultPartitionLeadSteps"/> (6).</value>
    public int? PartitionLeadSteps
    {
        get => _partitionLeadSteps;
        init => _partitionLeadSteps = value is null or >= 1 ? value : throw new PredictorException($"ControlLoopSetup.PartitionLeadSteps = {value} is out of range: use 1 or more forecast steps, or null for the whole horizon.");
    }

    /// <summary>A model series without a fresh value for more than this many model steps counts as missing data (fail closed).</summary>
    /// <value>The default value is 3.</value>
    public int MaxStaleSteps
    {
        get => _maxStaleSteps;
        init => _maxStaleSteps = value >= 0 ? value : throw new PredictorException($"ControlLoopSetup.MaxStaleSteps = {value} is out of range: use 0 or more.");
    }
}

using System.Diagnostics.Metrics;
using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Replay;

/// <summary>
/// Replays a scenario's recorded demand through the same <see cref="ControlLoop"/> as a live run, one policy at a time,
/// with a <see cref="RecordedClock"/> and the <see cref="SimulatedBackend"/>, as fast as the CPU allows. Tick t feeds
/// demand[t] to the collectors; the decision made at t is in force from t + 1, and is recorded there, so the traces
/// handed to <see cref="ReplayResult"/> are already aligned as <see cref="ReplayMetrics"/> expects.
/// </summary>
public static class ReplayRunner
{
    /// <summary>
    /// Rows (ticks × series) one batched inference call covers when the replay forecasts ahead of the loop (see
    /// <see cref="LookaheadForecaster"/>): enough for ONNX Runtime to spread a call over its threads (its tree ensembles
    /// split rows only above 50), while a batch's windows take about 1.2 MB at W = 288.
    /// </summary>
    public const int LookaheadRows = 1024;

    // Partition budgets are integers in the loop (millicores, bytes): a scenario unit is 1000 loop units. A total below
    // one unit would leave too few (a budget of 0.0001 rounded to nothing), so it gets the power of ten of loop units
    // that makes it 1,000 to 10,000 of them: split as finely as the same demand counted in a unit small enough to make
    // it 1 or more. Not finer for every budget: that would only resolve the last bits of float32 forecasts, where ONNX
    // Runtime's batched and single-row kernels differ, and the replay ahead of the loop would no longer match it bit for bit.
    private const double LoopUnitsPerScenarioUnit = 1000;

    /// <summary>
    /// Options a replay opens its ONNX models with: batches of up to <see cref="LookaheadRows"/> rows, and one ONNX Runtime
    /// thread per core. Unlike the live loop, which shares the machine with the workloads it balances and keeps inference
    /// on its own thread, a replay has the machine to itself and should finish as fast as the CPU allows.
    /// </summary>
    public static OnnxForecasterOptions ModelOptions() => new()
    {
        MaxBatch = LookaheadRows,
        // ORT's threads spin between batches (its default): on the 30-day, 40-series GBDT replay that is 0.77 s of wall
        // clock for 1.5 s of CPU, against 0.84 s for 1.2 s with AllowSpinning off (README, "Speed (benchmark)").
        Session = new OnnxSessionOptions { IntraOpThreads = Math.Min(Environment.ProcessorCount, 16) },
    };

    /// <summary>
    /// Opens a scenario's model for a replay: the naive forecaster (<paramref name="naive"/>) when it has no file, else the
    /// ONNX model with <see cref="ModelOptions"/>. Throws when the file cannot be used (a replay exists to judge models).
    /// </summary>
    public static IForecaster OpenModel(ScenarioModel model, NaiveForecasterOptions naive)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(naive);
        return model.Path is null ? ForecasterLoader.Naive(naive) : ForecasterLoader.OpenOnnx(model.Path, ModelOptions());
    }

    /// <summary>Runs every policy of <paramref name="scenario"/> over <paramref name="inputs"/>.</summary>
    /// <param name="scenario">The scenario (policies, locations, modules, surge definition).</param>
    /// <param name="inputs">Its demand on the replay grid (<see cref="ScenarioInputs.Assemble"/>).</param>
    /// <param name="openForecaster">Opens a model: a predictive policy gets its own; the baselines get the naive one, used only by placement.</param>
    /// <param name="hasWallClock">False when the trace has offsets only (the report then shows elapsed days).</param>
    /// <param name="progress">Receives the number of policy-ticks replayed so far.</param>
    public static ReplayResult Run(
        ScenarioOptions scenario,
        ScenarioInputs inputs,
        Func<ScenarioModel, IForecaster> openForecaster,
        bool hasWallClock = true,
        IProgress<long>? progress = null)
        => Run(scenario, inputs, openForecaster, hasWallClock, progress, LookaheadRows);

    /// <summary>As the public overload; <paramref name="lookaheadRows"/> 0 runs inference tick by tick, as the live loop does.</summary>
    internal static ReplayResult Run(
        ScenarioOptions scenario,
        ScenarioInputs inputs,
        Func<ScenarioModel, IForecaster> openForecaster,
        bool hasWallClock,
        IProgress<long>? progress,
        int lookaheadRows)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(openForecaster);
        if (!(inputs.TotalBudget >= ScenarioInputs.MinBudget && inputs.TotalBudget <= ScenarioInputs.MaxBudget))
        {
            throw new ArgumentOutOfRangeException(nameof(inputs), inputs.TotalBudget,
                $"The total budget must lie between {ScenarioInputs.MinBudget} and {ScenarioInputs.MaxBudget} of the scenario's unit (ScenarioInputs.Assemble checks it).");
        }

        var runs = new List<PolicyRun>();
        var warmUp = WarmUp.Ticks(scenario, inputs);
        long done = 0;
        foreach (var policy in scenario.Policies)
        {
            var model = policy.Model is null
                ? new ScenarioModel("naive", null)
                : scenario.Models.FirstOrDefault(m => m.Name == policy.Model) ?? new ScenarioModel(policy.Model, null);
            using var forecaster = openForecaster(model);
            runs.Add(WarmUp.Trim(RunOne(scenario, inputs, policy, forecaster, lookaheadRows, () => progress?.Report(++done)), warmUp));
        }

        // The loop keeps budgets as integers (LoopUnits per scenario unit); measure against the total it actually split.
        var total = LoopTotal(inputs) / LoopUnits(inputs);
        var measuredFrom = inputs.StartUnixMs + (warmUp * (long)inputs.Tick.TotalMilliseconds);
        var note = warmUp == 0 ? inputs.BudgetNote : FormattableString.Invariant($"{inputs.BudgetNote}; measured after a warm-up of {warmUp} ticks ({WarmUp.Format(scenario.WarmUp)})");
        var info = new ReplayRunInfo(scenario.Name, inputs.Tick, hasWallClock ? measuredFrom : null, total, note, scenario.Unit) { DownsampleNote = inputs.DownsampleNote };
        return new ReplayResult(info, runs, scenario.Surge);
    }

    private static PolicyRun RunOne(ScenarioOptions scenario, ScenarioInputs inputs, ScenarioPolicy policy, IForecaster forecaster, int lookaheadRows, Action tickDone)
    {
        // A predictive policy's own "settings", else the documented defaults (the loop's lead and tracking apply to all).
        var settings = policy.Settings ?? PredictiveSettings.Default;
        var ticks = inputs.Ticks;
        var tickMs = (long)inputs.Tick.TotalMilliseconds;
        var user = inputs.Partitions[0].Demand;
        var system = inputs.Partitions[1].Demand;
        var moduleDemand = inputs.Modules.Select(m => m.Demand).ToArray();
        var locations = scenario.Locations;
        var modules = scenario.Modules.Select(m => new ModuleSpec(
            // The reservation used while a module has no forecast: its demand at tick 0, the only value known then.
            m.Name, "module/" + m.Name, moduleDemand[scenario.Modules.ToList().IndexOf(m)][0], 0, m.StateBytes,
            new HashSet<string>(StringComparer.Ordinal)) { Preferences = m.Affinity.ToHashSet(StringComparer.Ordinal) }).ToList();
        var initial = scenario.Modules.Select(m => locations.ToList().FindIndex(l => l.Id == m.Location)).ToArray();

        var series = new List<string> { "user", "system" };
        series.AddRange(modules.Select(m => m.DemandSeries));
        var total = LoopTotal(inputs);
        var loopUnits = LoopUnits(inputs);
        // The model's input is the recorded demand alone, so its forecasts can be run ahead in batches (checked per tick).
        // The lookahead expects a forecast at every tick once the window is full, i.e. InferenceEveryTicks = 1 below.
        var ticksPerCall = lookaheadRows > 0 ? LookaheadForecaster.TicksPerCall(forecaster, series.Count, lookaheadRows) : 0;
        var ahead = ticksPerCall > 0
            ? new LookaheadForecaster(forecaster, [user, system, .. moduleDemand], inputs.StartUnixMs, tickMs, ticksPerCall)
            : null;
        var clock = new RecordedClock(inputs.StartUnixMs);
        var source = new GridSource(inputs.StartUnixMs, tickMs, user, system, moduleDemand);
        var even = PartitionSplit.Even(total);
        using var backend = new SimulatedBackend(locations, initial, even, even);
        var setup = new ControlLoopSetup
        {
            Series = series,
            // The scenario has one resource; memory is bound to the same demand so the loop's invariants hold, and ignored.
            Memory = new PartitionBinding(ResourceKind.Memory, total, 0, 1, loopUnits),
            Cpu = new PartitionBinding(ResourceKind.Cpu, total, 0, 1, loopUnits),
            MemoryPolicy = Create(policy.Kind, settings.Policy),
            CpuPolicy = Create(policy.Kind, settings.Policy),
            Modules = modules,
            ModuleSeries = Enumerable.Range(2, modules.Count).ToArray(),
            Locations = locations,
            InitialAssignment = modules.Count > 0 ? initial : null,
            Placement = modules.Count > 0 ? Placements.Planner(locations, modules) : null,
            Models = [new ModelBinding((IForecaster?)ahead ?? forecaster, Enumerable.Range(0, series.Count).ToArray())],
            Source = source,
            Backend = backend,
            Time = clock,
            InferenceEveryTicks = 1,
            PartitionLeadSteps = settings.LeadSteps,
            UpperTracking = settings.UpperTracking,
        };
        // A meter of its own: replayed ticks are not this process's live loop, and must not show in the "Predictor"
        // meter that dotnet-counters (or a listener in the same process) watches.
        using var meter = new Meter(ControlLoop.MeterName + ".Replay");
        using var loop = new ControlLoop(setup, meter);

        var userAllocation = new double[ticks];
        var systemAllocation = new double[ticks];
        userAllocation[0] = even.User / loopUnits;
        systemAllocation[0] = even.System / loopUnits;
        var loads = locations.Select(_ => new double[ticks]).ToArray();
        var assignment = (int[])initial.Clone();
        var migrations = new List<MigrationEvent>();
        for (var t = 0; t < ticks; t++)
        {
            // Location loads at t follow the placement in force at t (decided at t − 1).
            for (var m = 0; m < assignment.Length; m++)
            {
                loads[assignment[m]][t] += moduleDemand[m][t];
                backend.SetModuleLoad(m, moduleDemand[m][t]);
            }

            clock.Set(inputs.StartUnixMs + (t * tickMs));
            backend.SetPartitionDemand(ResourceKind.Cpu, user[t] * loopUnits, system[t] * loopUnits);
            var decision = loop.RunOnce();
            if (t + 1 < ticks)
            {
                userAllocation[t + 1] = decision[ResourceKind.Cpu].User / loopUnits;
                systemAllocation[t + 1] = decision[ResourceKind.Cpu].System / loopUnits;
            }

            var now = backend.Assignment;
            for (var m = 0; m < assignment.Length; m++)
            {
                if (now[m] != assignment[m])
                {
                    migrations.Add(new MigrationEvent(t, modules[m].Name, locations[assignment[m]].Id, locations[now[m]].Id));
                    assignment[m] = now[m];
                }
            }

            tickDone();
        }

        return new PolicyRun(
            policy.Name,
            policy.Kind == ScenarioPolicyKind.Predictive,
            [new PartitionTrace("user", user, userAllocation), new PartitionTrace("system", system, systemAllocation)],
            locations.Select((l, i) => new LocationTrace(l.Id, l.CpuCapacity, loads[i])).ToArray(),
            inputs.Modules.Select(m => new ModuleTrace(m.Name, m.Demand)).ToArray(),
            migrations)
        {
            InferenceAhead = ahead?.Hits ?? 0,
            InferenceMisses = ahead?.Misses ?? 0,
        };
    }

    private static long LoopTotal(ScenarioInputs inputs) => (long)Math.Round(inputs.TotalBudget * LoopUnits(inputs));

    /// <summary>Loop units per scenario unit for these inputs: 1000, or for a total below one unit the power of ten that makes it 1,000 to 10,000 loop units.</summary>
    internal static double LoopUnits(ScenarioInputs inputs) => inputs.TotalBudget >= 1
        ? LoopUnitsPerScenarioUnit
        : Math.Pow(10, Math.Ceiling(Math.Log10(LoopUnitsPerScenarioUnit / inputs.TotalBudget) - 1e-12));

    private static IPartitionPolicy Create(ScenarioPolicyKind kind, PredictivePolicyOptions predictive) => kind switch
    {
        ScenarioPolicyKind.Threshold => PartitionPolicies.Threshold(),
        ScenarioPolicyKind.Vpa => PartitionPolicies.VpaStyle(),
        ScenarioPolicyKind.Autopilot => PartitionPolicies.AutopilotStyle(),
        _ => PartitionPolicies.Predictive(predictive),
    };

    /// <summary>The collectors of a replay: the recorded values of the tick the clock is at.</summary>
    private sealed class GridSource : ISampleSource
    {
        private readonly long _start;
        private readonly long _tickMs;
        private readonly double[] _user;
        private readonly double[] _system;
        private readonly double[][] _modules;

        public GridSource(long start, long tickMs, double[] user, double[] system, double[][] modules)
        {
            _start = start;
            _tickMs = tickMs;
            _user = user;
            _system = system;
            _modules = modules;
        }

        public void Read(long timestampMs, Span<double> values)
        {
            var t = (int)((timestampMs - _start) / _tickMs);
            values[0] = _user[t];
            values[1] = _system[t];
            for (var m = 0; m < _modules.Length; m++)
            {
                values[2 + m] = _modules[m][t];
            }
        }
    }
}

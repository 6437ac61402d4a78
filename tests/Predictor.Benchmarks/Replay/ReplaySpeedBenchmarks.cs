using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Replay;
using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;

namespace Predictor.Benchmarks.Replay;

/// <summary>
/// Issue 6, item 8: one whole replay of 30 days at 5-minute ticks (8,640 ticks) with 40 series in the loop and
/// inference every tick, through <see cref="ReplayRunner.Run"/> — the same call <c>predictor replay</c> makes per
/// scenario — with the predictive policy and an ONNX model on ONNX Runtime (one batched call for all 40 series per
/// tick). Target: ≤ 1 s per replay.
/// <para>
/// Layout (real data, tiled; no real trace here has 40 series × 30 days at 5 minutes): the 30 VMs of Azure V1
/// (<c>azure_v1/microsoft_avg_100.subset30.csv</c>, 8,004 ticks ≈ 27.8 days, CPU % of one vCPU, scaled to cores by
/// 0.01) are extended to 8,640 ticks by repeating, for the last 636 ticks, the values one week earlier (keeps the
/// daily and weekly phase). The 40 loop series are: <c>user</c> = the sum of VMs 0–14, <c>system</c> = the sum of
/// VMs 15–29, and 38 modules — VM m for m &lt; 30 and, for modules 30–37, VMs 0–7 shifted by 12 hours (circularly) so
/// they are not copies in phase. Modules start round-robin on 8 one-core-set locations, each of capacity
/// 1.25 × (peak of the summed module load) / 8; the total budget is 1.25 × the peak of user + system (the scenario
/// files' "auto" rule).
/// </para>
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class ReplaySpeedBenchmarks
{
    private const int Ticks = 30 * 288;
    private const int Week = 7 * 288;
    private const int Modules = 38;
    private const int Locations = 8;

    private ScenarioOptions _scenario = null!;
    private ScenarioInputs _inputs = null!;
    private string _modelPath = null!;
    private IForecaster _forecaster = null!;
    private float[] _window = null!;
    private float[] _calendar = null!;
    private float[] _forecast = null!;
    private float[] _upper = null!;
    private int _aheadTicks;
    private float[] _aheadWindow = null!;
    private float[] _aheadCalendar = null!;
    private float[] _aheadForecast = null!;
    private float[] _aheadUpper = null!;

    /// <summary>
    /// The model the predictive policy runs: <c>naive.onnx</c> (W = 1, the cheapest graph: the loop's own cost),
    /// <c>nab_rds_e47b3b.onnx</c> (SSA, W = 288: a trained model with a full-day window), <c>azure_v1_vm_737498.onnx</c>
    /// (gradient-boosted trees, W = 288, shared multi-output trees with season moves, at most 40: the shipped default), <c>azure_v1_vm_737498_per_step.onnx</c>
    /// (the same series and command with <c>--gbdt-trees per-step</c>: one ensemble per horizon step), or
    /// <c>managed-naive</c> (no ONNX Runtime at all, for comparison).
    /// </summary>
    [Params("naive.onnx", "nab_rds_e47b3b.onnx", "azure_v1_vm_737498.onnx", "azure_v1_vm_737498_per_step.onnx", "managed-naive")]
    public string Model { get; set; } = "naive.onnx";

    /// <summary>The scenario <see cref="Setup"/> built (for <see cref="ReplayLookaheadBenchmarks"/>).</summary>
    internal ScenarioOptions Scenario => _scenario;

    /// <summary>Its demand (for <see cref="ReplayLookaheadBenchmarks"/>).</summary>
    internal ScenarioInputs Inputs => _inputs;

    [GlobalSetup]
    public void Setup()
    {
        var trace = Path.Combine(RepoPaths.SharedDatasets, "azure_v1", "microsoft_avg_100.subset30.csv");
        var vms = TraceImporter.Import(TraceFormat.AzureV1, trace).Series.Select(s => Extend(s.Values)).ToList();
        if (vms.Count != 30)
        {
            throw new InvalidOperationException($"{trace}: expected 30 VMs, found {vms.Count}.");
        }

        double[] Sum(int from, int count)
        {
            var sum = new double[Ticks];
            for (var v = from; v < from + count; v++)
            {
                for (var t = 0; t < Ticks; t++)
                {
                    sum[t] += vms[v][t];
                }
            }

            return sum;
        }

        var user = Sum(0, 15);
        var system = Sum(15, 15);
        var modules = Enumerable.Range(0, Modules).Select(m => Shift(vms[m % 30], m < 30 ? 0 : 144)).ToArray();
        var peakModules = Enumerable.Range(0, Ticks).Max(t => modules.Sum(m => m[t]));
        var capacity = Math.Round(1.25 * peakModules / Locations, 2);

        _modelPath = Model == "managed-naive" ? "" : RepoPaths.InRepo("models", Model);
        var json = new StringBuilder();
        json.Append(CultureInfo.InvariantCulture, $$"""
            { "name": "replay-speed", "description": "Azure V1 tiled to 30 days x 40 series", "tickSeconds": 300, "unit": "cores",
              "source": { "trace": "{{trace}}", "format": "azure-v1" },
              "partitions": { "user": { "series": ["*/user"] }, "system": { "series": ["*/system"] } },
              "budget": { "total": "auto", "headroomFactor": 1.25 },
              "locations": [
            """);
        json.AppendJoin(",", Enumerable.Range(0, Locations).Select(l => string.Create(CultureInfo.InvariantCulture,
            $$"""{ "id": "core{{l}}", "kind": "coreSet", "cpus": [{{l}}], "numaNode": 0, "cpuCapacity": {{capacity}} }""")));
        json.Append("], \"modules\": [");
        json.AppendJoin(",", Enumerable.Range(0, Modules).Select(m =>
            $$"""{ "name": "m{{m}}", "series": ["*/m{{m}}"], "scale": 1, "location": "core{{m % Locations}}", "stateBytes": 268435456 }"""));
        json.Append(Model == "managed-naive"
            ? "], \"policies\": [{ \"kind\": \"predictive\" }], \"models\": [] }"
            : $$"""], "policies": [{ "kind": "predictive", "model": "m" }], "models": [{ "name": "m", "path": "{{_modelPath}}" }] }""");
        _scenario = ScenarioFile.Parse(json.ToString(), "replay-speed.json", RepoPaths.Root);

        var (total, note) = _scenario.Budget.Resolve(Enumerable.Range(0, Ticks).Max(t => user[t] + system[t]));
        _inputs = new ScenarioInputs(
            1_578_268_800_000, // Monday 2020-01-06 00:00 UTC, the importers' epoch base for offset-only traces
            TimeSpan.FromMinutes(5),
            Ticks,
            [new DemandSeries("user", user, ["user"]), new DemandSeries("system", system, ["system"])],
            [.. modules.Select((d, m) => new DemandSeries($"m{m}", d, [$"m{m}"]))],
            total,
            note);

        // For the inference-only benchmark: the same model, 40 rows of real windows, calendar features of tick 0.
        _forecaster = Open(_scenario.Models.FirstOrDefault() ?? new ScenarioModel("naive", null));
        var shape = _forecaster.Shape;
        var series = new[] { user, system }.Concat(modules).ToArray();
        _window = new float[series.Length * shape.Window];
        for (var s = 0; s < series.Length; s++)
        {
            for (var k = 0; k < shape.Window; k++)
            {
                _window[(s * shape.Window) + k] = (float)series[s][1000 + k];
            }
        }

        _calendar = new float[series.Length * shape.CalendarWidth];
        for (var s = 0; s < series.Length && shape.CalendarWidth > 0; s++)
        {
            CalendarFeatures.Compute(_inputs.StartUnixMs, _calendar.AsSpan(s * shape.CalendarWidth, shape.CalendarWidth));
        }

        _forecast = new float[series.Length * shape.Horizon];
        _upper = new float[series.Length * shape.Horizon];

        // For the batched inference benchmark: the same 40 rows repeated for as many ticks as one replay batch holds.
        _aheadTicks = ReplayRunner.LookaheadRows / series.Length;
        _aheadWindow = [.. Enumerable.Repeat(_window, _aheadTicks).SelectMany(w => w)];
        _aheadCalendar = [.. Enumerable.Repeat(_calendar, _aheadTicks).SelectMany(c => c)];
        _aheadForecast = new float[_aheadTicks * series.Length * shape.Horizon];
        _aheadUpper = new float[_aheadTicks * series.Length * shape.Horizon];
    }

    [GlobalCleanup]
    public void Cleanup() => _forecaster.Dispose();

    /// <summary>One whole replay: opens the model, runs 8,640 ticks of the control loop, measures the result.</summary>
    [Benchmark]
    public ReplayResult Replay30Days40Series() => ReplayRunner.Run(_scenario, _inputs, Open);

    /// <summary>The inference alone: the 8,640 batched calls (40 rows each) the replay makes, without the loop around them.</summary>
    [Benchmark]
    public float Inference8640Calls()
    {
        var rows = 2 + Modules;
        for (var t = 0; t < Ticks; t++)
        {
            _forecaster.Forecast(_window, _calendar, rows, _forecast, _upper);
        }

        return _upper[0];
    }

    /// <summary>
    /// The inference as a replay runs it since session 8: the same 345,600 rows (8,640 ticks × 40 series) forecast ahead
    /// of the loop in batches of <see cref="ReplayRunner.LookaheadRows"/> rows (25 ticks here), with the options
    /// <c>predictor replay</c> opens models with (one ONNX Runtime thread per core).
    /// </summary>
    [Benchmark]
    public float InferenceAhead()
    {
        var rows = _aheadTicks * (2 + Modules);
        for (var t = 0; t < Ticks; t += _aheadTicks)
        {
            _forecaster.Forecast(_aheadWindow, _aheadCalendar, rows, _aheadForecast, _aheadUpper);
        }

        return _aheadUpper[0];
    }

    // What `predictor replay` opens (ReplayRunner.ModelOptions: batches of up to 1,024 rows, one ONNX Runtime thread per core).
    private IForecaster Open(ScenarioModel model) => ReplayRunner.OpenModel(model, new NaiveForecasterOptions { Step = TimeSpan.FromMinutes(5) });

    // 0.01 × CPU % of one vCPU = cores; ticks past the trace's end repeat the value one week earlier.
    private static double[] Extend(IReadOnlyList<double> values)
    {
        var extended = new double[Ticks];
        for (var t = 0; t < Ticks; t++)
        {
            extended[t] = 0.01 * (t < values.Count ? values[t] : extended[t - Week]);
        }

        return extended;
    }

    private static double[] Shift(double[] values, int by) =>
        by == 0 ? values : [.. Enumerable.Range(0, values.Length).Select(t => values[(t + by) % values.Length])];
}

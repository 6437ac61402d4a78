using System.Diagnostics.Metrics;
using Predictor.Engine.Backends;
using Predictor.Engine.Control.Safety;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;
using Predictor.Engine.Telemetry;

namespace Predictor.Engine.Control;

/// <summary>
/// The control loop. One tick is <see cref="RunOnce"/>: read the collectors → hand the samples to the store sink
/// (never waits) → update the ring buffers → every k ticks, one batched forecast per model for all its series →
/// partition and placement policies propose → safety steps (bounds, minimum change, migration budget, fail closed)
/// → backend → decision log. Any error or missing value in a tick ends in the last safe state, said why, and the
/// next tick runs normally. Each step is timed with the injected <see cref="TimeProvider"/> and recorded in a
/// histogram of the <c>Predictor</c> meter (watch with <c>dotnet-counters monitor --counters Predictor</c>).
/// After construction a tick allocates nothing (unless a step fails and its reason is written).
/// </summary>
public sealed class ControlLoop : IDisposable
{
    /// <summary>Name of the meter the loop records in.</summary>
    public const string MeterName = "Predictor";

    private readonly ControlLoopSetup _setup;
    private readonly double[] _values;
    private readonly double[] _upperMax;
    private readonly double[] _upperLead;
    private readonly ModelState[] _models;
    private readonly int[] _assignment;
    private readonly double[] _predictedCpu;
    private readonly Decision _decision;
    private readonly SafetyContext _context;
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Histogram<double> _collect, _store, _windows, _inference, _policies, _safety, _backend, _log, _tick;
    private readonly Counter<long> _held, _dropped;
    private long _ticks;

    /// <summary>Builds the loop; throws a <see cref="PredictorException"/> naming the setup field that is wrong.</summary>
    public ControlLoop(ControlLoopSetup setup, Meter? meter = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Validate(setup);
        _setup = setup;
        var n = setup.Series.Count;
        _values = new double[n];
        _upperMax = new double[n];
        _upperMax.AsSpan().Fill(double.NaN);
        _upperLead = new double[n];
        _upperLead.AsSpan().Fill(double.NaN);
        _models = [.. setup.Models.Select(m => new ModelState(m, setup.UpperTracking))];

        var memory = PartitionSplit.Even(setup.Memory.Total);
        var cpu = PartitionSplit.Even(setup.Cpu.Total);
        _decision = new Decision(memory, cpu, Math.Max(16, setup.Modules.Count));
        _context = new SafetyContext(memory, cpu) { ModuleCount = setup.Modules.Count, LocationCount = setup.Locations.Count };
        _predictedCpu = new double[setup.Modules.Count];
        _assignment = setup.InitialAssignment is { } initial
            ? [.. initial]
            : setup.Modules.Count == 0 ? [] : Placements.Initial(setup.Locations, setup.Modules, setup.Modules.Select(m => m.CpuFootprint).ToArray());

        _ownsMeter = meter is null;
        _meter = meter ?? new Meter(MeterName);
        _collect = Step("collect");
        _store = Step("store");
        _windows = Step("windows");
        _inference = Step("inference");
        _policies = Step("policies");
        _safety = Step("safety");
        _backend = Step("backend");
        _log = Step("log");
        _tick = _meter.CreateHistogram<double>("predictor.loop.tick.duration", "s", "Duration of one whole control-loop tick.");
        _held = _meter.CreateCounter<long>("predictor.loop.held", "{tick}", "Ticks that held the last safe state (missing data or an error).");
        _dropped = _meter.CreateCounter<long>("predictor.loop.samples_dropped", "{tick}", "Ticks whose samples the store sink dropped because it was behind.");
    }

    /// <summary>Ticks run so far.</summary>
    public long Ticks => Volatile.Read(ref _ticks);

    /// <summary>The decision of the last tick (owned by the loop, overwritten by the next tick).</summary>
    public Decision LastDecision => _decision;

    /// <summary>What the backend reported at the last tick.</summary>
    public BackendReport LastReport { get; private set; }

    /// <summary>Ticks whose samples the sink dropped.</summary>
    public long DroppedSamples { get; private set; }

    /// <summary>Where each module runs, as far as the loop knows (location index).</summary>
    public ReadOnlySpan<int> Assignment => _assignment;

    /// <summary>The last sample of each series, in the order of <see cref="ControlLoopSetup.Series"/>.</summary>
    public ReadOnlySpan<double> Values => _values;

    /// <summary>Max over the horizon of the last forecast's upper bound per series (NaN: no forecast).</summary>
    public ReadOnlySpan<double> UpperMax => _upperMax;

    /// <summary>
    /// Max of the last forecast's upper bound over the first <see cref="ControlLoopSetup.PartitionLeadSteps"/> steps per
    /// series (the whole horizon when that is null): what the partition policies see (NaN: no forecast).
    /// </summary>
    public ReadOnlySpan<double> UpperLead => _upperLead;

    /// <summary>
    /// Fills each model's windows from recorded history before the first tick, so that a restarted loop forecasts from
    /// its first inference instead of after a whole window of live steps (a day, for a model of 288 five-minute steps).
    /// For each model, <paramref name="read"/> is asked for each of its series over the last W steps before the step in
    /// progress; the samples are averaged into the model's steps as live ticks are (<see cref="RecordedSeries.Downsample"/>).
    /// <paramref name="read"/> may return raw samples or samples already averaged into the step it is given (what
    /// <see cref="Storage.TimeSeriesStore.Downsample"/> returns, without holding the raw day in memory): averaging steps
    /// again changes no value.
    /// Filling starts at the first step where every series of the model has a value; a later step with no value for a
    /// series repeats its previous value and counts as stale, as a live step does. Call it before <see cref="RunOnce"/>.
    /// </summary>
    /// <param name="read">The recorded samples of a series (by name) in [fromMs, toMs), raw or averaged into steps of the
    /// given length, or null when there are none.</param>
    /// <returns>Per model (in <see cref="ControlLoopSetup.Models"/> order), how many of its W steps were filled.</returns>
    public IReadOnlyList<int> WarmUp(Func<string, long, long, TimeSpan, RecordedSeries?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (Volatile.Read(ref _ticks) != 0)
        {
            throw new InvalidOperationException("WarmUp fills the windows before the first tick; this loop has already run.");
        }

        var now = _setup.Time.GetUtcNow().ToUnixTimeMilliseconds();
        return [.. _models.Select(m => m.WarmUp(now, index => _setup.Series[index], read))];
    }

    /// <summary>Runs one tick.</summary>
    public Decision RunOnce()
    {
        var time = _setup.Time;
        var start = time.GetTimestamp();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        _context.BeginTick(now);
        _decision.Reset();

        try
        {
            _setup.Source.Read(now, _values);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _context.Error ??= ex;
            _values.AsSpan().Fill(double.NaN);
        }

        var mark = Lap(_collect, start);

        if (_setup.Sink is { } sink)
        {
            bool written;
            try
            {
                written = sink.TryWrite(now, _values);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                written = false; // a store failure loses samples, not control: decisions go on
            }

            if (!written)
            {
                DroppedSamples++;
                _dropped.Add(1);
            }
        }

        mark = Lap(_store, mark);
        foreach (var model in _models)
        {
            model.Add(now, _values);
        }

        mark = Lap(_windows, mark);
        if (_ticks % _setup.InferenceEveryTicks == 0)
        {
            foreach (var model in _models)
            {
                try
                {
                    model.Forecast(now, _upperMax, _upperLead, _setup.PartitionLeadSteps);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    _context.Error ??= ex;
                }
            }
        }

        foreach (var model in _models)
        {
            model.CheckFresh(_setup.MaxStaleSteps, _setup.Series, _context);
        }

        mark = Lap(_inference, mark);
        try
        {
            Propose(_setup.Memory, _setup.MemoryPolicy);
            Propose(_setup.Cpu, _setup.CpuPolicy);
            if (_setup.Placement is { } placement && _assignment.Length > 0)
            {
                for (var m = 0; m < _predictedCpu.Length; m++)
                {
                    _predictedCpu[m] = _upperMax[_setup.ModuleSeries[m]];
                }

                _decision.SetMigrationCount(placement.Plan(_assignment, _predictedCpu, _decision.MigrationBuffer));
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _context.Error ??= ex;
        }

        mark = Lap(_policies, mark);
        var decision = _setup.Safety.Run(_decision, _context);
        if (decision.Held)
        {
            _held.Add(1);
        }

        mark = Lap(_safety, mark);
        BackendReport report;
        try
        {
            report = _setup.Backend.Apply(decision);

            // Only what the backend left listed was carried out (it removes refused moves): fail closed on placement.
            foreach (ref readonly var m in decision.Migrations)
            {
                if (_assignment[m.Module] == m.From)
                {
                    _assignment[m.Module] = m.To;
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            report = new BackendReport(0, 0, 0, 0, 1, $"backend {_setup.Backend.GetType().Name} failed: {ex.Message}");
        }

        LastReport = report;
        mark = Lap(_backend, mark);
        _setup.Log?.Append(now, decision, report);
        Lap(_log, mark);
        _tick.Record(time.GetElapsedTime(start).TotalSeconds);
        _ticks++;
        return decision;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private void Propose(PartitionBinding binding, IPartitionPolicy policy)
    {
        var user = _values[binding.UserSeries] * binding.Scale;
        var system = _values[binding.SystemSeries] * binding.Scale;
        if (double.IsNaN(user))
        {
            _context.ReportMissing(_setup.Series[binding.UserSeries]);
        }

        if (double.IsNaN(system))
        {
            _context.ReportMissing(_setup.Series[binding.SystemSeries]);
        }

        var observation = new PartitionObservation(
            _context.NowMs, user, system, _upperLead[binding.UserSeries] * binding.Scale, _upperLead[binding.SystemSeries] * binding.Scale);
        _decision[binding.Resource] = policy.Propose(_context.LastSafe[binding.Resource], observation);
    }

    private long Lap(Histogram<double> histogram, long since)
    {
        var now = _setup.Time.GetTimestamp();
        histogram.Record(_setup.Time.GetElapsedTime(since, now).TotalSeconds);
        return now;
    }

    private Histogram<double> Step(string step) =>
        _meter.CreateHistogram<double>($"predictor.loop.{step}.duration", "s", $"Duration of the control loop's '{step}' step.");

    private static void Validate(ControlLoopSetup setup)
    {
        var n = setup.Series.Count;
        if (n == 0)
        {
            throw new PredictorException("ControlLoopSetup.Series is empty: name at least the partitions' demand series.");
        }

        foreach (var binding in new[] { setup.Memory, setup.Cpu })
        {
            CheckIndex(binding.UserSeries, n, $"ControlLoopSetup.{binding.Resource}.UserSeries");
            CheckIndex(binding.SystemSeries, n, $"ControlLoopSetup.{binding.Resource}.SystemSeries");
        }

        if (setup.Memory.Resource != ResourceKind.Memory || setup.Cpu.Resource != ResourceKind.Cpu)
        {
            throw new PredictorException("ControlLoopSetup.Memory must bind ResourceKind.Memory and ControlLoopSetup.Cpu ResourceKind.Cpu.");
        }

        if (setup.ModuleSeries.Count != setup.Modules.Count)
        {
            throw new PredictorException($"ControlLoopSetup.ModuleSeries has {setup.ModuleSeries.Count} entries for {setup.Modules.Count} modules: give one demand series per module.");
        }

        for (var m = 0; m < setup.ModuleSeries.Count; m++)
        {
            CheckIndex(setup.ModuleSeries[m], n, $"ControlLoopSetup.ModuleSeries[{m}]");
        }

        if (setup.Modules.Count > 0 && setup.Locations.Count == 0)
        {
            throw new PredictorException("ControlLoopSetup.Locations is empty but there are modules: describe where they can run.");
        }

        if (setup.InitialAssignment is { } initial)
        {
            if (initial.Count != setup.Modules.Count || initial.Any(l => (uint)l >= (uint)setup.Locations.Count))
            {
                throw new PredictorException($"ControlLoopSetup.InitialAssignment must give each of the {setup.Modules.Count} modules a location in 0..{setup.Locations.Count - 1}.");
            }
        }

        for (var i = 0; i < setup.Models.Count; i++)
        {
            var model = setup.Models[i];
            if (model.Series.Count == 0)
            {
                throw new PredictorException($"ControlLoopSetup.Models[{i}] forecasts no series: list the series indices it covers.");
            }

            foreach (var s in model.Series)
            {
                CheckIndex(s, n, $"ControlLoopSetup.Models[{i}].Series");
            }
        }
    }

    private static void CheckIndex(int index, int count, string field)
    {
        if ((uint)index >= (uint)count)
        {
            throw new PredictorException($"{field} = {index} is not a series index: use 0..{count - 1} (the position in ControlLoopSetup.Series).");
        }
    }

    /// <summary>One model's buffers: its series' windows and pre-allocated input/output tensors.</summary>
    private sealed class ModelState
    {
        private readonly IForecaster _forecaster;
        private readonly int[] _series;
        private readonly double[] _subset;
        private readonly SeriesWindows _windows;
        private readonly float[] _window;
        private readonly float[] _calendar;
        private readonly float[] _forecast;
        private readonly float[] _upper;
        private readonly ForecastShape _shape;
        private readonly UpperTracker? _tracker;
        private readonly double[] _closed;
        private long _originMs;

        public ModelState(ModelBinding binding, UpperTrackerOptions? tracking)
        {
            _forecaster = binding.Forecaster;
            _shape = binding.Forecaster.Shape;
            _series = [.. binding.Series];
            var n = _series.Length;
            _subset = new double[n];
            _windows = new SeriesWindows(n, _shape.Window, _shape.Step);
            _window = new float[n * _shape.Window];
            _calendar = new float[n * _shape.CalendarWidth];
            _forecast = new float[n * _shape.Horizon];
            _upper = new float[n * _shape.Horizon];
            _closed = new double[n];
            _tracker = tracking is null ? null : new UpperTracker(n, _shape.Horizon, _shape.Quantile, tracking);
        }

        public void Add(long nowMs, double[] values)
        {
            for (var i = 0; i < _series.Length; i++)
            {
                _subset[i] = values[_series[i]];
            }

            if (_windows.Add(nowMs, _subset))
            {
                _originMs = nowMs;
                if (_tracker is not null)
                {
                    _windows.CopyLastClosed(_closed);
                    _tracker.Observe(_closed);
                }
            }
        }

        public int WarmUp(long nowMs, Func<int, string> name, Func<string, long, long, TimeSpan, RecordedSeries?> read)
        {
            var stepMs = Math.Max(1, (long)_shape.Step.TotalMilliseconds);
            var current = StepGrid.Index(nowMs, stepMs);
            var first = current - _shape.Window;
            var fromMs = first * stepMs;
            var toMs = current * stepMs; // the step in progress is left to the live ticks
            var byStep = new Dictionary<long, double>[_series.Length];
            for (var i = 0; i < _series.Length; i++)
            {
                byStep[i] = [];
                if (read(name(_series[i]), fromMs, toMs, _shape.Step) is { Count: > 0 } history)
                {
                    var steps = history.Downsample(_shape.Step);
                    for (var j = 0; j < steps.Count; j++)
                    {
                        byStep[i][StepGrid.Index(steps.Timestamps[j], stepMs)] = steps.Values[j];
                    }
                }
            }

            // Start where every series has a value, so no window slot is NaN.
            var start = first;
            while (start < current && !byStep.All(d => d.ContainsKey(start)))
            {
                start++;
            }

            for (var k = start; k < current; k++)
            {
                for (var i = 0; i < _series.Length; i++)
                {
                    _subset[i] = byStep[i].TryGetValue(k, out var v) ? v : double.NaN;
                }

                if (_windows.Add(k * stepMs, _subset))
                {
                    _originMs = k * stepMs;
                }
            }

            // The last step filled closes at the first live tick, which fills the window.
            return (int)(current - start);
        }

        public void Forecast(long nowMs, double[] upperMax, double[] upperLead, int? leadSteps)
        {
            if (_windows.Filled < _shape.Window)
            {
                return; // not enough history yet: no forecast, policies see NaN (predictive holds)
            }

            _windows.CopyWindow(_shape.Window, _window);
            if (_shape.CalendarWidth > 0)
            {
                CalendarFeatures.Fill(_originMs, _calendar, _shape.CalendarWidth);
            }

            _forecaster.Forecast(_window, _calendar, _series.Length, _forecast, _upper);
            _tracker?.Correct(_forecast, _upper);
            var h = _shape.Horizon;
            var lead = Math.Min(leadSteps ?? h, h);
            for (var i = 0; i < _series.Length; i++)
            {
                var row = _upper.AsSpan(i * h, h);
                upperLead[_series[i]] = Max(row[..lead]);
                upperMax[_series[i]] = lead == h ? upperLead[_series[i]] : Max(row);
            }
        }

        /// <summary>The largest value; NaN when any is NaN (a forecast with a hole is no forecast).</summary>
        private static double Max(ReadOnlySpan<float> values)
        {
            var max = double.NegativeInfinity;
            foreach (var u in values)
            {
                if (float.IsNaN(u))
                {
                    return double.NaN;
                }

                max = Math.Max(max, u);
            }

            return max;
        }

        public void CheckFresh(int maxStaleSteps, IReadOnlyList<string> names, SafetyContext context)
        {
            for (var i = 0; i < _series.Length; i++)
            {
                if (_windows.StaleSteps(i) > maxStaleSteps)
                {
                    context.ReportMissing(names[_series[i]]);
                }
            }
        }
    }
}

using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Engine.Replay;

/// <summary>A named demand array on the replay grid.</summary>
/// <param name="Name">Partition or module name.</param>
/// <param name="Demand">Demand per tick, in the scenario's unit (series summed, then scaled).</param>
/// <param name="Series">Names of the series summed into it.</param>
public sealed record DemandSeries(string Name, double[] Demand, IReadOnlyList<string> Series);

/// <summary>
/// A scenario's demand put on one tick grid: what the replay loop feeds its collectors, and what the budget is sized on.
/// </summary>
/// <param name="StartUnixMs">Time of tick 0 (Unix ms).</param>
/// <param name="Tick">Grid step.</param>
/// <param name="Ticks">Number of ticks.</param>
/// <param name="Partitions">Partition demand, <c>user</c> then <c>system</c>.</param>
/// <param name="Modules">Module load, in scenario order (empty without placement).</param>
/// <param name="TotalBudget">The total budget, resolved (auto: factor × peak of the summed partition demand).</param>
/// <param name="BudgetNote">How the total was chosen.</param>
public sealed record ScenarioInputs(
    long StartUnixMs,
    TimeSpan Tick,
    int Ticks,
    IReadOnlyList<DemandSeries> Partitions,
    IReadOnlyList<DemandSeries> Modules,
    double TotalBudget,
    string BudgetNote)
{
    /// <summary>
    /// Selects, aligns, sums and scales the scenario's series. The grid starts at the latest first sample of the selected
    /// series and ends at the earliest last sample (every tick has data from every series); its step is the scenario's
    /// <c>tickSeconds</c>, else the longest nominal step among the series. A series' value at a tick is its last sample at
    /// or before the tick (sample-and-hold: a gap repeats the last value rather than inventing one or dropping the tick).
    /// A series recorded more finely than the tick (nominal step shorter than it) is first folded into epoch-aligned
    /// steps of the tick's length (<see cref="ScenarioOptions.Downsample"/>: mean by default, NaN left out, as
    /// <c>predictor train --step</c> does), each stamped at its end, when it is complete: the value at a tick is then the
    /// step that ended at or before it, which holds samples from before the tick only (no future leaks in).
    /// </summary>
    /// <exception cref="ScenarioException">A pattern matches nothing, or the selected series share no time span.</exception>
    public static ScenarioInputs Assemble(ScenarioOptions scenario, IReadOnlyList<RecordedSeries> available)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(available);
        var byName = new Dictionary<string, RecordedSeries>(StringComparer.Ordinal);
        foreach (var s in available)
        {
            byName[s.Info.Name] = s;
        }

        return Assemble(scenario, [.. available.Select(s => s.Info)], info => byName[info.Name], (info, step, how) => byName[info.Name].Downsample(step, how));
    }

    /// <summary>
    /// Reads the scenario's source and assembles its inputs as <see cref="Assemble(ScenarioOptions, IReadOnlyList{RecordedSeries})"/>
    /// does, with the same result to the bit. From a store, only the selected series are decoded, and a series recorded
    /// more finely than the tick is folded into the tick's steps while its chunks are decoded
    /// (<see cref="TimeSeriesStore.Downsample"/>), so a week of 100 ms ticks is never held raw in memory: about 6 M samples,
    /// 100 MB, per series. A trace is imported whole (<see cref="ScenarioSource.Read(string, Func{string, bool})"/>).
    /// </summary>
    /// <exception cref="ScenarioException">The store holds no series, a pattern matches nothing, or the selected series share no time span.</exception>
    public static ScenarioInputs Load(ScenarioOptions scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Source.StorePath is null)
        {
            return Assemble(scenario, scenario.Source.Read(scenario.File, scenario.Uses));
        }

        using var store = scenario.Source.OpenStore(scenario.File);
        return Assemble(
            scenario,
            [.. store.ListSeries().Select(s => s.Info)],
            info => store.ReadRange(info.Name, long.MinValue, long.MaxValue),
            (info, step, how) => store.Downsample(info.Name, long.MinValue, long.MaxValue, step, how));
    }

    // The one assembly behind both entry points: `read` gives a series' samples as recorded, `steps` its epoch-aligned
    // steps stamped at their starts (the same values, in memory or while the store decodes). Only used series are read.
    private static ScenarioInputs Assemble(
        ScenarioOptions scenario,
        IReadOnlyList<SeriesInfo> available,
        Func<SeriesInfo, RecordedSeries> read,
        Func<SeriesInfo, TimeSpan, Aggregation, RecordedSeries> steps)
    {
        var infoOf = new Dictionary<string, SeriesInfo>(StringComparer.Ordinal);
        foreach (var s in available)
        {
            infoOf[s.Name] = s;
        }

        var names = available.Select(s => s.Name).ToList();
        var partitionSeries = scenario.Partitions.Select(p => scenario.Select(p.Series, names)).ToList();
        var moduleSeries = scenario.Modules.Select(m => scenario.Select(m.Series, names)).ToList();
        var used = partitionSeries.Concat(moduleSeries).SelectMany(x => x).Distinct().Select(n => infoOf[n]).ToList();
        var tick = scenario.Tick ?? used.Max(s => s.Step);
        var how = scenario.Downsample == ScenarioDownsample.Max ? Aggregation.Max : Aggregation.Mean;
        var onGrid = new Dictionary<string, RecordedSeries>(StringComparer.Ordinal);
        var finer = new List<SeriesInfo>();
        foreach (var info in used)
        {
            // A series finer than the tick is folded into its steps (NaN left out). Any other is read as recorded, and a
            // NaN or infinite sample in it is a gap: the finite value before it is held, as across any gap.
            if (tick > TimeSpan.Zero && scenario.Downsample != ScenarioDownsample.Last && info.Step > TimeSpan.Zero && info.Step < tick
                && steps(info, tick, how) is { Count: > 0 } folded)
            {
                onGrid[info.Name] = StepsAtTheirEnds(folded, tick);
                finer.Add(info);
                continue;
            }

            var recorded = read(info);
            if (recorded.Count == 0)
            {
                throw new ScenarioException(scenario.File, "$.partitions", $"the series '{info.Name}' has no samples; select series with data.");
            }

            var finite = FiniteOnly(recorded);
            if (finite.Count == 0)
            {
                throw new ScenarioException(scenario.File, "$.partitions", $"the series '{info.Name}' has no finite sample (all {recorded.Count} are NaN or infinite); select series with data.");
            }

            onGrid[info.Name] = finite;
        }

        if (tick <= TimeSpan.Zero)
        {
            throw new ScenarioException(scenario.File, "$.tickSeconds", "the series declare no step; set \"tickSeconds\" (e.g. 300).");
        }

        var tickMs = (long)tick.TotalMilliseconds;
        var start = onGrid.Values.Max(s => s.Timestamps[0]);
        var end = onGrid.Values.Min(s => s.Timestamps[^1]);
        if (end < start)
        {
            throw new ScenarioException(scenario.File, "$.partitions",
                "the selected series do not overlap in time; choose series recorded over a common period.");
        }

        var span = ((end - start) / tickMs) + 1;
        if (span > MaxTicks)
        {
            throw new ScenarioException(scenario.File, "$.tickSeconds", FormattableString.Invariant(
                $"a tick of {WarmUp.Format(tick)} over the {WarmUp.Format(TimeSpan.FromMilliseconds(end - start))} the series share makes {span:N0} ticks, more than the {MaxTicks:N0} a replay holds; set \"tickSeconds\" to at least {Math.Ceiling((end - start) / (double)MaxTicks) / 1000:0.###}."));
        }

        var ticks = (int)span;
        if (ticks < 2)
        {
            throw new ScenarioException(scenario.File, "$.partitions",
                "the selected series share a single tick, and a replay needs at least 2 to measure; choose series recorded over a longer common period, or a shorter \"tickSeconds\".");
        }

        var grid = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var s in onGrid.Values)
        {
            grid[s.Info.Name] = OnGrid(s, start, tickMs, ticks);
        }

        double[] Sum(IReadOnlyList<string> series, double scale)
        {
            var sum = new double[ticks];
            foreach (var n in series)
            {
                var values = grid[n];
                for (var t = 0; t < ticks; t++)
                {
                    sum[t] += values[t];
                }
            }

            for (var t = 0; t < ticks; t++)
            {
                sum[t] *= scale;
            }

            return sum;
        }

        var partitions = scenario.Partitions.Select((p, i) => new DemandSeries(p.Name, Sum(partitionSeries[i], p.Scale), partitionSeries[i])).ToList();
        var modules = scenario.Modules.Select((m, i) => new DemandSeries(m.Name, Sum(moduleSeries[i], m.Scale), moduleSeries[i])).ToList();
        var peak = 0.0;
        for (var t = 0; t < ticks; t++)
        {
            peak = Math.Max(peak, partitions.Sum(p => p.Demand[t]));
        }

        var (total, note) = scenario.Budget.Resolve(peak);
        if (!(total >= MinBudget && total <= MaxBudget))
        {
            throw new ScenarioException(scenario.File, "$.budget", FormattableString.Invariant(
                $"the total budget is {total:G4} {scenario.Unit}, outside what a replay splits ({MinBudget:G1} to {MaxBudget:G1} of the scenario's unit); express the demand in another unit with the partitions' \"scale\" (e.g. cores rather than millicores)."));
        }

        return new ScenarioInputs(start, tick, ticks, partitions, modules, total, note)
        {
            DownsampleNote = finer.Count == 0 ? null : DescribeDownsampling(finer, used.Count, tick, scenario.Downsample),
        };
    }

    /// <summary>
    /// Null when every series was replayed as recorded; else how many were folded into the tick's steps, and how, e.g.
    /// "averaged 38 of 38 series, recorded every 0.1 s, into steps of 5 min (epoch-aligned means, NaN left out, each
    /// known at its step's end; …)". The replay command prints it and the JSON result and report carry it.
    /// </summary>
    public string? DownsampleNote { get; init; }

    // Steps of the tick's length (stamped at their starts) restamped at their ends, when all their samples are in, so
    // that sample-and-hold on the grid reads only complete steps from the past.
    private static RecordedSeries StepsAtTheirEnds(RecordedSeries steps, TimeSpan tick)
    {
        var tickMs = (long)tick.TotalMilliseconds;
        var ends = new long[steps.Count];
        for (var i = 0; i < ends.Length; i++)
        {
            ends[i] = steps.Timestamps[i] + tickMs;
        }

        return new RecordedSeries(steps.Info, ends, steps.Values);
    }

    /// <summary>The smallest total budget a replay splits, in the scenario's unit (below one unit the loop's integer units are made finer to keep 1,000 to 10,000 of them; this bound keeps the scaled demand a sensible double).</summary>
    public const double MinBudget = 1e-6;

    /// <summary>The largest total budget a replay splits, in the scenario's unit.</summary>
    public const double MaxBudget = 1e12;

    /// <summary>The most ticks a replay's grid may have: 10 million, 11.6 days at 100 ms; each policy keeps a few values per tick.</summary>
    public const int MaxTicks = 10_000_000;

    // The series without its NaN and infinite samples (the same instance when it has none).
    private static RecordedSeries FiniteOnly(RecordedSeries s)
    {
        if (Array.TrueForAll(s.Values, double.IsFinite))
        {
            return s;
        }

        var keep = Enumerable.Range(0, s.Count).Where(i => double.IsFinite(s.Values[i])).ToArray();
        return new RecordedSeries(s.Info, [.. keep.Select(i => s.Timestamps[i])], [.. keep.Select(i => s.Values[i])]);
    }

    private static string DescribeDownsampling(IReadOnlyList<SeriesInfo> finer, int used, TimeSpan tick, ScenarioDownsample how)
    {
        var recorded = string.Join(", ", finer.Select(s => s.Step).Distinct().Order().Select(WarmUp.Format));
        var what = how == ScenarioDownsample.Max ? "peaks" : "means";
        var verb = how == ScenarioDownsample.Max ? "took the peak of" : "averaged";
        return FormattableString.Invariant(
            $"{verb} {finer.Count} of {used} series, recorded every {recorded}, into steps of {WarmUp.Format(tick)} (epoch-aligned {what}, NaN left out, each known at its step's end; scenario field \"downsample\")");
    }

    private static double[] OnGrid(RecordedSeries s, long start, long tickMs, int ticks)
    {
        var values = new double[ticks];
        var i = 0;
        for (var t = 0; t < ticks; t++)
        {
            var at = start + (t * tickMs);
            while (i + 1 < s.Count && s.Timestamps[i + 1] <= at)
            {
                i++;
            }

            values[t] = s.Values[i];
        }

        return values;
    }
}

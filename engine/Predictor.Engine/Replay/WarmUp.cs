using System.Globalization;

namespace Predictor.Engine.Replay;

/// <summary>
/// Cuts the warm-up off a policy's run: the ticks before <see cref="ScenarioOptions.WarmUp"/> were replayed (so every
/// policy starts the measured part with full windows, histograms and model inputs) but count in no metric. Done on the
/// finished traces, after the loop, so the loop itself is the same with and without a warm-up.
/// </summary>
internal static class WarmUp
{
    /// <summary>Ticks of warm-up: ⌈warm-up / tick⌉; throws when that leaves fewer than two ticks to measure.</summary>
    public static int Ticks(ScenarioOptions scenario, ScenarioInputs inputs)
    {
        if (scenario.WarmUp <= TimeSpan.Zero)
        {
            return 0;
        }

        var ticks = (int)Math.Ceiling(scenario.WarmUp / inputs.Tick);
        if (ticks > inputs.Ticks - 2)
        {
            throw new ScenarioException(scenario.File, "$.warmUp", string.Create(CultureInfo.InvariantCulture,
                $"a warm-up of {Format(scenario.WarmUp)} is {ticks} ticks, which leaves fewer than 2 of the {inputs.Ticks} ticks to measure; use a shorter warm-up."));
        }

        return ticks;
    }

    /// <summary>A warm-up for people: "7 days", "6 h", "30 s".</summary>
    public static string Format(TimeSpan span) => span.TotalDays >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0.###} days")
        : span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.###} h")
            : span.TotalMinutes >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0.###} min")
                : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.###} s");

    /// <summary>The run from tick <paramref name="from"/> on, with migration ticks renumbered from there.</summary>
    public static PolicyRun Trim(PolicyRun run, int from)
    {
        if (from == 0)
        {
            return run;
        }

        return run with
        {
            Partitions = run.Partitions.Select(p => new PartitionTrace(p.Name, p.Demand[from..], p.Allocation[from..])).ToArray(),
            Locations = run.Locations.Select(l => new LocationTrace(l.Id, l.Capacity, l.Load[from..])).ToArray(),
            Modules = run.Modules.Select(m => new ModuleTrace(m.Name, m.Demand[from..])).ToArray(),
            Migrations = run.Migrations.Where(m => m.Tick >= from).Select(m => m with { Tick = m.Tick - from }).ToArray(),
        };
    }
}

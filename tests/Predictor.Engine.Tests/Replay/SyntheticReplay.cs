using System.Globalization;
using Predictor.Engine.Replay;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Replay;

/// <summary>
/// A deterministic <see cref="ReplayResult"/> built from real traces, for the report and result-file tests, until the
/// control loop produces real ones. Demand is real (NAB autoscaling group CPU for the user partition, ten Azure V1 VMs
/// for the system partition, eight more Azure VMs as modules); the allocation rules are deliberately simple, causal
/// (the allocation in force at t uses demand up to t − 1 only) and are NOT the project's policies.
/// </summary>
internal static class SyntheticReplay
{
    public static readonly TimeSpan Tick = TimeSpan.FromMinutes(5);

    /// <summary>Reads a NAB CSV (<c>timestamp,value</c>) in file order; gaps are not filled (fine for a fixture).</summary>
    public static (long StartUnixMs, double[] Values) ReadNab(string path)
    {
        var values = new List<double>();
        long start = 0;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var comma = line.IndexOf(',', StringComparison.Ordinal);
            if (values.Count == 0)
            {
                start = DateTimeOffset.ParseExact(line[..comma], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds();
            }

            values.Add(double.Parse(line[(comma + 1)..], CultureInfo.InvariantCulture));
        }

        return (start, values.ToArray());
    }

    /// <summary>Reads the Azure V1 subset: one array per VM column (CPU %).</summary>
    public static double[][] ReadAzure()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.SharedDatasets, "azure_v1", "microsoft_avg_100.subset30.csv"));
        var vms = lines[0].Split(',').Length - 2;
        var columns = new double[vms][];
        for (var v = 0; v < vms; v++)
        {
            columns[v] = new double[lines.Length - 1];
        }

        for (var r = 1; r < lines.Length; r++)
        {
            var cells = lines[r].Split(',');
            for (var v = 0; v < vms; v++)
            {
                columns[v][r - 1] = double.Parse(cells[v + 2], CultureInfo.InvariantCulture);
            }
        }

        return columns;
    }

    public static ReplayResult Build(int ticks = 8004)
    {
        var (start, asg) = ReadNab(Path.Combine(RepoPaths.SharedDatasets, "nab", "data", "realKnownCause", "cpu_utilization_asg_misconfiguration.csv"));
        var azure = ReadAzure();
        ticks = Math.Min(ticks, Math.Min(asg.Length, azure[0].Length));

        // Demand in cores: the group's CPU % of 8 cores, and ten 1-core VMs.
        var user = new double[ticks];
        var system = new double[ticks];
        for (var t = 0; t < ticks; t++)
        {
            user[t] = asg[t] / 100 * 8;
            for (var v = 0; v < 10; v++)
            {
                system[t] += azure[v][t] / 100;
            }
        }

        var peak = Enumerable.Range(0, ticks).Max(t => user[t] + system[t]);
        var budget = 1.25 * peak;
        var info = new ReplayRunInfo("synthetic: NAB asg + Azure V1", Tick, start, budget,
            $"1.25 × peak of summed demand (peak {peak:0.00})", "cores");

        var modules = Enumerable.Range(10, 8).Select(v => new ModuleTrace($"vm{v}", azure[v][..ticks].Select(x => x / 100).ToArray())).ToArray();
        string[] locations = ["core0", "core1", "core2", "core3"];

        return new ReplayResult(info,
        [
            Run("static-split", false, user, system, budget, (d, t) => budget / 2, modules, locations, rebalance: false),
            Run("last+20%", false, user, system, budget, (d, t) => t == 0 ? d[0] : d[t - 1] * 1.2, modules, locations, rebalance: true),
            Run("seasonal-naive", true, user, system, budget, SeasonalNaive, modules, locations, rebalance: true),
        ]);
    }

    /// <summary>Allocation in force at t: 1.15 × the maximum demand of the same hour yesterday and of the last hour (data up to t − 1).</summary>
    public static double SeasonalNaive(double[] d, int t)
    {
        var max = 0.0;
        for (var k = 1; k <= 12 && t - k >= 0; k++)
        {
            max = Math.Max(max, d[t - k]);
        }

        for (var k = 288 - 6; k <= 288 + 6 && t - k >= 0; k++)
        {
            max = Math.Max(max, d[t - k]);
        }

        return t == 0 ? d[0] : 1.15 * max;
    }

    private static PolicyRun Run(
        string name, bool predictive, double[] user, double[] system, double budget, Func<double[], int, double> rule,
        ModuleTrace[] modules, string[] locations, bool rebalance)
    {
        var ua = new double[user.Length];
        var sa = new double[system.Length];
        for (var t = 0; t < user.Length; t++)
        {
            ua[t] = Math.Round(rule(user, t), 1);
            sa[t] = Math.Round(rule(system, t), 1);

            // Keep within the budget the way a bounded policy would: scale both down proportionally.
            if (ua[t] + sa[t] > budget)
            {
                var f = budget / (ua[t] + sa[t]);
                ua[t] *= f;
                sa[t] *= f;
            }
        }

        var (loads, moves) = Place(modules, locations, rebalance);
        return new PolicyRun(name, predictive,
            [new PartitionTrace("user", user, ua), new PartitionTrace("system", system, sa)],
            locations.Select((l, i) => new LocationTrace(l, 1.0, loads[i])).ToArray(),
            modules,
            moves);
    }

    /// <summary>Round-robin start; when rebalancing, each hour moves the largest module off a location above 80 % (seen at t).</summary>
    private static (double[][] Loads, List<MigrationEvent> Moves) Place(ModuleTrace[] modules, string[] locations, bool rebalance)
    {
        var n = modules[0].Demand.Length;
        var at = modules.Select((_, i) => i % locations.Length).ToArray();
        var loads = locations.Select(_ => new double[n]).ToArray();
        var moves = new List<MigrationEvent>();
        for (var t = 0; t < n; t++)
        {
            for (var m = 0; m < modules.Length; m++)
            {
                loads[at[m]][t] += modules[m].Demand[t];
            }

            if (!rebalance || t % 12 != 0)
            {
                continue;
            }

            var hot = Enumerable.Range(0, locations.Length).MaxBy(l => loads[l][t]);
            var cold = Enumerable.Range(0, locations.Length).MinBy(l => loads[l][t]);
            if (loads[hot][t] > 0.8 && hot != cold)
            {
                var mover = Enumerable.Range(0, modules.Length).Where(m => at[m] == hot).MaxBy(m => modules[m].Demand[t]);
                at[mover] = cold;
                moves.Add(new MigrationEvent(t, modules[mover].Name, locations[hot], locations[cold]));
            }
        }

        return (loads, moves);
    }
}

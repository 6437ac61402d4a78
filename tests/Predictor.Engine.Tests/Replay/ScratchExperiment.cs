using System.Globalization;
using Predictor.Engine.Partitioning;
using Xunit.Abstractions;

namespace Predictor.Engine.Tests.Replay;

public sealed class ScratchExperiment(ITestOutputHelper output)
{
    [Fact]
    public void Scratch_Grid()
    {
        var spec = Environment.GetEnvironmentVariable("GRID") ?? "0.1,0.05,12,1,-1,0.5";
        foreach (var line in spec.Split(';'))
        {
            var v = line.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            var o = new PredictivePolicyOptions { Headroom = v[0], DeadBandShare = v[1], ShrinkAfterTicks = (int)v[2], UsageFloor = v[3] };
            foreach (var f in (Environment.GetEnvironmentVariable("FILES") ?? "nab-host.json,azure-placement.json,build-recording.json").Split(','))
            {
                var r = ShippedScenarioReplay.Run(f, o);
                var s = string.Join(" | ", r.Policies.Where(p => p.Run.Name is "threshold" or "autopilot" || p.Run.IsPredictive).Select(p => FormattableString.Invariant(
                    $"{p.Run.Name.Split('/')[0][..4]} {p.Metrics.Partitions.UnderProvisionedTicks}/{p.Metrics.Partitions.RelativeSlack * 100:0.0}/{p.Metrics.Partitions.ChangesPerPartitionDay:0.##}")));
                output.WriteLine($"{line} {f[..5]}: {s} :: nb={string.Join(",", r.NotBeaten(r.Policies.Last().Run.Name))}");
                if (Environment.GetEnvironmentVariable("SHOW") is { } show)
                {
                    var pr = r.Policies.First(p => p.Run.Name.StartsWith(show, StringComparison.Ordinal)).Run;
                    foreach (var part in pr.Partitions)
                    {
                        var under = Enumerable.Range(0, part.Demand.Length).Where(t => part.Demand[t] > part.Allocation[t]).ToList();
                        output.WriteLine($"{part.Name} under {under.Count}: " + string.Join(" ", under.Take(40)
                            .Select(t => FormattableString.Invariant($"t{t}:{part.Demand[Math.Max(0, t - 1)]:0.#}>{part.Demand[t]:0.#}/{part.Allocation[t]:0.#}"))));
                    }
                }
            }
        }
    }
}

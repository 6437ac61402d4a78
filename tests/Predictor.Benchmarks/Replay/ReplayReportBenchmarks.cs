using BenchmarkDotNet.Attributes;
using Predictor.Engine.Replay;
using Predictor.Engine.Replay.Report;

namespace Predictor.Benchmarks.Replay;

/// <summary>
/// Cost of what follows a replay: measuring every policy (metrics, placement, dominance), the JSON result and the HTML
/// report, for 30 days at 5-minute ticks (8,640 ticks), 5 policies, 2 partitions, 8 locations and 32 modules.
/// Synthetic but realistic shapes (daily cycle, noise, surges); deterministic seed.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ReplayReportBenchmarks
{
    private const int Ticks = 30 * 288;
    private ReplayRunInfo _info = null!;
    private PolicyRun[] _runs = null!;
    private ReplayResult _result = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        double[] Daily(double level, double amplitude) => Enumerable.Range(0, Ticks).Select(t =>
            Math.Max(0, level + (amplitude * Math.Sin(2 * Math.PI * t / 288)) + (random.NextDouble() * amplitude / 3) + (random.Next(500) == 0 ? 3 * amplitude : 0))).ToArray();

        var user = Daily(6, 3);
        var system = Daily(3, 1);
        var modules = Enumerable.Range(0, 32).Select(m => new ModuleTrace($"m{m}", Daily(0.2, 0.1))).ToArray();
        var locations = Enumerable.Range(0, 8).Select(l =>
        {
            var load = new double[Ticks];
            for (var m = l; m < 32; m += 8)
            {
                for (var t = 0; t < Ticks; t++)
                {
                    load[t] += modules[m].Demand[t];
                }
            }

            return new LocationTrace($"core{l}", 1.0, load);
        }).ToArray();
        var migrations = Enumerable.Range(0, 200).Select(i => new MigrationEvent(i * 40, $"m{i % 32}", $"core{i % 8}", $"core{(i + 1) % 8}")).ToArray();
        _info = new ReplayRunInfo("bench", TimeSpan.FromMinutes(5), 1_400_000_000_000, 16, "explicit", "cores");
        _runs = Enumerable.Range(0, 5).Select(p => new PolicyRun(
            $"policy{p}", p == 4,
            [new PartitionTrace("user", user, user.Select(d => Math.Min(8, Math.Round(d * (1 + (0.1 * p)), 1))).ToArray()),
             new PartitionTrace("system", system, system.Select(d => Math.Min(8, Math.Round(d * (1.3 - (0.1 * p)), 1))).ToArray())],
            locations, modules, migrations)).ToArray();
        _result = new ReplayResult(_info, _runs);
    }

    [Benchmark]
    public ReplayResult MeasureAndCompare() => new(_info, _runs);

    [Benchmark]
    public int RenderHtmlReport() => HtmlReport.Render(_result).Length;

    [Benchmark]
    public long WriteJsonResult()
    {
        using var stream = new MemoryStream();
        ReplayResultJson.Write(_result, stream);
        return stream.Length;
    }
}

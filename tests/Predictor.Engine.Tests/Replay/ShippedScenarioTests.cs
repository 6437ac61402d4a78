using System.Globalization;
using Predictor.Engine.Replay;
using Predictor.Engine.Telemetry;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Replay;

/// <summary>
/// The scenarios shipped in datasets/scenarios parse, name series that exist in their traces, and size the budget so
/// that demand matters. The traces are read here with minimal readers (not the project's importers), under the
/// prefix-agnostic names the scenarios use ("*/stem").
/// </summary>
public sealed class ShippedScenarioTests
{
    public static TheoryData<string> Scenarios()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(RepoPaths.InRepo("datasets", "scenarios"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Load_ShippedScenario_SeriesExistAndPeakDemandFillsMostOfTheBudget(string file)
    {
        var scenario = ScenarioFile.Load(RepoPaths.InRepo("datasets", "scenarios", file));
        var series = Read(scenario.Source);

        var inputs = ScenarioInputs.Assemble(scenario, series);

        Assert.True(inputs.Ticks >= 4000, $"{file}: only {inputs.Ticks} ticks");
        var peak = Enumerable.Range(0, inputs.Ticks).Max(t => inputs.Partitions.Sum(p => p.Demand[t]));
        Assert.Equal(0.8, peak / inputs.TotalBudget, 9);   // 1 / 1.25
        Assert.Equal(scenario.Modules.Count, inputs.Modules.Count);
        Assert.All(inputs.Modules, m => Assert.Single(m.Series));
        Assert.Contains(scenario.Policies, p => p.Kind == ScenarioPolicyKind.Predictive);
        Assert.Contains(scenario.Policies, p => p.Kind == ScenarioPolicyKind.Threshold);
    }

    private static List<RecordedSeries> Read(ScenarioSource source)
    {
        var step = TimeSpan.FromMinutes(5);
        if (source.StorePath is { } store)
        {
            using var ts = Predictor.Engine.Storage.TimeSeriesStore.Open(store);
            return ts.ListSeries().Select(s => ts.ReadRange(s.Info.Name, long.MinValue, long.MaxValue)).ToList();
        }

        switch (source.Format)
        {
            case Predictor.Engine.Telemetry.Import.TraceFormat.Nab:
                return Directory.EnumerateFiles(source.TracePath!, "*.csv").Select(f =>
                {
                    var rows = File.ReadLines(f).Skip(1).Select(l => l.Split(',')).ToList();
                    var t = rows.Select(r => DateTimeOffset.ParseExact(r[0], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds()).ToArray();
                    var v = rows.Select(r => double.Parse(r[1], CultureInfo.InvariantCulture)).ToArray();
                    return new RecordedSeries(new SeriesInfo("nab/" + Path.GetFileNameWithoutExtension(f), "percent", step), t, v);
                }).ToList();
            case Predictor.Engine.Telemetry.Import.TraceFormat.AzureV1:
                var header = File.ReadLines(source.TracePath!).First().Split(',');
                var columns = SyntheticReplay.ReadAzure();
                var offsets = Enumerable.Range(0, columns[0].Length).Select(i => i * 300_000L).ToArray();
                return columns.Select((c, i) => new RecordedSeries(new SeriesInfo("azure/" + header[i + 2], "percent", step), offsets, c)).ToList();
            default:
                throw new InvalidOperationException($"no test reader for {source.Format}; add one when shipping such a scenario");
        }
    }
}

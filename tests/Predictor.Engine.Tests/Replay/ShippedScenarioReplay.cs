using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Replay;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Replay;

/// <summary>Replays a shipped scenario as `predictor replay` does: the project's importers, the declared ONNX models.</summary>
internal static class ShippedScenarioReplay
{
    public static ReplayResult Run(string file, PredictivePolicyOptions? predictive = null)
    {
        var scenario = ScenarioFile.Load(RepoPaths.InRepo("datasets", "scenarios", file));
        var inputs = ScenarioInputs.Assemble(scenario, Read(scenario.Source));
        var naive = new NaiveForecasterOptions { Step = inputs.Tick };
        IForecaster Open(ScenarioModel model)
        {
            if (model.Path is null)
            {
                return ForecasterLoader.Naive(naive);
            }

            var loaded = ForecasterLoader.LoadOrFallback(model.Path, fallback: naive);
            Assert.False(loaded.IsFallback, $"{file}: model '{model.Name}' fell back to naive: {loaded.FallbackReason}");
            return loaded.Forecaster;
        }

        return ReplayRunner.Run(scenario, inputs, Open, predictive: predictive);
    }

    private static List<RecordedSeries> Read(ScenarioSource source)
    {
        if (source.StorePath is { } store)
        {
            using var ts = TimeSeriesStore.Open(store);
            return ts.ListSeries().Select(s => ts.ReadRange(s.Info.Name, long.MinValue, long.MaxValue)).ToList();
        }

        var format = source.Format switch
        {
            ScenarioTraceFormat.Nab => TraceFormat.Nab,
            ScenarioTraceFormat.AzureV1 => TraceFormat.AzureV1,
            _ => throw new InvalidOperationException($"no test reader for {source.Format}; add one when shipping such a scenario"),
        };
        var files = Directory.Exists(source.TracePath) ? Directory.GetFiles(source.TracePath).Order(StringComparer.Ordinal).ToList() : [source.TracePath!];
        return files.SelectMany(f => TraceImporter.Import(format, f).Series).ToList();
    }
}

using Predictor.Engine.Forecasting;
using Predictor.Engine.Replay;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Replay;

/// <summary>Replays a shipped scenario as `predictor replay` does: the project's importers, the declared ONNX models.</summary>
internal static class ShippedScenarioReplay
{
    public static ReplayResult Run(string file, int lookaheadRows = ReplayRunner.LookaheadRows)
    {
        var scenario = ScenarioFile.Load(RepoPaths.InRepo("datasets", "scenarios", file));
        var inputs = ScenarioInputs.Assemble(scenario, scenario.Source.Read(scenario.File));
        var naive = new NaiveForecasterOptions { Step = inputs.Tick };
        IForecaster Open(ScenarioModel model)
        {
            // What `predictor replay` opens; CheckModels (the command's own pre-flight) is tested in the CLI's tests.
            var loaded = ForecasterLoader.LoadOrFallback(model.Path, fallback: naive);
            Assert.False(model.Path is not null && loaded.IsFallback, $"{file}: model '{model.Name}' fell back to naive: {loaded.FallbackReason}");
            loaded.Forecaster.Dispose();
            return ReplayRunner.OpenModel(model, naive);
        }

        return ReplayRunner.Run(scenario, inputs, Open, hasWallClock: true, progress: null, lookaheadRows);
    }
}

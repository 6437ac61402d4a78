using Predictor.Engine.Forecasting;
using Predictor.Engine.Replay;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Replay;

/// <summary>Replays a shipped scenario as `predictor replay` does: the project's importers, the declared ONNX models.</summary>
internal static class ShippedScenarioReplay
{
    public static ReplayResult Run(string file)
    {
        var scenario = ScenarioFile.Load(RepoPaths.InRepo("datasets", "scenarios", file));
        var inputs = ScenarioInputs.Assemble(scenario, scenario.Source.Read(scenario.File));
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

        return ReplayRunner.Run(scenario, inputs, Open);
    }
}

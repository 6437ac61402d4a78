using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

/// <summary>
/// Each shipped scenario replayed as `predictor replay` does it (the project's importers, the declared trained models,
/// the policies' documented defaults), asserting exactly what README's "What the shipped scenarios say" claims, so a
/// change that breaks a claim goes red. Each replays in a few seconds.
/// </summary>
public sealed class ShippedScenarioVerdictTests
{
    [Fact]
    public void Replay_NabHost_TrainedSsaIsOnTheFrontWithFewUnderProvisionedTicksButDoesNotBeatThresholdOrAutopilot()
    {
        var result = ShippedScenarioReplay.Run("nab-host.json");

        var predictive = Assert.Single(result.Policies, p => p.Run.IsPredictive);
        Assert.Equal("predictive/ssa-first7d", predictive.Run.Name);
        Assert.Equal(2016, result.TickCount); // the 7 days after the 7 the model was trained on
        Assert.False(predictive.IsDominated);
        Assert.Equal(["threshold", "autopilot"], result.BaselineFront());
        Assert.Equal(["threshold", "autopilot"], result.NotBeaten(predictive.Run.Name));
        Assert.InRange(predictive.Metrics.Partitions.UnderProvisionedShare, 0, 0.0045); // 16 of 4,032 (autopilot 17)
        Assert.InRange(predictive.Metrics.Partitions.ChangesPerPartitionDay, 0, 4);
        Assert.Contains("does NOT beat threshold, autopilot", result.PredictiveVerdict(), StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_AzurePlacement_TrainedRidgeDominatesVpaAndAutopilotButDoesNotBeatThreshold()
    {
        var result = ShippedScenarioReplay.Run("azure-placement.json");

        var predictive = Assert.Single(result.Policies, p => p.Run.IsPredictive);
        Assert.Equal("predictive/ridge-first14d", predictive.Run.Name);
        Assert.False(predictive.IsDominated);
        Assert.Contains(predictive.Run.Name, result.Policies.Single(p => p.Run.Name == "vpa").DominatedBy);
        Assert.Contains(predictive.Run.Name, result.Policies.Single(p => p.Run.Name == "autopilot").DominatedBy);
        Assert.Equal(["threshold", "autopilot"], result.BaselineFront()); // the front among the baselines alone
        Assert.Equal(["threshold"], result.NotBeaten(predictive.Run.Name));
        Assert.Contains("does NOT beat threshold:", result.PredictiveVerdict(), StringComparison.Ordinal);
        // The defaults chosen on held-out scenarios (≤ 12 changes per partition-day there) change allocations about 37
        // times per partition-day here (55 before the noise band), against autopilot's 6.1: README, "Choosing the
        // defaults", says so.
        Assert.InRange(predictive.Metrics.Partitions.ChangesPerPartitionDay, 30, 45);
        Assert.True(predictive.Metrics.Partitions.ChangesPerPartitionDay > result.Policies.Single(p => p.Run.Name == "autopilot").Metrics.Partitions.ChangesPerPartitionDay);
    }

    [Fact]
    public void Replay_BuildRecording_NaivePredictiveDominatesVpaAndAutopilotButDoesNotBeatThreshold()
    {
        var result = ShippedScenarioReplay.Run("build-recording.json");

        var predictive = Assert.Single(result.Policies, p => p.Run.IsPredictive);
        Assert.Equal("predictive/naive", predictive.Run.Name);
        Assert.False(predictive.IsDominated);
        Assert.Contains("predictive/naive", result.Policies.Single(p => p.Run.Name == "vpa").DominatedBy);
        Assert.Contains("predictive/naive", result.Policies.Single(p => p.Run.Name == "autopilot").DominatedBy);
        Assert.Equal(["threshold"], result.BaselineFront());
        Assert.Equal(["threshold"], result.NotBeaten(predictive.Run.Name));
        var threshold = result.Policies.Single(p => p.Run.Name == "threshold");
        Assert.True(predictive.Metrics.Partitions.RelativeSlack < threshold.Metrics.Partitions.RelativeSlack);
    }
}

using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

public sealed class ReplayResultTests
{
    private static readonly ReplayRunInfo Info = new("t", TimeSpan.FromMinutes(5), 0, 10, "explicit", "cores");

    private static PolicyRun Run(string name, bool predictive, double[] userAlloc, double[] systemAlloc) => new(
        name,
        predictive,
        [new PartitionTrace("user", [3, 5, 4, 6], userAlloc), new PartitionTrace("system", [2, 2, 3, 1], systemAlloc)],
        [],
        [],
        []);

    [Fact]
    public void Constructor_ThreePolicies_MeasuresAndMarksDominance()
    {
        var result = new ReplayResult(Info,
        [
            Run("threshold", false, [5, 5, 5, 7], [5, 5, 5, 3]),   // never short, slack high, pool empty
            Run("tight", false, [3, 4, 4, 5], [2, 2, 2, 1]),       // short 3 of 8, little slack
            Run("predictive", true, [4, 5, 5, 6], [2, 2, 3, 2]),   // never short, less slack than threshold
        ]);

        Assert.Equal(4, result.TickCount);
        Assert.Equal(["predictive"], result.Policies[0].DominatedBy);
        Assert.False(result.Policies[1].IsDominated);
        Assert.False(result.Policies[2].IsDominated);
        Assert.Equal(0.0, result.Policies[0].Metrics.FreedPoolShare, 12);
        Assert.Equal(3.0 / 8.0, result.Policies[1].Metrics.Partitions.UnderProvisionedShare, 12);
        // predictive: allocation 4+5+5+6 + 2+2+3+2 = 29, demand 18 + 8 = 26, never short → slack 3/29.
        Assert.Equal(3.0 / 29.0, result.Policies[2].Metrics.Partitions.RelativeSlack, 12);
        Assert.StartsWith("The predictive policy predictive is not dominated by any other policy and dominates threshold.", result.PredictiveVerdict(), StringComparison.Ordinal);
    }

    [Fact]
    public void NotBeaten_PredictiveBetweenTwoFrontBaselines_NamesTheOneItDoesNotDominate()
    {
        var result = new ReplayResult(Info,
        [
            Run("threshold", false, [5, 5, 5, 7], [5, 5, 5, 3]),
            Run("tight", false, [3, 4, 4, 5], [2, 2, 2, 1]),
            Run("predictive", true, [4, 5, 5, 6], [2, 2, 3, 2]),
        ]);

        Assert.Equal(["threshold", "tight"], result.BaselineFront());
        Assert.Equal(["tight"], result.NotBeaten("predictive"));
        Assert.Contains("Against the baselines on their Pareto front (threshold, tight), predictive does NOT beat tight:", result.PredictiveVerdict(), StringComparison.Ordinal);
    }

    [Fact]
    public void NotBeaten_PredictiveDominatesTheWholeBaselineFront_IsEmptyAndTheVerdictSaysBeats()
    {
        var result = new ReplayResult(Info,
        [
            Run("threshold", false, [5, 5, 5, 7], [5, 5, 5, 3]),
            Run("wide", false, [6, 6, 6, 7], [3, 3, 4, 3]),            // never short, less slack than threshold: dominates it
            Run("predictive", true, [3, 5, 4, 6], [2, 2, 3, 1]),      // exactly the demand: never short, no slack
        ]);

        Assert.Equal(["wide"], result.BaselineFront());
        Assert.Empty(result.NotBeaten("predictive"));
        Assert.Contains("Against the baselines on their Pareto front (wide), predictive beats every one:", result.PredictiveVerdict(), StringComparison.Ordinal);
    }

    [Fact]
    public void PredictiveVerdict_PredictiveDominated_SaysSoPlainly()
    {
        var result = new ReplayResult(Info,
        [
            Run("vpa", false, [4, 5, 4, 6], [2, 2, 3, 1]),
            Run("predictive", true, [4, 5, 5, 6], [2, 2, 3, 2]),
        ]);

        Assert.Contains("IS dominated: vpa", result.PredictiveVerdict(), StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_MismatchedLengths_ThrowsNamingTheTrace()
    {
        var bad = Run("x", false, [1, 1, 1], [1, 1, 1, 1]);
        var e = Assert.Throws<ArgumentException>(() => new ReplayResult(Info, [bad]));
        Assert.Contains("partition 'user' allocation", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_DuplicateNames_Throws()
    {
        var a = Run("x", false, [5, 5, 5, 5], [5, 5, 5, 5]);
        Assert.Throws<ArgumentException>(() => new ReplayResult(Info, [a, a]));
    }

    [Fact]
    public void Constructor_MigrationToUnknownLocation_Throws()
    {
        var run = new PolicyRun("p", false,
            [new PartitionTrace("user", [1, 1], [1, 1])],
            [new LocationTrace("a", 1, [0, 0])],
            [new ModuleTrace("m", [0, 0])],
            [new MigrationEvent(0, "m", "a", "nowhere")]);
        var e = Assert.Throws<ArgumentException>(() => new ReplayResult(Info, [run]));
        Assert.Contains("nowhere", e.Message, StringComparison.Ordinal);
    }
}

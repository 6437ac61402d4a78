using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

public sealed class CausalityCheckTests
{
    private static readonly double[] Demand = Enumerable.Range(0, 300).Select(t => 10 + (5 * Math.Sin(t / 20.0))).ToArray();

    /// <summary>allocation[t] = 1.2 × max(demand[t−12 … t−1]): decided at t − 1 from data up to t − 1.</summary>
    private static IReadOnlyList<double[]> Causal(IReadOnlyList<double[]> demand) => demand.Select(d =>
        Enumerable.Range(0, d.Length).Select(t => t == 0 ? d[0] : 1.2 * d[Math.Max(0, t - 12)..t].Max()).ToArray()).ToList();

    [Fact]
    public void FindLeak_CausalRule_NoLeak()
    {
        Assert.Null(CausalityCheck.FindLeak(Causal, [Demand], [0, 1, 50, 150, 298]));
    }

    [Fact]
    public void FindLeak_RuleReadingTheCurrentTick_Caught()
    {
        // allocation[t] = demand[t]: the decision in force at t would need data of t itself.
        IReadOnlyList<double[]> Leaky(IReadOnlyList<double[]> demand) => demand.Select(d => (double[])d.Clone()).ToList();

        var leak = CausalityCheck.FindLeak(Leaky, [Demand], [100]);

        Assert.NotNull(leak);
        Assert.Contains("after tick 100 changed allocation 0 at tick 101", leak, StringComparison.Ordinal);
    }

    [Fact]
    public void FindLeak_RuleLookingAnHourAhead_Caught()
    {
        // The oracle: the max of the next hour. Caught at the first cut.
        IReadOnlyList<double[]> Oracle(IReadOnlyList<double[]> demand) => demand.Select(d =>
            Enumerable.Range(0, d.Length).Select(t => d[t..Math.Min(d.Length, t + 12)].Max()).ToArray()).ToList();

        Assert.NotNull(CausalityCheck.FindLeak(Oracle, [Demand], [10]));
    }

    [Fact]
    public void FindLeak_CutOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CausalityCheck.FindLeak(Causal, [Demand], [299]));
    }
}

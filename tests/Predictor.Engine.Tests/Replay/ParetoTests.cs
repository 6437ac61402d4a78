using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

public sealed class ParetoTests
{
    [Fact]
    public void Dominates_BetterOnBoth_True()
    {
        Assert.True(Pareto.Dominates(new("a", 0.01, 0.2), new("b", 0.02, 0.3)));
        Assert.False(Pareto.Dominates(new("b", 0.02, 0.3), new("a", 0.01, 0.2)));
    }

    [Fact]
    public void Dominates_TieOnOneBetterOnOther_True()
    {
        Assert.True(Pareto.Dominates(new("a", 0.01, 0.2), new("b", 0.01, 0.3)));
        Assert.True(Pareto.Dominates(new("a", 0.01, 0.2), new("b", 0.05, 0.2)));
    }

    [Fact]
    public void Dominates_EqualPolicies_NeitherDominates()
    {
        var a = new ParetoPoint("a", 0.01, 0.2);
        var b = new ParetoPoint("b", 0.01, 0.2);

        Assert.False(Pareto.Dominates(a, b));
        Assert.False(Pareto.Dominates(b, a));
        Assert.False(Pareto.Dominates(a, a));
    }

    [Fact]
    public void Dominates_TradeOff_NeitherDominates()
    {
        var safe = new ParetoPoint("threshold", 0.0, 0.6);
        var lean = new ParetoPoint("vpa", 0.08, 0.1);

        Assert.False(Pareto.Dominates(safe, lean));
        Assert.False(Pareto.Dominates(lean, safe));
    }

    [Fact]
    public void MarkDominated_FourPolicies_MarksOnlyThoseOffTheFront()
    {
        ParetoPoint[] points =
        [
            new("threshold", 0.00, 0.60),    // front: nobody has 0 under-provisioned with less slack
            new("vpa", 0.10, 0.20),          // dominated by predictive
            new("autopilot", 0.05, 0.35),    // dominated by predictive
            new("predictive", 0.03, 0.20),   // front
        ];

        var marks = Pareto.MarkDominated(points);
        var by = Pareto.DominatedBy(points);

        Assert.Equal([false, true, true, false], marks);
        Assert.Equal(["predictive"], by[1]);
        Assert.Equal(["predictive"], by[2]);
        Assert.Empty(by[3]);
    }

    [Fact]
    public void MarkDominated_DuplicatePolicies_NeitherMarked()
    {
        var marks = Pareto.MarkDominated([new("a", 0.1, 0.1), new("b", 0.1, 0.1), new("c", 0.2, 0.2)]);

        Assert.Equal([false, false, true], marks);
    }
}

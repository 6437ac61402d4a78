namespace Predictor.Engine.Replay;

/// <summary>A policy's position on the two axes that decide dominance; lower is better on both.</summary>
/// <param name="Name">Policy name.</param>
/// <param name="UnderProvisionedShare">Share of partition-ticks under-provisioned (0..1).</param>
/// <param name="RelativeSlack">Relative slack (0..1).</param>
public sealed record ParetoPoint(string Name, double UnderProvisionedShare, double RelativeSlack);

/// <summary>
/// Pareto comparison of policies (DESIGN.md): A dominates B when A is no worse than B on under-provisioned ticks and on
/// relative slack, and strictly better on at least one. Equal policies do not dominate each other. Comparisons are exact:
/// the metrics are ratios of counts and sums computed the same way for every policy, so equal behaviour gives equal values.
/// </summary>
public static class Pareto
{
    /// <summary>True when <paramref name="a"/> dominates <paramref name="b"/>.</summary>
    public static bool Dominates(ParetoPoint a, ParetoPoint b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var noWorse = a.UnderProvisionedShare <= b.UnderProvisionedShare && a.RelativeSlack <= b.RelativeSlack;
        var better = a.UnderProvisionedShare < b.UnderProvisionedShare || a.RelativeSlack < b.RelativeSlack;
        return noWorse && better;
    }

    /// <summary>For each point, the names of the points that dominate it (empty when it is on the Pareto front).</summary>
    public static IReadOnlyList<IReadOnlyList<string>> DominatedBy(IReadOnlyList<ParetoPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var result = new IReadOnlyList<string>[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            var by = new List<string>();
            for (var j = 0; j < points.Count; j++)
            {
                if (j != i && Dominates(points[j], points[i]))
                {
                    by.Add(points[j].Name);
                }
            }

            result[i] = by;
        }

        return result;
    }

    /// <summary>Marks dominated points: element i is true when some other point dominates point i.</summary>
    public static bool[] MarkDominated(IReadOnlyList<ParetoPoint> points)
    {
        var by = DominatedBy(points);
        var marks = new bool[by.Count];
        for (var i = 0; i < marks.Length; i++)
        {
            marks[i] = by[i].Count > 0;
        }

        return marks;
    }
}

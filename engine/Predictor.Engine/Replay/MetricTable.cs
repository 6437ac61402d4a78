using System.Globalization;

namespace Predictor.Engine.Replay;

/// <summary>One row of the comparison table: formatted cells, in the order of <see cref="MetricTable.Headers"/>.</summary>
/// <param name="Policy">Policy name.</param>
/// <param name="Cells">Formatted cells, the policy name first.</param>
/// <param name="IsPredictive">True for a predictive policy.</param>
/// <param name="DominatedBy">Policies that dominate this one; empty on the Pareto front.</param>
public sealed record MetricTableRow(string Policy, IReadOnlyList<string> Cells, bool IsPredictive, IReadOnlyList<string> DominatedBy);

/// <summary>
/// The comparison table, formatted once for every front end: the CLI renders it with Spectre.Console, the HTML report
/// as a table, notebooks as text. Percentages have one decimal, rates two; "–" marks a metric that does not apply.
/// </summary>
/// <param name="Headers">Column headers.</param>
/// <param name="Rows">One row per policy, in run order.</param>
public sealed record MetricTable(IReadOnlyList<string> Headers, IReadOnlyList<MetricTableRow> Rows)
{
    /// <summary>Builds the table of a replay result.</summary>
    public static MetricTable From(ReplayResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var placement = result.Policies.Any(p => p.Metrics.Placement is not null);
        var headers = new List<string> { "policy", "under-provisioned ticks", "relative slack", "changes / partition-day", "freed pool" };
        if (placement)
        {
            headers.AddRange(["overloaded location-ticks", "migrations / module-day", "migrations ahead of surge"]);
        }

        headers.Add("Pareto");
        var rows = new List<MetricTableRow>();
        foreach (var p in result.Policies)
        {
            var m = p.Metrics;
            var cells = new List<string>
            {
                p.Run.Name,
                Percent(m.Partitions.UnderProvisionedShare),
                Percent(m.Partitions.RelativeSlack),
                m.Partitions.ChangesPerPartitionDay.ToString("0.00", CultureInfo.InvariantCulture),
                Percent(m.FreedPoolShare),
            };
            if (placement)
            {
                var pl = m.Placement;
                cells.Add(pl is null ? "–" : pl.OverloadedLocationTicks.ToString(CultureInfo.InvariantCulture));
                cells.Add(pl is null ? "–" : pl.MigrationsPerModuleDay.ToString("0.00", CultureInfo.InvariantCulture));
                cells.Add(pl?.AheadOfSurgeShare is { } s ? Percent(s) : "–");
            }

            cells.Add(p.IsDominated ? "dominated by " + string.Join(", ", p.DominatedBy) : "front");
            rows.Add(new MetricTableRow(p.Run.Name, cells, p.Run.IsPredictive, p.DominatedBy));
        }

        return new MetricTable(headers, rows);
    }

    /// <summary>Plain monospaced text (for notebooks and logs): columns padded, one row per line.</summary>
    public string ToPlainText()
    {
        var widths = new int[Headers.Count];
        for (var c = 0; c < Headers.Count; c++)
        {
            widths[c] = Math.Max(Headers[c].Length, Rows.Count == 0 ? 0 : Rows.Max(r => r.Cells[c].Length));
        }

        var lines = new List<string> { Line(Headers, widths), string.Join("  ", widths.Select(w => new string('-', w))) };
        lines.AddRange(Rows.Select(r => Line(r.Cells, widths)));
        return string.Join(Environment.NewLine, lines);
    }

    internal static string Percent(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    private static string Line(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
}

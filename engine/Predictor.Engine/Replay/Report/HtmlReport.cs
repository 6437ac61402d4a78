using System.Globalization;
using System.Net;
using System.Text;

namespace Predictor.Engine.Replay.Report;

/// <summary>
/// Writes a replay result as one self-contained HTML file: inline CSS and SVG, no script, no font, no network. It holds
/// the verdict on the predictive policy, the metric table (dominated policies marked), a Pareto chart, demand against
/// allocation for every partition and policy (shared y scale per partition, so policies compare at a glance, with
/// under-provisioned ticks in red under each chart), and the load of every location with its migrations marked.
/// </summary>
public static class HtmlReport
{
    // Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. Red is kept for shortfalls.
    private static readonly string[] Palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#8C6D1F", "#404040"];
    private const string DemandColor = "#9aa3ad";

    /// <summary>Writes the report to <paramref name="path"/> (UTF-8), creating its folder; atomically, as <see cref="ReplayResultJson.WriteFile"/> does.</summary>
    public static void WriteFile(ReplayResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var html = new UTF8Encoding(false).GetBytes(Render(result));
        Modules.DurableFiles.WriteAtomic(path, stream => stream.Write(html), durable: false);
    }

    /// <summary>The report as an HTML string.</summary>
    public static string Render(ReplayResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var info = result.Info;
        var html = new StringBuilder(256 * 1024);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append(CultureInfo.InvariantCulture, $"<title>Replay: {Enc(info.Scenario)}</title><style>{Css}</style></head><body>");
        html.Append(CultureInfo.InvariantCulture, $"<h1>Replay of <em>{Enc(info.Scenario)}</em></h1>");
        var days = ReplayMetrics.Days(result.TickCount, info.TickLength);
        html.Append(CultureInfo.InvariantCulture,
            $"<p class=\"facts\">{result.TickCount:N0} ticks of {Enc(Duration(info.TickLength))} ({days:0.#} days) from " +
            $"{Enc(ChartScales.Moment(0, info.TickLength, info.StartUnixMs))} · total budget {info.TotalBudget:0.###} {Enc(info.Unit)} " +
            $"({Enc(info.BudgetNote)}) · {result.Policies.Count} policies</p>");
        if (info.DownsampleNote is { } downsample)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"facts\">Demand: {Enc(downsample)}.</p>");
        }

        var verdictClass = result.Policies.Any(p => p.Run.IsPredictive && p.IsDominated) ? "verdict bad" : "verdict";
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"{verdictClass}\">{Enc(result.PredictiveVerdict())}</p>");

        WriteTable(html, result);
        WriteParetoChart(html, result);
        WritePartitions(html, result);
        WritePlacement(html, result);
        WriteDefinitions(html, result);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void WriteTable(StringBuilder html, ReplayResult result)
    {
        var table = MetricTable.From(result);
        html.Append("<h2>Metrics</h2><table class=\"metrics\"><thead><tr>");
        foreach (var h in table.Headers)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th>{Enc(h)}</th>");
        }

        html.Append("</tr></thead><tbody>");
        for (var i = 0; i < table.Rows.Count; i++)
        {
            var row = table.Rows[i];
            var cls = "metric-row" + (row.DominatedBy.Count > 0 ? " dominated" : "") + (row.IsPredictive ? " predictive" : "");
            html.Append(CultureInfo.InvariantCulture, $"<tr class=\"{cls}\">");
            for (var c = 0; c < row.Cells.Count; c++)
            {
                var cell = Enc(row.Cells[c]);
                if (c == 0)
                {
                    html.Append(CultureInfo.InvariantCulture, $"<td><span class=\"swatch\" style=\"background:{Color(i)}\"></span>{cell}</td>");
                }
                else if (c == row.Cells.Count - 1)
                {
                    html.Append(CultureInfo.InvariantCulture, $"<td class=\"{(row.DominatedBy.Count > 0 ? "mark-dominated" : "mark-front")}\">{cell}</td>");
                }
                else
                {
                    html.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{cell}</td>");
                }
            }

            html.Append("</tr>");
        }

        html.Append("</tbody></table>");
    }

    private static void WriteParetoChart(StringBuilder html, ReplayResult result)
    {
        const int W = 620, H = 320, L = 64, R = 170, T = 20, B = 44;
        var pw = W - L - R;
        var ph = H - T - B;
        var (xTop, xTicks) = ChartScales.ValueTicks(result.Policies.Max(p => p.Metrics.Partitions.RelativeSlack) * 100 * 1.08);
        var (yTop, yTicks) = ChartScales.ValueTicks(result.Policies.Max(p => p.Metrics.Partitions.UnderProvisionedShare) * 100 * 1.08);
        double X(double v) => L + (v / xTop * pw);
        double Y(double v) => T + ph - (v / yTop * ph);

        html.Append("<h2>Trade-off</h2><p class=\"note\">Lower-left is better on both axes. A hollow point is dominated: " +
            "another policy is no worse on both and better on one.</p>");
        html.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"chart pareto\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Pareto chart\" xmlns=\"http://www.w3.org/2000/svg\"><title>Under-provisioned ticks against relative slack</title>");
        foreach (var t in yTicks)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<line class=\"grid\" x1=\"{L}\" x2=\"{L + pw}\" y1=\"{F(Y(t.Value))}\" y2=\"{F(Y(t.Value))}\"/><text class=\"ylab\" x=\"{L - 6}\" y=\"{F(Y(t.Value))}\" dy=\"0.32em\">{Enc(t.Label)} %</text>");
        }

        foreach (var t in xTicks)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<line class=\"vgrid\" x1=\"{F(X(t.Value))}\" x2=\"{F(X(t.Value))}\" y1=\"{T}\" y2=\"{T + ph}\"/><text class=\"xlab\" x=\"{F(X(t.Value))}\" y=\"{T + ph + 16}\">{Enc(t.Label)} %</text>");
        }

        html.Append(CultureInfo.InvariantCulture,
            $"<text class=\"xlab\" x=\"{L + (pw / 2)}\" y=\"{H - 6}\">relative slack</text><text class=\"yunit\" transform=\"translate(14 {T + (ph / 2)}) rotate(-90)\">under-provisioned ticks</text>");
        // Labels: to the right of each point, moved down or up in steps until they clear the labels already placed,
        // so close policies (a common case: two never-short policies) stay readable.
        var placed = new List<(double X, double Y, double W)>();
        for (var i = 0; i < result.Policies.Count; i++)
        {
            var p = result.Policies[i];
            var px = X(p.Metrics.Partitions.RelativeSlack * 100);
            var py = Y(p.Metrics.Partitions.UnderProvisionedShare * 100);
            var width = 7.0 * p.Run.Name.Length;
            var ly = py + 4;
            foreach (var shift in new[] { 0, -15, 15, -30, 30, -45, 45 })
            {
                ly = py + 4 + shift;
                if (!placed.Any(b => Math.Abs(b.Y - ly) < 14 && px + 9 < b.X + b.W && b.X < px + 9 + width))
                {
                    break;
                }
            }

            placed.Add((px + 9, ly, width));
            var fill = p.IsDominated ? "#fff" : Color(i);
            html.Append(CultureInfo.InvariantCulture,
                $"<g class=\"pt\"><title>{Enc(p.Run.Name)}: {MetricTable.Percent(p.Metrics.Partitions.UnderProvisionedShare)} under-provisioned, {MetricTable.Percent(p.Metrics.Partitions.RelativeSlack)} slack</title>" +
                $"<circle cx=\"{F(px)}\" cy=\"{F(py)}\" r=\"6\" fill=\"{fill}\" stroke=\"{Color(i)}\" stroke-width=\"2.5\"/>" +
                $"<text class=\"ptlab\" x=\"{F(px + 9)}\" y=\"{F(ly)}\">{Enc(p.Run.Name)}</text></g>");
        }

        html.Append("</svg>");
    }

    private static void WritePartitions(StringBuilder html, ReplayResult result)
    {
        var info = result.Info;
        var names = result.Policies[0].Run.Partitions.Select(p => p.Name).ToList();
        foreach (var name in names)
        {
            // One y scale per partition, shared by every policy, so heights compare across the small multiples.
            var yMax = result.Policies
                .SelectMany(p => p.Run.Partitions.Where(x => x.Name == name))
                .SelectMany(x => x.Demand.Concat(x.Allocation))
                .DefaultIfEmpty(1).Max();
            html.Append(CultureInfo.InvariantCulture, $"<h2>Partition <em>{Enc(name)}</em>: demand and allocation</h2>");
            html.Append(CultureInfo.InvariantCulture,
                $"<p class=\"legend\"><span class=\"swatch\" style=\"background:{DemandColor}\"></span>demand " +
                $"<span class=\"swatch line\"></span>allocation in force (decided one tick earlier) " +
                $"<span class=\"swatch\" style=\"background:#d62728\"></span>under-provisioned ticks</p>");
            for (var i = 0; i < result.Policies.Count; i++)
            {
                var outcome = result.Policies[i];
                var index = outcome.Run.Partitions.ToList().FindIndex(x => x.Name == name);
                if (index < 0)
                {
                    continue;
                }

                var trace = outcome.Run.Partitions[index];
                var m = outcome.Metrics.PerPartition[index];
                var shortfall = new bool[trace.Demand.Length];
                for (var t = 0; t < shortfall.Length; t++)
                {
                    shortfall[t] = trace.Demand[t] > trace.Allocation[t];
                }

                html.Append(CultureInfo.InvariantCulture,
                    $"<figure><figcaption><span class=\"swatch\" style=\"background:{Color(i)}\"></span><b>{Enc(outcome.Run.Name)}</b>" +
                    $"{(outcome.IsDominated ? " <span class=\"tag\">dominated</span>" : "")} · {MetricTable.Percent(m.UnderProvisionedShare)} under-provisioned · " +
                    $"{MetricTable.Percent(m.RelativeSlack)} slack · {m.ChangesPerPartitionDay:0.00} changes/day</figcaption>");
                var chart = new LineChart(result.TickCount, info.TickLength, info.StartUnixMs)
                {
                    YMax = yMax,
                    YLabel = info.Unit,
                    Title = $"{name} under {outcome.Run.Name}: demand and allocation",
                    Shortfall = shortfall,
                    ShortfallLabel = "under-provisioned",
                };
                chart.Series.Add(new ChartSeries("demand", trace.Demand, DemandColor, SeriesStyle.Area));
                chart.Series.Add(new ChartSeries($"allocation ({outcome.Run.Name})", trace.Allocation, Color(i), SeriesStyle.Step));
                chart.WriteTo(html);
                html.Append("</figure>");
            }
        }
    }

    private static void WritePlacement(StringBuilder html, ReplayResult result)
    {
        var info = result.Info;
        if (!result.Policies.Any(p => p.Run.Locations.Count > 0))
        {
            return;
        }

        // Small multiples, one strip per location with a shared y scale: overlaid lines of several locations hide
        // each other, strips do not.
        var yMax = 0.0;
        foreach (var l in result.Policies.SelectMany(p => p.Run.Locations))
        {
            yMax = Math.Max(yMax, Math.Max(l.Capacity, l.Load.Max()));
        }

        html.Append("<h2>Placement: load per location</h2><p class=\"legend\">One strip per location: its load, its capacity " +
            "(dashed), ▼ a migration leaving or reaching it (hover for which), red under the strip: ticks it was overloaded.</p>");
        foreach (var outcome in result.Policies.Where(p => p.Run.Locations.Count > 0))
        {
            var run = outcome.Run;
            var pm = outcome.Metrics.Placement;
            html.Append(CultureInfo.InvariantCulture, $"<figure><figcaption><b>{Enc(run.Name)}</b> · {run.Migrations.Count} migrations");
            if (pm is not null)
            {
                html.Append(CultureInfo.InvariantCulture,
                    $" · {pm.OverloadedLocationTicks} overloaded location-ticks · {pm.MigrationsPerModuleDay:0.00} per module-day · " +
                    $"ahead of a surge: {(pm.AheadOfSurgeShare is { } s ? MetricTable.Percent(s) : "–")}");
            }

            html.Append("</figcaption>");
            for (var j = 0; j < run.Locations.Count; j++)
            {
                var l = run.Locations[j];
                var overloaded = new bool[l.Load.Length];
                for (var t = 0; t < overloaded.Length; t++)
                {
                    overloaded[t] = l.Load[t] > l.Capacity;
                }

                var chart = new LineChart(result.TickCount, info.TickLength, info.StartUnixMs)
                {
                    Height = 120,
                    YMax = yMax,
                    YLabel = l.Id,
                    Title = $"Load of {l.Id} under {run.Name}",
                    Shortfall = overloaded,
                    ShortfallLabel = $"{l.Id} overloaded",
                };
                chart.Series.Add(new ChartSeries($"{l.Id} load", l.Load, Color(j), SeriesStyle.Line));
                chart.Rules.Add((l.Capacity, $"{l.Id} capacity {l.Capacity:0.###}"));
                foreach (var e in run.Migrations.Where(e => e.From == l.Id || e.To == l.Id))
                {
                    chart.Events.Add((e.Tick, $"{ChartScales.Moment(e.Tick, info.TickLength, info.StartUnixMs)}: {e.Module} {e.From} → {e.To}"));
                }

                chart.WriteTo(html);
            }

            html.Append("</figure>");
        }
    }

    private static void WriteDefinitions(StringBuilder html, ReplayResult result)
    {
        html.Append(CultureInfo.InvariantCulture,
            $"<h2>Definitions</h2><ul class=\"defs\">" +
            $"<li>Causality: a decision made at tick t uses data up to t and is in force from t + 1; the charts and metrics compare demand at t with the allocation in force at t.</li>" +
            $"<li>Under-provisioned ticks: share of partition-ticks with demand strictly above allocation, pooled over partitions.</li>" +
            $"<li>Relative slack: Σ max(allocation − demand, 0) / Σ allocation, pooled over partitions and ticks.</li>" +
            $"<li>Changes per partition-day: ticks whose allocation differs from the previous tick's, per partition and per day.</li>" +
            $"<li>Freed pool: mean share of the total budget held by no partition.</li>" +
            $"<li>Overloaded location-ticks: location-ticks with load strictly above capacity. Migrations per module-day: migrations / (modules × days).</li>" +
            $"<li>Ahead of a surge: a migration decided at t from location S (capacity C), when S held at most {result.Surge.Threshold:0.##} × C at t and, within the next {result.Surge.HorizonTicks} ticks (and before the module's next move), S plus the module's demand would have exceeded {result.Surge.Threshold:0.##} × C.</li>" +
            $"<li>Dominance: A dominates B when A is no worse on under-provisioned ticks and on slack, and strictly better on one.</li></ul>");
    }

    private static string Duration(TimeSpan t) =>
        t.TotalMinutes >= 1 && t.TotalMinutes == Math.Floor(t.TotalMinutes)
            ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalMinutes:0} min")
            : string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.###} s");

    private static string Color(int i) => Palette[i % Palette.Length];

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Enc(string s) => WebUtility.HtmlEncode(s);

    private const string Css =
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1d232a;max-width:1240px;margin:24px auto;padding:0 16px;background:#fff}" +
        "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #e3e6ea;padding-bottom:3px}" +
        ".facts,.note,.legend{color:#56606b;margin:4px 0 10px}" +
        ".verdict{font-size:15px;padding:10px 14px;border-left:5px solid #009E73;background:#eef8f4;margin:14px 0}" +
        ".verdict.bad{border-color:#d62728;background:#fdf0f0}" +
        "table.metrics{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}" +
        ".metrics th{text-align:right;font-weight:600;color:#56606b;padding:6px 10px;border-bottom:2px solid #cfd5db;font-size:12.5px}" +
        ".metrics th:first-child,.metrics td:first-child{text-align:left;white-space:nowrap}" +
        ".metrics td{padding:6px 10px;border-bottom:1px solid #eceff2}.metrics td.num{text-align:right}" +
        ".metrics tr.dominated td{color:#8a939c}.metrics tr.predictive td:first-child{font-weight:600}" +
        ".mark-dominated{color:#b3261e!important;text-align:right}.mark-front{color:#00704f;text-align:right;font-weight:600}" +
        ".swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin:0 6px 0 2px;vertical-align:-1px}" +
        ".swatch.line{height:3px;vertical-align:3px;background:#404040}" +
        ".tag{font-size:11px;color:#b3261e;border:1px solid #e6b3b0;border-radius:3px;padding:0 4px}" +
        "figure{margin:10px 0 18px}figcaption{font-size:13px;color:#39424b;margin-bottom:2px}" +
        "svg.chart{width:100%;height:auto;display:block}svg.pareto{max-width:620px}" +
        "svg text{font-size:11px;fill:#56606b}.ylab{text-anchor:end}.xlab{text-anchor:middle}.yunit{text-anchor:middle}" +
        ".ptlab{font-size:12px;fill:#1d232a}" +
        ".grid{stroke:#eceff2}.vgrid{stroke:#f3f4f6}.axis{stroke:#9aa3ad}" +
        ".area{opacity:.55;stroke:none}.series{fill:none;stroke-width:1.4;stroke-linejoin:round}" +
        ".rule{stroke:#56606b;stroke-dasharray:6 4;stroke-width:1}.shortfall rect{fill:#d62728}.events line{stroke:#1d232a;stroke-width:1}.events path{fill:#1d232a}" +
        ".defs{color:#39424b;font-size:13px;padding-left:18px}";
}

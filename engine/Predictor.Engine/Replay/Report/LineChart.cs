using System.Globalization;
using System.Net;
using System.Text;

namespace Predictor.Engine.Replay.Report;

/// <summary>How a series is drawn.</summary>
internal enum SeriesStyle
{
    /// <summary>A solid line.</summary>
    Line,

    /// <summary>A light filled area under the values (demand).</summary>
    Area,

    /// <summary>A step line: the value holds until the next point (an allocation is in force for a whole tick).</summary>
    Step,
}

/// <summary>One series of a chart.</summary>
internal sealed record ChartSeries(string Name, double[] Values, string Color, SeriesStyle Style);

/// <summary>
/// A time-series chart written as inline SVG: time on x (tick indices mapped to the time axis), values on y from 0,
/// series downsampled by <see cref="MinMaxDownsampler"/>, an optional red strip under the plot marking ticks flagged as
/// shortfalls, and optional event marks (migrations) on top. Coordinates are in a fixed viewBox; the SVG scales to its
/// container's width, so it stays legible at any window size.
/// </summary>
internal sealed class LineChart
{
    private const int Left = 56;
    private const int Right = 16;
    private const int Top = 18;
    private const int Bottom = 40;
    private const int StripHeight = 6;

    public LineChart(int tickCount, TimeSpan tickLength, long? startUnixMs)
    {
        TickCount = tickCount;
        TickLength = tickLength;
        StartUnixMs = startUnixMs;
    }

    public int TickCount { get; }

    public TimeSpan TickLength { get; }

    public long? StartUnixMs { get; }

    public int Width { get; init; } = 1200;

    public int Height { get; init; } = 200;

    /// <summary>Upper bound of the y axis before rounding; by default the largest value drawn.</summary>
    public double? YMax { get; init; }

    /// <summary>Label of the y axis (unit).</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Accessible name of the chart.</summary>
    public string Title { get; init; } = "";

    /// <summary>Vertices per polyline at most.</summary>
    public int MaxPoints { get; init; } = 1400;

    public List<ChartSeries> Series { get; } = [];

    /// <summary>Horizontal dashed rules (e.g. a capacity), with their tooltip text.</summary>
    public List<(double Value, string Text)> Rules { get; } = [];

    /// <summary>Ticks to mark in red under the plot (e.g. under-provisioned), or null.</summary>
    public bool[]? Shortfall { get; init; }

    /// <summary>Label of the shortfall strip, for its tooltip.</summary>
    public string ShortfallLabel { get; init; } = "";

    /// <summary>Ticks of events to mark above the plot (e.g. migrations), with their tooltip text.</summary>
    public List<(int Tick, string Text)> Events { get; } = [];

    public void WriteTo(StringBuilder html)
    {
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var yMax = YMax ?? Series.SelectMany(s => s.Values).Concat(Rules.Select(r => r.Value)).DefaultIfEmpty(1).Max();
        var (top, yTicks) = ChartScales.ValueTicks(yMax, Math.Clamp(plotH / 28, 2, 6));
        var lastIndex = Math.Max(TickCount - 1, 1);
        double X(double tick) => Left + (tick / lastIndex * plotW);
        double Y(double v) => Top + plotH - (Math.Clamp(v / top, -0.02, 1.02) * plotH);

        html.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"chart\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Enc(Title)}\" xmlns=\"http://www.w3.org/2000/svg\">");
        html.Append(CultureInfo.InvariantCulture, $"<title>{Enc(Title)}</title>");

        // Grid and y labels.
        foreach (var t in yTicks)
        {
            var y = F(Y(t.Value));
            html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Left + plotW}\" y1=\"{y}\" y2=\"{y}\"/>");
            html.Append(CultureInfo.InvariantCulture, $"<text class=\"ylab\" x=\"{Left - 6}\" y=\"{y}\" dy=\"0.32em\">{Enc(t.Label)}</text>");
        }

        if (YLabel.Length > 0)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<text class=\"yunit\" transform=\"translate(12 {F(Top + (plotH / 2.0))}) rotate(-90)\">{Enc(YLabel)}</text>");
        }

        // Time axis.
        var baseY = Top + plotH;
        html.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" x2=\"{Left + plotW}\" y1=\"{baseY}\" y2=\"{baseY}\"/>");
        foreach (var t in ChartScales.TimeTicks(TickCount, TickLength, StartUnixMs, Math.Max(plotW / 110, 2)))
        {
            var x = F(X(t.Value));
            html.Append(CultureInfo.InvariantCulture, $"<line class=\"vgrid\" x1=\"{x}\" x2=\"{x}\" y1=\"{Top}\" y2=\"{baseY}\"/>");
            html.Append(CultureInfo.InvariantCulture, $"<text class=\"xlab\" x=\"{x}\" y=\"{baseY + StripHeight + 16}\">{Enc(t.Label)}</text>");
        }

        // Series: areas first so lines stay on top.
        foreach (var s in Series.OrderBy(s => s.Style == SeriesStyle.Area ? 0 : 1))
        {
            // A step line draws two vertices per kept index, so it keeps half as many to stay within the same budget.
            var keep = MinMaxDownsampler.Indices(s.Values, s.Style == SeriesStyle.Step ? MaxPoints / 2 : MaxPoints);
            var points = new StringBuilder(keep.Length * 28);
            for (var k = 0; k < keep.Length; k++)
            {
                var i = keep[k];
                if (s.Style == SeriesStyle.Step && k > 0)
                {
                    // Hold the previous value up to this point, then jump: no diagonal between two allocations.
                    points.Append(CultureInfo.InvariantCulture, $"{X(i):0.#},{Y(s.Values[keep[k - 1]]):0.#} ");
                }

                points.Append(CultureInfo.InvariantCulture, $"{X(i):0.#},{Y(s.Values[i]):0.#} ");
            }

            var name = Enc(s.Name);
            switch (s.Style)
            {
                case SeriesStyle.Area:
                    html.Append(CultureInfo.InvariantCulture,
                        $"<path class=\"area\" fill=\"{s.Color}\" d=\"M{F(X(keep[0]))},{F(Y(0))} L{points.ToString().TrimEnd()} L{F(X(keep[^1]))},{F(Y(0))} Z\"><title>{name}</title></path>");
                    break;
                default:
                    html.Append(CultureInfo.InvariantCulture,
                        $"<polyline class=\"series\" stroke=\"{s.Color}\" points=\"{points.ToString().TrimEnd()}\"><title>{name}</title></polyline>");
                    break;
            }
        }

        foreach (var (value, text) in Rules)
        {
            var y = F(Y(value));
            html.Append(CultureInfo.InvariantCulture,
                $"<line class=\"rule\" x1=\"{Left}\" x2=\"{Left + plotW}\" y1=\"{y}\" y2=\"{y}\"><title>{Enc(text)}</title></line>");
        }

        WriteShortfallStrip(html, X, baseY, plotW);
        WriteEvents(html, X, plotW);
        html.Append("</svg>");
    }

    private void WriteShortfallStrip(StringBuilder html, Func<double, double> x, int baseY, int plotW)
    {
        if (Shortfall is null)
        {
            return;
        }

        // One flag per pixel column, merged into runs: bounded output however long the trace is.
        var columns = new bool[plotW + 1];
        var count = 0;
        for (var t = 0; t < Shortfall.Length; t++)
        {
            if (Shortfall[t])
            {
                count++;
                columns[Math.Clamp((int)(x(t) - Left), 0, plotW)] = true;
            }
        }

        html.Append(CultureInfo.InvariantCulture,
            $"<g class=\"shortfall\"><title>{Enc(ShortfallLabel)}: {count} of {Shortfall.Length} ticks</title>");
        for (var c = 0; c <= plotW; c++)
        {
            if (!columns[c])
            {
                continue;
            }

            var start = c;
            while (c + 1 <= plotW && columns[c + 1])
            {
                c++;
            }

            html.Append(CultureInfo.InvariantCulture,
                $"<rect x=\"{Left + start}\" y=\"{baseY + 2}\" width=\"{c - start + 1}\" height=\"{StripHeight}\"/>");
        }

        html.Append("</g>");
    }

    private void WriteEvents(StringBuilder html, Func<double, double> x, int plotW)
    {
        if (Events.Count == 0)
        {
            return;
        }

        // Events sharing a pixel column become one mark whose tooltip lists them (first few) and counts them.
        var byColumn = Events
            .GroupBy(e => Math.Clamp((int)Math.Round(x(e.Tick)), Left, Left + plotW))
            .OrderBy(g => g.Key);
        html.Append("<g class=\"events\">");
        foreach (var g in byColumn)
        {
            var texts = g.Select(e => e.Text).ToList();
            var tip = string.Join("\n", texts.Take(5)) + (texts.Count > 5 ? $"\n… {texts.Count} in all" : "");
            html.Append(CultureInfo.InvariantCulture,
                $"<g><title>{Enc(tip)}</title><line x1=\"{g.Key}\" x2=\"{g.Key}\" y1=\"{Top}\" y2=\"{Top + 10}\"/>" +
                $"<path d=\"M{g.Key - 4},{Top - 6} L{g.Key + 4},{Top - 6} L{g.Key},{Top} Z\"/></g>");
        }

        html.Append("</g>");
    }

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Enc(string s) => WebUtility.HtmlEncode(s);
}

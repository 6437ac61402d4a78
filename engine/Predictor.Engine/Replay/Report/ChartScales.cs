using System.Globalization;

namespace Predictor.Engine.Replay.Report;

/// <summary>One labelled tick on an axis: its position in data units and its label.</summary>
internal readonly record struct AxisTick(double Value, string Label);

/// <summary>Axis arithmetic for the report's charts: "nice" value ticks and calendar-aligned time ticks.</summary>
internal static class ChartScales
{
    private static readonly TimeSpan[] TimeSteps =
    [
        TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(3),
        TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromDays(1), TimeSpan.FromDays(2), TimeSpan.FromDays(7),
        TimeSpan.FromDays(14), TimeSpan.FromDays(28),
    ];

    /// <summary>A round upper bound ≥ <paramref name="max"/> and about <paramref name="intervals"/> + 1 ticks from 0 to it (steps of 1, 2, 2.5 or 5 × 10^k).</summary>
    public static (double Top, IReadOnlyList<AxisTick> Ticks) ValueTicks(double max, int intervals = 5)
    {
        intervals = Math.Max(intervals, 1);
        if (!(max > 0) || !double.IsFinite(max))
        {
            max = 1;
        }

        var raw = max / intervals;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1, 2, 2.5, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw);
        var top = Math.Ceiling(max / step - 1e-9) * step;
        var ticks = new List<AxisTick>();
        for (var v = 0.0; v <= top + step / 2; v += step)
        {
            ticks.Add(new AxisTick(v, FormatValue(v, step)));
        }

        return (top, ticks);
    }

    /// <summary>
    /// Time ticks for <paramref name="tickCount"/> ticks of <paramref name="tickLength"/>: at most
    /// <paramref name="maxLabels"/> labels, on calendar boundaries (UTC midnight for day steps) when the start is known,
    /// otherwise on elapsed time from the start ("day 3", "d2 06:00"). Values are tick indices (fractional).
    /// </summary>
    public static IReadOnlyList<AxisTick> TimeTicks(int tickCount, TimeSpan tickLength, long? startUnixMs, int maxLabels)
    {
        var span = tickLength * Math.Max(tickCount - 1, 1);
        var step = TimeSteps.FirstOrDefault(s => span / s <= maxLabels);
        if (step == default)
        {
            step = TimeSpan.FromDays(Math.Ceiling(span.TotalDays / maxLabels));
        }

        var origin = startUnixMs ?? 0;
        var stepMs = (long)step.TotalMilliseconds;
        var first = (long)Math.Ceiling((double)origin / stepMs) * stepMs;
        var ticks = new List<AxisTick>();
        for (var ms = first; ms <= origin + (long)span.TotalMilliseconds; ms += stepMs)
        {
            var index = (ms - origin) / tickLength.TotalMilliseconds;
            ticks.Add(new AxisTick(index, TimeLabel(ms, origin, startUnixMs is not null, step)));
        }

        return ticks;
    }

    /// <summary>The date-time of a tick index, for headers: "2014-05-14 01:14 UTC", or "day 3 06:00" without a wall clock.</summary>
    public static string Moment(double tickIndex, TimeSpan tickLength, long? startUnixMs)
    {
        var ms = (long)(tickIndex * tickLength.TotalMilliseconds);
        if (startUnixMs is { } start)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(start + ms).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        }

        var elapsed = TimeSpan.FromMilliseconds(ms);
        return string.Create(CultureInfo.InvariantCulture, $"day {(int)elapsed.TotalDays} {elapsed.Hours:00}:{elapsed.Minutes:00}");
    }

    private static string TimeLabel(long ms, long origin, bool wallClock, TimeSpan step)
    {
        if (wallClock)
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            return step >= TimeSpan.FromDays(1)
                ? at.ToString("ddd MM-dd", CultureInfo.InvariantCulture)
                : at.ToString(at.Hour == 0 && at.Minute == 0 ? "MM-dd" : "HH:mm", CultureInfo.InvariantCulture);
        }

        var elapsed = TimeSpan.FromMilliseconds(ms - origin);
        return step >= TimeSpan.FromDays(1)
            ? string.Create(CultureInfo.InvariantCulture, $"day {(int)Math.Round(elapsed.TotalDays)}")
            : string.Create(CultureInfo.InvariantCulture, $"d{(int)elapsed.TotalDays} {elapsed.Hours:00}:{elapsed.Minutes:00}");
    }

    private static string FormatValue(double v, double step)
    {
        if (step >= 1000)
        {
            return (v / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k";
        }

        // As many decimals as the step needs (2.5 → 1, 0.25 → 2), so labels are exact and aligned.
        var decimals = 0;
        while (decimals < 6 && Math.Abs((step * Math.Pow(10, decimals)) - Math.Round(step * Math.Pow(10, decimals))) > 1e-9)
        {
            decimals++;
        }

        return v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}

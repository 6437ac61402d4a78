using System.Globalization;
using Predictor.Engine;
using Predictor.Engine.Telemetry;

namespace Predictor.Training.Data;

/// <summary>
/// A series on a regular grid, ready for fitting: gaps and NaN filled, length and variation checked.
/// Training never sees a missing value: every model, baseline and metric reads <see cref="Values"/>.
/// </summary>
/// <param name="Name">The series name.</param>
/// <param name="Timestamps">Unix-ms timestamps, exactly one step apart.</param>
/// <param name="Values">Values, gaps filled.</param>
/// <param name="StepSeconds">The grid step.</param>
/// <param name="FilledCount">How many grid points were missing or NaN and were filled.</param>
internal sealed record PreparedSeries(string Name, long[] Timestamps, double[] Values, double StepSeconds, int FilledCount)
{
    /// <summary>The largest share of filled points we accept; beyond it the series says more about the recorder than the load.</summary>
    public const double MaxFilledShare = 0.2;

    /// <summary>
    /// Puts <paramref name="series"/> on its nominal grid. Missing timestamps and NaN/±∞ values are filled by linear
    /// interpolation between the nearest valid neighbours (held flat at the ends); a timestamp off the grid snaps to
    /// the nearest grid point (the last sample wins). Refuses a series with fewer than <paramref name="minLength"/>
    /// points, more than <see cref="MaxFilledShare"/> filled, or no variation at all.
    /// </summary>
    public static PreparedSeries From(RecordedSeries series, int minLength)
    {
        ArgumentNullException.ThrowIfNull(series);
        string name = series.Info.Name;
        long stepMs = (long)series.Info.Step.TotalMilliseconds;
        if (stepMs <= 0)
        {
            throw new PredictorException($"Series '{name}': its step is {series.Info.Step}; training needs a positive step (e.g. 300 s).");
        }

        if (series.Count == 0)
        {
            throw new PredictorException($"Series '{name}' is empty; it needs at least {minLength} points (window + horizon + backtest).");
        }

        long start = series.Timestamps[0];
        long end = series.Timestamps[^1];
        long slots = ((end - start + (stepMs / 2)) / stepMs) + 1;
        if (slots > 50_000_000)
        {
            throw new PredictorException($"Series '{name}' spans {slots} steps of {stepMs} ms; check the step or the timestamps.");
        }

        var values = new double[slots];
        var known = new bool[slots];
        for (int i = 0; i < series.Count; i++)
        {
            long slot = (series.Timestamps[i] - start + (stepMs / 2)) / stepMs;
            double v = series.Values[i];
            if (double.IsFinite(v))
            {
                values[slot] = v;
                known[slot] = true;
            }
        }

        int filled = FillLinear(values, known);
        if (filled == slots)
        {
            throw new PredictorException($"Series '{name}' has no finite value; nothing to train on.");
        }

        if (slots < minLength)
        {
            throw new PredictorException(
                $"Series '{name}' has {slots} points{Days(slots, series.Info.Step)}; training or scoring it needs at least {minLength}{Days(minLength, series.Info.Step)}: " +
                "two days (the daily season) or two windows, whichever is longer, plus the horizon and the backtest's calibration and test parts. " +
                "Use a longer recording: a coarser --step or a smaller --window does not shorten the two days.");
        }

        if (filled > MaxFilledShare * slots)
        {
            throw new PredictorException(
                $"Series '{name}': {filled} of {slots} points are missing or NaN (more than {MaxFilledShare:P0}); fix the recording or select another series.");
        }

        double min = values.Min(), max = values.Max();
        if (max - min <= 1e-9 * Math.Max(1, Math.Abs(max)))
        {
            throw new PredictorException(
                $"Series '{name}' is constant ({min}); no model can learn from it. Exclude it with --series, or forecast it with the naive model.");
        }

        var timestamps = new long[slots];
        for (long i = 0; i < slots; i++)
        {
            timestamps[i] = start + (i * stepMs);
        }

        return new PreparedSeries(name, timestamps, values, stepMs / 1000.0, filled);
    }

    // " (2.9 days)": a count of steps as time, for messages; empty when the step is unknown.
    private static string Days(long steps, TimeSpan step) =>
        step > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $" ({steps * step.TotalDays:0.0} days)") : "";

    /// <summary>Fills unknown points by linear interpolation; returns how many were filled.</summary>
    internal static int FillLinear(double[] values, bool[] known)
    {
        int filled = 0;
        int previous = -1;
        for (int i = 0; i <= values.Length; i++)
        {
            if (i < values.Length && !known[i])
            {
                continue;
            }

            int gapStart = previous + 1;
            for (int j = gapStart; j < i; j++)
            {
                values[j] = previous < 0
                    ? (i < values.Length ? values[i] : 0)
                    : i >= values.Length
                        ? values[previous]
                        : values[previous] + ((values[i] - values[previous]) * (j - previous) / (i - previous));
                filled++;
            }

            previous = i;
        }

        return filled;
    }
}

namespace Predictor.Engine.Replay.Report;

/// <summary>
/// Picks the indices to draw of a long series so that a polyline stays light (≤ a given number of points) while every
/// peak and trough survives: the series is cut into equal buckets and each bucket keeps its minimum and its maximum, in
/// index order. A 30-day trace at 5 minutes (8,640 points) drawn on ~1,200 pixels loses nothing visible this way, where
/// taking every k-th point would drop short surges, the very thing a replay is about.
/// </summary>
internal static class MinMaxDownsampler
{
    /// <summary>Indices to keep, ascending; all of them when the series already fits in <paramref name="maxPoints"/>.</summary>
    /// <param name="values">The series.</param>
    /// <param name="maxPoints">Upper bound on the number of indices returned; at least 4 (two buckets).</param>
    public static int[] Indices(ReadOnlySpan<double> values, int maxPoints)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 4);
        var n = values.Length;
        if (n <= maxPoints)
        {
            var all = new int[n];
            for (var i = 0; i < n; i++)
            {
                all[i] = i;
            }

            return all;
        }

        var buckets = maxPoints / 2;
        var kept = new List<int>(maxPoints);
        for (var b = 0; b < buckets; b++)
        {
            // Bucket b covers [start, end): boundaries computed with longs so the buckets tile the series exactly.
            var start = (int)((long)b * n / buckets);
            var end = (int)((long)(b + 1) * n / buckets);
            int lo = start, hi = start;
            for (var i = start + 1; i < end; i++)
            {
                if (values[i] < values[lo])
                {
                    lo = i;
                }

                if (values[i] > values[hi])
                {
                    hi = i;
                }
            }

            kept.Add(Math.Min(lo, hi));
            if (lo != hi)
            {
                kept.Add(Math.Max(lo, hi));
            }
        }

        return [.. kept];
    }
}

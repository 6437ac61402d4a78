namespace Predictor.Training.Ssa;

/// <summary>
/// Whether a span's level moved: the best split of the span into a before and an after part (each at least
/// <c>minSide</c> values long), scored by the share of the span's variance that the two parts' means explain
/// (between-part sum of squares over the total, the R² of a step function with one step).
/// </summary>
public static class LevelShift
{
    /// <summary>The share above which the shift is the span's dominant feature (more than half of its variance).</summary>
    public const double DominantShare = 0.5;

    /// <summary>
    /// The largest share of the variance of <paramref name="values"/> that one split explains: max over split points i
    /// (minSide ≤ i ≤ n − minSide) of i·(n − i)/n · (mean after − mean before)² / Σ(v − mean)². 0 for a constant span or
    /// one too short to split.
    /// </summary>
    public static double ExplainedShare(ReadOnlySpan<double> values, int minSide)
    {
        int n = values.Length;
        minSide = Math.Max(1, minSide);
        if (n < 2 * minSide)
        {
            return 0;
        }

        double total = 0;
        foreach (double v in values)
        {
            total += v;
        }

        double mean = total / n;
        double squares = 0;
        foreach (double v in values)
        {
            squares += (v - mean) * (v - mean);
        }

        if (!(squares > 0))
        {
            return 0;
        }

        double best = 0, before = 0;
        for (int i = 1; i < n - minSide + 1; i++)
        {
            before += values[i - 1];
            if (i < minSide)
            {
                continue;
            }

            double difference = ((total - before) / (n - i)) - (before / i);
            best = Math.Max(best, (double)i * (n - i) / n * difference * difference);
        }

        return best / squares;
    }

    /// <summary>True when one split explains more than <see cref="DominantShare"/> of the span's variance.</summary>
    public static bool Dominates(ReadOnlySpan<double> values, int minSide) => ExplainedShare(values, minSide) > DominantShare;
}

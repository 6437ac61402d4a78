using Predictor.Engine;

namespace Predictor.Training.Trees;

/// <summary>
/// Maps each feature to at most 255 bins whose edges are quantiles of the training rows. Bin b of feature f holds
/// the values x with <c>Thresholds[f][b−1] &lt; x ≤ Thresholds[f][b]</c>; the last bin holds everything above the last
/// threshold, and NaN. The invariant the whole trainer relies on: <c>bin(x) ≤ b ⇔ x ≤ Thresholds[f][b]</c> for
/// every float x, so a split learnt on bins is exactly the float split <c>x ≤ threshold</c> that ONNX's
/// BRANCH_LEQ evaluates (NaN fails every ≤ and goes right, in both).
/// </summary>
internal sealed class FeatureBinner
{
    private FeatureBinner(float[][] thresholds)
    {
        Thresholds = thresholds;
        int max = 1;
        foreach (var t in thresholds)
        {
            max = Math.Max(max, t.Length + 1);
        }

        MaxBinCount = max;
    }

    /// <summary>Per feature, strictly increasing float thresholds; bins = thresholds + 1.</summary>
    public float[][] Thresholds { get; }

    /// <summary>The most bins any feature has (the histogram stride).</summary>
    public int MaxBinCount { get; }

    /// <summary>Features.</summary>
    public int FeatureCount => Thresholds.Length;

    /// <summary>Learns bin edges from rows [0, <paramref name="rows"/>) of a row-major matrix.</summary>
    /// <param name="features">Row-major [≥ rows, width], no NaN.</param>
    /// <param name="rows">Training rows to learn from.</param>
    /// <param name="width">Features per row.</param>
    /// <param name="maxBins">2–255.</param>
    public static FeatureBinner Fit(ReadOnlySpan<float> features, int rows, int width, int maxBins)
    {
        var thresholds = new float[width][];
        var column = new float[rows];
        var distinct = new float[rows];
        var cuts = new List<float>(maxBins);
        for (int f = 0; f < width; f++)
        {
            for (int r = 0; r < rows; r++)
            {
                float v = features[(r * width) + f];
                if (float.IsNaN(v))
                {
                    throw new PredictorException(
                        $"Feature {f} of training row {r} is NaN; gradient-boosted trees train on complete rows. Fill gaps in the series before building the supervised windows.");
                }

                column[r] = v;
            }

            Array.Sort(column);
            int d = 0;
            for (int r = 0; r < rows; r++)
            {
                if (d == 0 || column[r] != distinct[d - 1])
                {
                    distinct[d++] = column[r];
                }
            }

            cuts.Clear();
            if (d <= maxBins)
            {
                // Few values: one bin per value, cut half-way between neighbours.
                for (int i = 0; i + 1 < d; i++)
                {
                    cuts.Add(Midpoint(distinct[i], distinct[i + 1]));
                }
            }
            else
            {
                // Quantile cuts: the value at rank k·n/maxBins ends bin k−1; cut between it and the next distinct
                // value. Ties collapse to one cut, so a heavy value never straddles two bins.
                for (int k = 1; k < maxBins; k++)
                {
                    float v = column[(int)Math.Min(rows - 1, (long)k * rows / maxBins)];
                    int i = Array.BinarySearch(distinct, 0, d, v);
                    if (i + 1 >= d)
                    {
                        break;
                    }

                    float cut = Midpoint(distinct[i], distinct[i + 1]);
                    if (cuts.Count == 0 || cut > cuts[^1])
                    {
                        cuts.Add(cut);
                    }
                }
            }

            thresholds[f] = [.. cuts];
        }

        return new FeatureBinner(thresholds);
    }

    /// <summary>The bin of <paramref name="value"/> for feature <paramref name="feature"/>.</summary>
    public byte BinOf(int feature, float value)
    {
        var t = Thresholds[feature];
        int lo = 0;
        int hi = t.Length;
        // Smallest b with value ≤ t[b]; t.Length when none (including NaN).
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (value <= t[mid])
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return (byte)lo;
    }

    /// <summary>Bins rows [first, first + count) of a row-major matrix into a column-major byte matrix
    /// [FeatureCount, count], so that one feature's bins are contiguous for histogram building.</summary>
    public byte[] BinColumns(ReadOnlySpan<float> features, int first, int count)
    {
        int width = FeatureCount;
        var binned = new byte[width * count];
        for (int r = 0; r < count; r++)
        {
            var row = features.Slice((first + r) * width, width);
            for (int f = 0; f < width; f++)
            {
                binned[(f * count) + r] = BinOf(f, row[f]);
            }
        }

        return binned;
    }

    /// <summary>A float strictly between a and b when one exists, else a; so that a ≤ cut &lt; b always.</summary>
    private static float Midpoint(float a, float b)
    {
        float m = (float)((a + (double)b) * 0.5);
        return m >= b || m < a || float.IsNaN(m) ? a : m;
    }
}

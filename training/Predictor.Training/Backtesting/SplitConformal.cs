namespace Predictor.Training.Backtesting;

/// <summary>
/// Split-conformal upper bounds: for each horizon step h, the offset is the ⌈(n+1)·q⌉-th smallest of the n
/// calibration residuals r = actual − forecast at that step. If the residuals of future origins are exchangeable
/// with these, P(y ≤ ŷ + offset) ≥ q (Vovk et al.; Lei et al. 2018, "Distribution-free predictive inference").
/// When ⌈(n+1)·q⌉ &gt; n there are too few residuals for that guarantee and the largest one is used (said in the card
/// through the residual count).
/// </summary>
internal static class SplitConformal
{
    /// <summary>Per-step offsets from [count × H] residuals (row-major).</summary>
    public static double[] Offsets(ReadOnlySpan<double> residuals, int horizon, double quantile)
    {
        int n = residuals.Length / horizon;
        if (n == 0)
        {
            throw new ArgumentException("No calibration residuals: the calibration part holds no origin.", nameof(residuals));
        }

        int rank = Math.Min((int)Math.Ceiling((n + 1) * quantile), n); // 1-based
        var offsets = new double[horizon];
        var column = new double[n];
        for (int h = 0; h < horizon; h++)
        {
            for (int i = 0; i < n; i++)
            {
                column[i] = residuals[(i * horizon) + h];
            }

            Array.Sort(column);
            offsets[h] = column[rank - 1];
        }

        return offsets;
    }
}

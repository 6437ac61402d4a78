namespace Predictor.Training.Backtesting;

/// <summary>
/// Chooses a model from its calibration losses. Two rules, both about what the calibration part can and cannot tell:
/// <list type="number">
/// <item><b>Recent origins weigh more.</b> Each origin's loss is weighted by 0.5^(age / half-life), age counted in
/// steps back from the last calibration origin. After a level shift the calibration part mixes two regimes; the model
/// ships into the later one. (Discounted past errors for choosing and weighting forecasts: Stock and Watson 2004,
/// "Combination forecasts of output growth in a seven-country data set".)</item>
/// <item><b>Differences within noise go to the simpler model</b> (the one-standard-error rule, Breiman et al. 1984;
/// Hastie, Tibshirani and Friedman, ESL 7.10): the chosen kind is the simplest whose weighted loss exceeds the best's
/// by at most <c>k</c> standard errors of the paired difference. Losses of neighbouring origins share most of their
/// targets and the daily pattern, so the standard error is taken over blocks of one season (the weighted mean
/// difference of each block), not over origins.</item>
/// </list>
/// </summary>
internal static class ModelSelection
{
    /// <summary>Kinds from simplest to most complex; a kind not listed counts as the most complex.</summary>
    public static IReadOnlyList<string> SimplestFirst { get; } = ["naive", "seasonal_naive", "ssa", "ridge", "combination", "gbdt"];

    /// <summary>0.5^(age/halfLife) for origins 0..count−1, the last origin having age 0; all 1 when halfLife is ∞.</summary>
    public static double[] RecencyWeights(int count, double halfLifeSteps)
    {
        var weights = new double[count];
        for (int i = 0; i < count; i++)
        {
            weights[i] = double.IsPositiveInfinity(halfLifeSteps) ? 1 : Math.Pow(0.5, (count - 1 - i) / halfLifeSteps);
        }

        return weights;
    }

    /// <summary>Σ wᵢ·lossᵢ / Σ wᵢ, ignoring NaN losses; NaN when nothing is left.</summary>
    public static double WeightedMean(ReadOnlySpan<double> losses, ReadOnlySpan<double> weights)
    {
        double sum = 0, total = 0;
        for (int i = 0; i < losses.Length; i++)
        {
            if (!double.IsNaN(losses[i]))
            {
                sum += weights[i] * losses[i];
                total += weights[i];
            }
        }

        return total > 0 ? sum / total : double.NaN;
    }

    /// <summary>
    /// Weighted mean of a − b and its standard error over blocks of <paramref name="block"/> origins: with block
    /// means d_b and block weights W_b (sums of the origin weights), mean = Σ W_b d_b / Σ W_b and
    /// se = √(Σ W_b² (d_b − mean)²) / Σ W_b. One block gives se = 0.
    /// </summary>
    public static (double Mean, double StandardError) PairedDifference(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> weights, int block)
    {
        if (a.Length != b.Length || a.Length != weights.Length)
        {
            throw new ArgumentException("Losses and weights must have one entry per origin.", nameof(weights));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        int blocks = (a.Length + block - 1) / block;
        var blockMean = new double[blocks];
        var blockWeight = new double[blocks];
        double sum = 0, total = 0;
        for (int k = 0; k < blocks; k++)
        {
            double s = 0, w = 0;
            for (int i = k * block; i < Math.Min(a.Length, (k + 1) * block); i++)
            {
                double d = a[i] - b[i];
                if (!double.IsNaN(d))
                {
                    s += weights[i] * d;
                    w += weights[i];
                }
            }

            blockWeight[k] = w;
            blockMean[k] = w > 0 ? s / w : 0;
            sum += s;
            total += w;
        }

        if (total <= 0)
        {
            return (double.NaN, double.NaN);
        }

        double mean = sum / total, variance = 0;
        for (int k = 0; k < blocks; k++)
        {
            variance += blockWeight[k] * blockWeight[k] * (blockMean[k] - mean) * (blockMean[k] - mean);
        }

        return (mean, Math.Sqrt(variance) / total);
    }

    /// <summary>
    /// The index of the chosen candidate. <paramref name="losses"/>[c][s] holds candidate c's per-origin calibration
    /// losses on series s (every candidate has the same origins per series). Scores are the recency-weighted mean loss
    /// averaged over series; the best-scoring candidate wins unless a simpler one (by <see cref="SimplestFirst"/>) is
    /// within <paramref name="standardErrors"/> standard errors of it (series combine as a mean: se = √Σse²/S).
    /// </summary>
    public static int Choose(IReadOnlyList<string> kinds, IReadOnlyList<IReadOnlyList<double[]>> losses, double halfLifeSteps, int block, double standardErrors)
    {
        if (kinds.Count == 0 || kinds.Count != losses.Count)
        {
            throw new ArgumentException("One loss set per kind, at least one kind.", nameof(losses));
        }

        int series = losses[0].Count;
        var weights = Enumerable.Range(0, series).Select(s => RecencyWeights(losses[0][s].Length, halfLifeSteps)).ToArray();
        var scores = new double[kinds.Count];
        int best = 0;
        for (int c = 0; c < kinds.Count; c++)
        {
            scores[c] = Enumerable.Range(0, series).Select(s => WeightedMean(losses[c][s], weights[s])).Average();
            if (Better(scores[c], scores[best]))
            {
                best = c;
            }
        }

        if (!(standardErrors > 0) || double.IsNaN(scores[best]))
        {
            return best;
        }

        var bySimplicity = Enumerable.Range(0, kinds.Count).OrderBy(c => Complexity(kinds[c])).ThenBy(c => c);
        foreach (int c in bySimplicity)
        {
            if (c == best || Complexity(kinds[c]) >= Complexity(kinds[best]))
            {
                break;
            }

            if (!ClearlyBetter(losses[best], losses[c], weights, block, standardErrors))
            {
                return c;
            }
        }

        return best;
    }

    /// <summary>
    /// Whether <paramref name="richer"/> beats <paramref name="simpler"/> by more than <paramref name="standardErrors"/>
    /// standard errors: the weighted paired difference simpler − richer (per-origin losses per series, blocks of
    /// <paramref name="block"/> origins; series combine as a mean, se = √Σse²/S) exceeds that many standard errors.
    /// </summary>
    private static bool ClearlyBetter(IReadOnlyList<double[]> richer, IReadOnlyList<double[]> simpler, double[][] weights, int block, double standardErrors)
    {
        int series = simpler.Count;
        double mean = 0, variance = 0;
        for (int s = 0; s < series; s++)
        {
            var (m, se) = PairedDifference(simpler[s], richer[s], weights[s], block);
            mean += m / series;
            variance += se * se / ((double)series * series);
        }

        return mean > standardErrors * Math.Sqrt(variance);
    }

    /// <summary>
    /// Horizon-aware selection: the index of the candidate chosen for each horizon step. <paramref name="stepLosses"/>[c][s][k]
    /// holds candidate c's per-origin calibration losses at step k (0-based) on series s. Every step starts from
    /// <paramref name="wholeHorizon"/>, the candidate <see cref="Choose"/> picked on the mean over the steps, and departs
    /// from it only when, on that step's losses, the step's best candidate beats it by MORE than
    /// <paramref name="standardErrors"/> standard errors of the paired difference (over one-season blocks); a step that
    /// departs takes <see cref="Choose"/> on its own losses (the simplest within the standard errors of its best).
    /// </summary>
    /// <remarks>Why anchored on the whole-horizon winner rather than 12 free choices: each step's losses come from the
    /// same few calibration days, so 12 independent argmins flip between kinds on noise; a departure must be as
    /// clear as the one-standard-error rule asks of a more complex kind. With no clear departure the result is the
    /// whole-horizon winner at every step, i.e. exactly the single-kind model.</remarks>
    public static int[] ChoosePerStep(
        IReadOnlyList<string> kinds, IReadOnlyList<IReadOnlyList<double[][]>> stepLosses, int wholeHorizon, double halfLifeSteps, int block, double standardErrors)
    {
        if (kinds.Count == 0 || kinds.Count != stepLosses.Count)
        {
            throw new ArgumentException("One loss set per kind, at least one kind.", nameof(stepLosses));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(wholeHorizon);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(wholeHorizon, kinds.Count);
        int series = stepLosses[0].Count;
        int horizon = series == 0 ? 0 : stepLosses[0][0].Length;
        var weights = Enumerable.Range(0, series).Select(s => RecencyWeights(stepLosses[0][s][0].Length, halfLifeSteps)).ToArray();
        var chosen = new int[horizon];
        for (int k = 0; k < horizon; k++)
        {
            var atStep = stepLosses.Select(c => (IReadOnlyList<double[]>)[.. c.Select(s => s[k])]).ToList();
            int best = wholeHorizon;
            double bestScore = Score(atStep[wholeHorizon], weights);
            for (int c = 0; c < kinds.Count; c++)
            {
                double score = Score(atStep[c], weights);
                if (Better(score, bestScore))
                {
                    best = c;
                    bestScore = score;
                }
            }

            chosen[k] = wholeHorizon;
            if (best == wholeHorizon)
            {
                continue;
            }

            double mean = 0, variance = 0;
            for (int s = 0; s < series; s++)
            {
                var (m, se) = PairedDifference(atStep[wholeHorizon][s], atStep[best][s], weights[s], block);
                mean += m / series;
                variance += se * se / ((double)series * series);
            }

            // NaN (a kind without losses) never departs.
            if (mean > standardErrors * Math.Sqrt(variance))
            {
                chosen[k] = Choose(kinds, atStep, halfLifeSteps, block, standardErrors);
            }
        }

        return chosen;
    }

    private static double Score(IReadOnlyList<double[]> losses, double[][] weights) =>
        Enumerable.Range(0, losses.Count).Select(s => WeightedMean(losses[s], weights[s])).Average();

    /// <summary>Position in <see cref="SimplestFirst"/>; unknown kinds rank last.</summary>
    public static int Complexity(string kind)
    {
        int i = SimplestFirst.ToList().IndexOf(kind);
        return i < 0 ? SimplestFirst.Count : i;
    }

    private static bool Better(double score, double incumbent) =>
        !double.IsNaN(score) && (double.IsNaN(incumbent) || score < incumbent);
}

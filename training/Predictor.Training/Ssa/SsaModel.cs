using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using Predictor.Engine;

namespace Predictor.Training.Ssa;

/// <summary>
/// The eigen-decomposition of the lag-covariance matrix S = X·Xᵀ of the trajectory (Hankel) matrix X (L × K, column
/// k = x(k..k+L−1)), summed over the training series: eigenvalues in decreasing order and their eigenvectors.
/// </summary>
internal sealed class SsaDecomposition
{
    private SsaDecomposition(int windowLength, double[] eigenvalues, double[,] eigenvectors)
    {
        WindowLength = windowLength;
        Eigenvalues = eigenvalues;
        Eigenvectors = eigenvectors;
    }

    /// <summary>L.</summary>
    public int WindowLength { get; }

    /// <summary>λ₁ ≥ λ₂ ≥ … ≥ λ_L ≥ 0.</summary>
    public double[] Eigenvalues { get; }

    /// <summary>U, L × L, column i the eigenvector of λᵢ.</summary>
    public double[,] Eigenvectors { get; }

    /// <summary>
    /// Decomposes the series (each at least L long). S is accumulated without forming X: its first row directly
    /// (O(L·K)), then S[i+1, j+1] = S[i, j] − x(i)·x(j) + x(i+K)·x(j+K), so the cost is O(L·n + L²) per series plus
    /// one symmetric eigen-decomposition (O(L³)).
    /// </summary>
    /// <remarks>
    /// With <see cref="SsaCentring.LagVectors"/> (SSA with projection onto constants, Golyandina &amp; Shlemov 2017):
    /// each lag vector Xₖ is centred on its own mean mₖ before the covariance is summed,
    /// S_c = Σ (Xₖ − mₖ·1)(Xₖ − mₖ·1)ᵀ = S − c·1ᵀ − 1·cᵀ + q·1·1ᵀ with c = Σ mₖ·Xₖ and q = Σ mₖ², so a change of
    /// level enters the eigenvectors only through the vectors that straddle it. The basis is then 1/√L (the constant,
    /// eigenvalue L·q: the lag vectors' squared norm along it) followed by the eigenvectors of S_c, which are ⊥ 1;
    /// a rank r counts the constant, so the recurrence reproduces any level and each window keeps its own.
    /// </remarks>
    public static SsaDecomposition Fit(IReadOnlyList<double[]> series, int windowLength, SsaCentring centring = SsaCentring.Series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (centring is not (SsaCentring.Series or SsaCentring.LagVectors))
        {
            throw new ArgumentOutOfRangeException(nameof(centring), centring, "One decomposition is either basic or centred; the trainer resolves LevelShift to one of them.");
        }

        int l = windowLength;
        var s = new double[l, l];
        var levelCross = new double[l];
        double levelSquares = 0;
        foreach (double[] x in series)
        {
            int k = x.Length - l + 1;
            if (k < 1)
            {
                throw new PredictorException($"SSA: a training series has {x.Length} points, fewer than the window length L = {l}; use a longer series or a smaller L.");
            }

            var row = new double[l];
            for (int j = 0; j < l; j++)
            {
                double acc = 0;
                for (int c = 0; c < k; c++)
                {
                    acc += x[c] * x[j + c];
                }

                row[j] = acc;
            }

            // Upper triangle by diagonals: S[i, i+d] from S[i−1, i−1+d].
            for (int d = 0; d < l; d++)
            {
                double v = row[d];
                s[0, d] += v;
                for (int i = 1; i + d < l; i++)
                {
                    v += (x[i + k - 1] * x[i + d + k - 1]) - (x[i - 1] * x[i + d - 1]);
                    s[i, i + d] += v;
                }
            }

            if (centring == SsaCentring.LagVectors)
            {
                // m_c, the mean of lag vector c, by a running sum; c_i += m_c·x(c+i); q += m_c².
                double sum = 0;
                for (int i = 0; i < l; i++)
                {
                    sum += x[i];
                }

                for (int c = 0; c < k; c++)
                {
                    if (c > 0)
                    {
                        sum += x[c + l - 1] - x[c - 1];
                    }

                    double m = sum / l;
                    levelSquares += m * m;
                    for (int i = 0; i < l; i++)
                    {
                        levelCross[i] += m * x[c + i];
                    }
                }
            }
        }

        if (centring == SsaCentring.LagVectors)
        {
            // S_c, plus the constant's own term L·q·(1/√L)(1/√L)ᵀ = q·1·1ᵀ: since S_c·1 = 0, 1/√L is then an exact
            // eigenvector (eigenvalue L·q) and the decomposition returns it beside an orthonormal basis of its
            // complement, even where S_c has a null space of its own (a noise-free series of low rank).
            for (int i = 0; i < l; i++)
            {
                for (int j = i; j < l; j++)
                {
                    s[i, j] += (2 * levelSquares) - levelCross[i] - levelCross[j];
                }
            }
        }

        for (int i = 0; i < l; i++)
        {
            for (int j = i + 1; j < l; j++)
            {
                s[j, i] = s[i, j];
            }
        }

        var evd = Matrix<double>.Build.DenseOfArray(s).Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(c => c.Real).ToArray();
        var vectors = evd.EigenVectors;
        int[] order = [.. Enumerable.Range(0, l).OrderByDescending(i => values[i]).ThenBy(i => i)];
        var sortedValues = new double[l];
        var sortedVectors = new double[l, l];
        for (int c = 0; c < l; c++)
        {
            sortedValues[c] = Math.Max(values[order[c]], 0);
            // Fix the sign (largest-magnitude entry positive) so the same data always gives the same vectors.
            int argMax = 0;
            for (int r = 1; r < l; r++)
            {
                if (Math.Abs(vectors[r, order[c]]) > Math.Abs(vectors[argMax, order[c]]))
                {
                    argMax = r;
                }
            }

            double sign = vectors[argMax, order[c]] < 0 ? -1 : 1;
            for (int r = 0; r < l; r++)
            {
                sortedVectors[r, c] = sign * vectors[r, order[c]];
            }
        }

        if (centring == SsaCentring.LagVectors)
        {
            // Put the constant's eigenvector (the one along 1) first, exactly 1/√L; the others are ⊥ 1, in order.
            int constantLike = 0;
            double bestDot = -1;
            for (int c = 0; c < l; c++)
            {
                double dot = 0;
                for (int r = 0; r < l; r++)
                {
                    dot += sortedVectors[r, c];
                }

                if (Math.Abs(dot) > bestDot)
                {
                    bestDot = Math.Abs(dot);
                    constantLike = c;
                }
            }

            var constantFirstValues = new double[l];
            var constantFirstVectors = new double[l, l];
            constantFirstValues[0] = l * levelSquares;
            double unit = 1 / Math.Sqrt(l);
            for (int r = 0; r < l; r++)
            {
                constantFirstVectors[r, 0] = unit;
            }

            for (int c = 0, to = 1; c < l; c++)
            {
                if (c == constantLike)
                {
                    continue;
                }

                constantFirstValues[to] = sortedValues[c];
                for (int r = 0; r < l; r++)
                {
                    constantFirstVectors[r, to] = sortedVectors[r, c];
                }

                to++;
            }

            return new SsaDecomposition(l, constantFirstValues, constantFirstVectors);
        }

        return new SsaDecomposition(l, sortedValues, sortedVectors);
    }

    /// <summary>The smallest rank whose eigenvalues hold <paramref name="share"/> of the total, capped at <paramref name="maxRank"/> and L − 1.</summary>
    public int RankFor(double share, int maxRank)
    {
        double total = Eigenvalues.Sum();
        double acc = 0;
        int cap = Math.Min(maxRank, WindowLength - 1);
        for (int r = 1; r <= cap; r++)
        {
            acc += Eigenvalues[r - 1];
            if (acc >= share * total)
            {
                return r;
            }
        }

        return cap;
    }
}

/// <summary>
/// Recurrent SSA forecasting with rank r: the linear recurrence (LRR) x(t) = Σ_{k=1}^{L−1} a_k · x(t−L+k) of the
/// signal subspace span(U₁..U_r) and the projection Π = U_r·U_rᵀ onto it.
/// With π = last row of U_r, ν² = |π|² &lt; 1 and U▽ the first L−1 rows, a = U▽·π / (1 − ν²)
/// (Golyandina, Nekrutkin &amp; Zhigljavsky, "Analysis of Time Series Structure: SSA and Related Techniques", §2.1).
/// The forecast of a window: project its last L values onto the subspace, then run the recurrence H times.
/// Every step is linear in the window, so the whole H-step forecast is one map A [W, H].
/// </summary>
internal sealed class SsaModel
{
    private SsaModel(int windowLength, int rank, double[] recurrence, double[,] projection)
    {
        WindowLength = windowLength;
        Rank = rank;
        Recurrence = recurrence;
        Projection = projection;
    }

    /// <summary>L.</summary>
    public int WindowLength { get; }

    /// <summary>r.</summary>
    public int Rank { get; }

    /// <summary>a: L − 1 coefficients applied to the previous L − 1 values, oldest first.</summary>
    public double[] Recurrence { get; }

    /// <summary>Π = U_r·U_rᵀ, L × L.</summary>
    public double[,] Projection { get; }

    /// <summary>Builds the LRR of rank <paramref name="rank"/>; lowers the rank while ν² is too close to 1 (the recurrence would not exist).</summary>
    public static SsaModel From(SsaDecomposition decomposition, int rank)
    {
        ArgumentNullException.ThrowIfNull(decomposition);
        int l = decomposition.WindowLength;
        var u = decomposition.Eigenvectors;
        int r = Math.Clamp(rank, 1, l - 1);
        double nu2;
        while (true)
        {
            nu2 = 0;
            for (int i = 0; i < r; i++)
            {
                nu2 += u[l - 1, i] * u[l - 1, i];
            }

            if (nu2 < 1 - 1e-6 || r == 1)
            {
                break;
            }

            r--;
        }

        if (nu2 >= 1 - 1e-6)
        {
            throw new PredictorException("SSA: the signal subspace contains the vertical unit vector (ν² = 1), so no recurrent forecast exists; use a larger window length L.");
        }

        var a = new double[l - 1];
        for (int k = 0; k < l - 1; k++)
        {
            double acc = 0;
            for (int i = 0; i < r; i++)
            {
                acc += u[l - 1, i] * u[k, i];
            }

            a[k] = acc / (1 - nu2);
        }

        var p = new double[l, l];
        for (int i = 0; i < l; i++)
        {
            for (int j = i; j < l; j++)
            {
                double acc = 0;
                for (int c = 0; c < r; c++)
                {
                    acc += u[i, c] * u[j, c];
                }

                p[i, j] = acc;
                p[j, i] = acc;
            }
        }

        return new SsaModel(l, r, a, p);
    }

    /// <summary>
    /// The H-step forecast as one map A, row-major [W, H] (W ≥ L): forecast(h) = Σ_w window(w)·A[w, h]. Only the
    /// last L rows are non-zero. Each forecast value is tracked as its coefficient vector over the last L window
    /// values; the recurrence combines coefficient vectors exactly as it would combine values.
    /// </summary>
    public double[] ForecastMap(int window, int horizon)
    {
        int l = WindowLength;
        if (window < l)
        {
            throw new PredictorException($"SSA: the model window W = {window} is shorter than the SSA window length L = {l}; use W ≥ L.");
        }

        // seq[m] = coefficients (over the last L window values) of the m-th value of the projected-then-extended sequence.
        var seq = new List<double[]>(l + horizon);
        for (int m = 0; m < l; m++)
        {
            var row = new double[l];
            for (int j = 0; j < l; j++)
            {
                row[j] = Projection[m, j];
            }

            seq.Add(row);
        }

        var map = new double[window * horizon];
        for (int h = 0; h < horizon; h++)
        {
            var next = new double[l];
            int first = seq.Count - (l - 1);
            for (int k = 0; k < l - 1; k++)
            {
                double ak = Recurrence[k];
                var src = seq[first + k];
                for (int j = 0; j < l; j++)
                {
                    next[j] += ak * src[j];
                }
            }

            seq.Add(next);
            for (int j = 0; j < l; j++)
            {
                map[((window - l + j) * horizon) + h] = next[j];
            }
        }

        return map;
    }

    /// <summary>The forecast computed step by step (project, then recur): the reference the map must reproduce.</summary>
    public double[] ForecastRecurrently(ReadOnlySpan<double> window, int horizon)
    {
        int l = WindowLength;
        var last = window[^l..];
        var seq = new List<double>(l + horizon);
        for (int m = 0; m < l; m++)
        {
            double acc = 0;
            for (int j = 0; j < l; j++)
            {
                acc += Projection[m, j] * last[j];
            }

            seq.Add(acc);
        }

        var result = new double[horizon];
        for (int h = 0; h < horizon; h++)
        {
            double acc = 0;
            int first = seq.Count - (l - 1);
            for (int k = 0; k < l - 1; k++)
            {
                acc += Recurrence[k] * seq[first + k];
            }

            seq.Add(acc);
            result[h] = acc;
        }

        return result;
    }
}

using MathNet.Numerics.LinearAlgebra;
using Predictor.Engine;

namespace Predictor.Training.Regression;

/// <summary>
/// Multi-output ridge regression in closed form, Y ≈ X·B + 1·bᵀ, solving (XᵀX + λD)·[B; b] = Xᵀ·Y with the
/// intercept column unpenalised (D = diag(1, …, 1, 0)), by Cholesky. λ = α·mean(diag(XᵀX)) so α is scale-free;
/// α is chosen from <see cref="Alphas"/> by squared error on the last <see cref="ValidationShare"/> of the rows
/// (rows are in time order, so validation is the most recent part), then the fit is redone on all rows.
/// Deterministic: no randomness, fixed summation order.
/// </summary>
internal static class RidgeRegression
{
    /// <summary>Candidate α, smallest first.</summary>
    public static IReadOnlyList<double> Alphas { get; } = [1e-4, 1e-3, 1e-2, 1e-1, 1];

    /// <summary>Share of the (most recent) rows held out to choose α.</summary>
    public const double ValidationShare = 0.2;

    /// <summary>The fitted map.</summary>
    /// <param name="Weights">B, row-major [F, H].</param>
    /// <param name="Bias">b, H values.</param>
    /// <param name="Alpha">The α chosen.</param>
    public sealed record Fit(double[] Weights, double[] Bias, double Alpha);

    /// <summary>Fits [rows × F] features to [rows × H] targets (row-major).</summary>
    /// <param name="features">Row-major [rows × F].</param>
    /// <param name="targets">Row-major [rows × H].</param>
    /// <param name="rows">Rows, oldest first.</param>
    /// <param name="featureCount">F.</param>
    /// <param name="horizon">H.</param>
    /// <param name="threads">Threads the Gram matrices may use, 0 for every core; the fit is the same bit for bit.</param>
    public static Fit Solve(double[] features, double[] targets, int rows, int featureCount, int horizon, int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (rows < featureCount + 2)
        {
            throw new PredictorException($"Ridge: {rows} training examples for {featureCount} features; give a longer series or a smaller window.");
        }

        int f1 = featureCount + 1;
        int trainRows = (int)(rows * (1 - ValidationShare));
        int degree = threads == 0 ? Environment.ProcessorCount : threads;
        var gramTrain = Gram(features, targets, 0, trainRows, featureCount, horizon, degree, out var crossTrain);
        var gramVal = Gram(features, targets, trainRows, rows, featureCount, horizon, degree, out var crossVal);
        double best = double.PositiveInfinity;
        double bestAlpha = Alphas[^1];
        foreach (double alpha in Alphas)
        {
            var b = SolvePenalised(gramTrain, crossTrain, alpha, featureCount);
            if (b is null)
            {
                continue;
            }

            double sse = ValidationError(features, targets, trainRows, rows, featureCount, horizon, b);
            if (sse < best)
            {
                best = sse;
                bestAlpha = alpha;
            }
        }

        var all = SolvePenalised(gramTrain + gramVal, crossTrain + crossVal, bestAlpha, featureCount)
            ?? throw new PredictorException("Ridge: the normal equations are singular even with the largest penalty; the features carry no information (constant series?).");
        var weights = new double[featureCount * horizon];
        var bias = new double[horizon];
        for (int h = 0; h < horizon; h++)
        {
            for (int k = 0; k < featureCount; k++)
            {
                weights[(k * horizon) + h] = all[k, h];
            }

            bias[h] = all[featureCount, h];
        }

        return new Fit(weights, bias, bestAlpha);
    }

    /// <summary>
    /// [XᵀX, Xᵀy] over rows [from, to) with the intercept column appended, accumulated row by row as rank-one updates
    /// of the upper triangle (SIMD over columns), then mirrored: half the work of a general product, no copy of X.
    /// With several threads, the triangle's rows i are cut into bands of about equal work and each band is
    /// accumulated over every data row by one thread: each element still sums the same products in row order, so the
    /// result does not depend on the thread count.
    /// </summary>
    private static Matrix<double> Gram(double[] features, double[] targets, int from, int to, int f, int h, int threads, out Matrix<double> cross)
    {
        int f1 = f + 1;
        var g = new double[f1 * f1];
        var c = new double[f1 * h];

        // Bands [bounds[b], bounds[b + 1]) of triangle rows, the work of row i being f1 − i: four bands a thread, so a
        // free thread takes the next. One band when there is one thread or too little work to share.
        int bands = threads <= 1 || (long)(to - from) * f1 * f1 < 2_000_000 ? 1 : Math.Min(4 * threads, f1);
        var bounds = new int[bands + 1];
        double total = (double)f1 * (f1 + 1) / 2;
        for (int b = 1, i = 0; b < bands; b++)
        {
            double done = 0;
            for (i = 0; i < f1 && done < total * b / bands; i++)
            {
                done += f1 - i;
            }

            bounds[b] = Math.Max(i, bounds[b - 1]);
        }

        bounds[bands] = f1;
        if (bands == 1)
        {
            AccumulateBand(features, targets, from, to, f, h, 0, f1, g, c);
        }
        else
        {
            Parallel.For(0, bands, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
                AccumulateBand(features, targets, from, to, f, h, bounds[b], bounds[b + 1], g, c));
        }

        for (int i = 0; i < f1; i++)
        {
            for (int j = i + 1; j < f1; j++)
            {
                g[(j * f1) + i] = g[(i * f1) + j];
            }
        }

        // Row-major data read as column-major is the transpose; both matrices are symmetric or transposed back here.
        cross = Matrix<double>.Build.Dense(h, f1, c).Transpose();
        return Matrix<double>.Build.Dense(f1, f1, g);
    }

    /// <summary>Rows <paramref name="first"/> … <paramref name="end"/> − 1 of the triangle of XᵀX and of Xᵀy, over data rows [from, to).</summary>
    private static void AccumulateBand(double[] features, double[] targets, int from, int to, int f, int h, int first, int end, double[] g, double[] c)
    {
        int f1 = f + 1;
        var row = new double[f1];
        for (int r = from; r < to; r++)
        {
            features.AsSpan(r * f, f).CopyTo(row);
            row[f] = 1.0;
            var y = targets.AsSpan(r * h, h);
            for (int i = first; i < end; i++)
            {
                double xi = row[i];
                if (xi == 0)
                {
                    continue;
                }

                var dst = g.AsSpan((i * f1) + i, f1 - i);
                var src = row.AsSpan(i, f1 - i);
                int j = 0;
                if (System.Numerics.Vector.IsHardwareAccelerated)
                {
                    var scale = new System.Numerics.Vector<double>(xi);
                    int width = System.Numerics.Vector<double>.Count;
                    for (; j <= src.Length - width; j += width)
                    {
                        var acc = new System.Numerics.Vector<double>(dst[j..]) + (scale * new System.Numerics.Vector<double>(src[j..]));
                        acc.CopyTo(dst[j..]);
                    }
                }

                for (; j < src.Length; j++)
                {
                    dst[j] += xi * src[j];
                }

                var ci = c.AsSpan(i * h, h);
                for (int k = 0; k < h; k++)
                {
                    ci[k] += xi * y[k];
                }
            }
        }
    }

    private static double ValidationError(double[] features, double[] targets, int from, int to, int f, int h, Matrix<double> b)
    {
        // Column k of B as a plain array (column-major storage): the same products in the same order as reading the
        // matrix's indexer, without its per-element call.
        var columns = b.ToColumnMajorArray();
        int f1 = f + 1;
        double sse = 0;
        for (int r = from; r < to; r++)
        {
            var x = features.AsSpan(r * f, f);
            for (int k = 0; k < h; k++)
            {
                var column = columns.AsSpan(k * f1, f1);
                double p = column[f];
                for (int i = 0; i < f; i++)
                {
                    p += x[i] * column[i];
                }

                double e = p - targets[(r * h) + k];
                sse += e * e;
            }
        }

        return sse;
    }

    private static Matrix<double>? SolvePenalised(Matrix<double> gram, Matrix<double> cross, double alpha, int featureCount)
    {
        double meanDiagonal = 0;
        for (int i = 0; i < featureCount; i++)
        {
            meanDiagonal += gram[i, i];
        }

        meanDiagonal /= featureCount;
        double lambda = alpha * Math.Max(meanDiagonal, 1e-12);
        var a = gram.Clone();
        for (int i = 0; i < featureCount; i++)
        {
            a[i, i] += lambda;
        }

        // The unpenalised intercept gets a tiny ridge too, so an all-zero design stays solvable.
        a[featureCount, featureCount] += 1e-12 * Math.Max(a[featureCount, featureCount], 1);
        try
        {
            return a.Cholesky().Solve(cross);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}

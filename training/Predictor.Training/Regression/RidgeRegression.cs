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
    public static Fit Solve(double[] features, double[] targets, int rows, int featureCount, int horizon)
    {
        if (rows < featureCount + 2)
        {
            throw new PredictorException($"Ridge: {rows} training examples for {featureCount} features; give a longer series or a smaller window.");
        }

        int f1 = featureCount + 1;
        // Column-major copies, the layout MathNet's dense storage uses, with the intercept column last.
        var xData = new double[rows * f1];
        var yData = new double[rows * horizon];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < featureCount; c++)
            {
                xData[(c * rows) + r] = features[(r * featureCount) + c];
            }

            xData[(featureCount * rows) + r] = 1.0;
            for (int c = 0; c < horizon; c++)
            {
                yData[(c * rows) + r] = targets[(r * horizon) + c];
            }
        }

        var x = Matrix<double>.Build.Dense(rows, f1, xData);
        var y = Matrix<double>.Build.Dense(rows, horizon, yData);
        int trainRows = (int)(rows * (1 - ValidationShare));
        var xTrain = x.SubMatrix(0, trainRows, 0, f1);
        var yTrain = y.SubMatrix(0, trainRows, 0, horizon);
        var xVal = x.SubMatrix(trainRows, rows - trainRows, 0, f1);
        var yVal = y.SubMatrix(trainRows, rows - trainRows, 0, horizon);
        var gramTrain = xTrain.TransposeThisAndMultiply(xTrain);
        var gramVal = xVal.TransposeThisAndMultiply(xVal);
        var crossTrain = xTrain.TransposeThisAndMultiply(yTrain);
        var crossVal = xVal.TransposeThisAndMultiply(yVal);

        double best = double.PositiveInfinity;
        double bestAlpha = Alphas[^1];
        foreach (double alpha in Alphas)
        {
            var b = SolvePenalised(gramTrain, crossTrain, alpha, featureCount);
            if (b is null)
            {
                continue;
            }

            double sse = (xVal * b - yVal).Enumerate().Sum(e => e * e);
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

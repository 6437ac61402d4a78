using Predictor.Training.Regression;

namespace Predictor.Training.Tests.Regression;

public sealed class RidgeRegressionTests
{
    [Fact]
    public void Solve_NoiselessLinearTargets_RecoversWeightsAndBias()
    {
        var rng = new Random(5);
        const int Rows = 400, F = 6, H = 3;
        double[,] trueW = { { 1, 0, -2 }, { 0.5, 1, 0 }, { 0, 0, 3 }, { -1, 2, 1 }, { 0.25, -0.5, 0 }, { 2, 0, 0 } };
        double[] trueB = [0.3, -1, 2];
        var x = new double[Rows * F];
        var y = new double[Rows * H];
        for (int r = 0; r < Rows; r++)
        {
            for (int k = 0; k < F; k++)
            {
                x[(r * F) + k] = (rng.NextDouble() * 2) - 1;
            }

            for (int h = 0; h < H; h++)
            {
                double s = trueB[h];
                for (int k = 0; k < F; k++)
                {
                    s += x[(r * F) + k] * trueW[k, h];
                }

                y[(r * H) + h] = s;
            }
        }

        var fit = RidgeRegression.Solve(x, y, Rows, F, H);

        Assert.Equal(RidgeRegression.Alphas[0], fit.Alpha);
        for (int k = 0; k < F; k++)
        {
            for (int h = 0; h < H; h++)
            {
                Assert.Equal(trueW[k, h], fit.Weights[(k * H) + h], 2);
            }
        }

        for (int h = 0; h < H; h++)
        {
            Assert.Equal(trueB[h], fit.Bias[h], 2);
        }
    }

    [Fact]
    public void Solve_OnOneTwoOrFiveThreads_TheSameFitBitForBit()
    {
        // Large enough that the Gram matrices are cut into bands of triangle rows on several threads; a tenth of the
        // entries are 0 (the sparse calendar columns skip a row's update).
        var rng = new Random(21);
        const int Rows = 2000, F = 60, H = 4;
        double[] x = [.. Enumerable.Range(0, Rows * F).Select(_ => rng.NextDouble() < 0.1 ? 0 : (rng.NextDouble() * 2) - 1)];
        double[] y = [.. Enumerable.Range(0, Rows * H).Select(i => x[(i / H * F) + (i % H)] - (0.5 * x[(i / H * F) + 7]) + (0.1 * rng.NextDouble()))];

        var one = RidgeRegression.Solve(x, y, Rows, F, H, threads: 1);
        foreach (var threads in new[] { 2, 5 })
        {
            var many = RidgeRegression.Solve(x, y, Rows, F, H, threads);
            Assert.Equal(one.Alpha, many.Alpha);
            Assert.Equal(one.Weights, many.Weights);
            Assert.Equal(one.Bias, many.Bias);
        }

        Assert.Equal(1.0, one.Weights[(0 * H) + 0], 1); // and it is a fit: feature 0 drives step 0
    }

    [Fact]
    public void Solve_PureNoiseTargets_ChoosesALargePenalty()
    {
        var rng = new Random(9);
        const int Rows = 300, F = 20, H = 1;
        double[] x = [.. Enumerable.Range(0, Rows * F).Select(_ => rng.NextDouble())];
        double[] y = [.. Enumerable.Range(0, Rows * H).Select(_ => rng.NextDouble())];

        var fit = RidgeRegression.Solve(x, y, Rows, F, H);

        Assert.True(fit.Alpha >= 0.1, $"alpha {fit.Alpha}");
    }

    [Fact]
    public void Solve_FewerRowsThanFeatures_ThrowsSayingWhy()
    {
        var ex = Assert.Throws<Predictor.Engine.PredictorException>(() => RidgeRegression.Solve(new double[10 * 20], new double[10], 10, 20, 1));
        Assert.Contains("20 features", ex.Message, StringComparison.Ordinal);
    }
}

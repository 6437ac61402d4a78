using Predictor.Engine;
using Predictor.Training.Ssa;

namespace Predictor.Training.Tests.Ssa;

public sealed class SsaModelTests
{
    private static double[] SineAndTrend(int n, double period = 24, double slope = 0.05) =>
        [.. Enumerable.Range(0, n).Select(t => (3 * Math.Sin(2 * Math.PI * t / period)) + (slope * t) + 10)];

    [Fact]
    public void ForecastMap_AppliedToAWindow_MatchesTheStepByStepRecurrentForecast()
    {
        var rng = new Random(7);
        double[] x = [.. SineAndTrend(600).Select(v => v + rng.NextDouble())];
        var model = SsaModel.From(SsaDecomposition.Fit([x], 36), 5);
        const int W = 50, H = 12;
        double[] map = model.ForecastMap(W, H);

        var window = x.AsSpan(x.Length - W);
        double[] reference = model.ForecastRecurrently(window, H);

        for (int h = 0; h < H; h++)
        {
            double viaMap = 0;
            for (int w = 0; w < W; w++)
            {
                viaMap += window[w] * map[(w * H) + h];
            }

            Assert.True(Math.Abs(viaMap - reference[h]) <= 1e-5, $"step {h + 1}: map {viaMap} vs recurrent {reference[h]}");
        }

        // Rows older than L are never read.
        Assert.All(Enumerable.Range(0, (W - 36) * H), i => Assert.Equal(0.0, map[i]));
    }

    [Fact]
    public void Forecast_SinusoidPlusTrend_IsForecastAlmostExactly()
    {
        // sin + linear trend + constant spans a rank-4 subspace (sin, cos, t, 1 — the constant folds into the trend pair).
        double[] x = SineAndTrend(400);
        var model = SsaModel.From(SsaDecomposition.Fit([x[..300]], 48), 4);

        double[] forecast = model.ForecastRecurrently(x.AsSpan(300 - 48, 48), 24);

        for (int h = 0; h < 24; h++)
        {
            Assert.True(Math.Abs(forecast[h] - x[300 + h]) < 1e-6, $"step {h + 1}: {forecast[h]} vs {x[300 + h]}");
        }
    }

    [Fact]
    public void Fit_LagCovarianceByRecurrence_EqualsTheDirectTrajectoryProduct()
    {
        var rng = new Random(3);
        double[] x = [.. Enumerable.Range(0, 40).Select(_ => rng.NextDouble())];
        const int L = 7;
        int k = x.Length - L + 1;
        var direct = new double[L, L];
        for (int i = 0; i < L; i++)
        {
            for (int j = 0; j < L; j++)
            {
                for (int c = 0; c < k; c++)
                {
                    direct[i, j] += x[i + c] * x[j + c];
                }
            }
        }

        var d = SsaDecomposition.Fit([x], L);

        // U·Λ·Uᵀ reconstructs S.
        AssertReconstructs(direct, d, firstComponent: 0, 1e-9);

        Assert.True(d.Eigenvalues.Zip(d.Eigenvalues.Skip(1)).All(p => p.First >= p.Second), "eigenvalues sorted decreasing");
    }

    [Fact]
    public void RankFor_PureSinusoid_NeedsTwoComponents()
    {
        double[] x = [.. Enumerable.Range(0, 500).Select(t => Math.Sin(2 * Math.PI * t / 20))];

        var d = SsaDecomposition.Fit([x], 40);

        Assert.Equal(2, d.RankFor(0.99, 40));
    }

    [Fact]
    public void ForecastMap_WindowShorterThanL_ThrowsSayingWhatToUse()
    {
        var model = SsaModel.From(SsaDecomposition.Fit([SineAndTrend(200)], 30), 4);

        var ex = Assert.Throws<PredictorException>(() => model.ForecastMap(20, 12));
        Assert.Contains("W ≥ L", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_SeriesShorterThanL_Throws()
    {
        Assert.Throws<PredictorException>(() => SsaDecomposition.Fit([new double[10]], 30));
    }

    [Fact]
    public void Fit_SameDataTwice_GivesIdenticalMaps()
    {
        var rng = new Random(11);
        double[] x = [.. SineAndTrend(500).Select(v => v + rng.NextDouble())];

        double[] a = SsaModel.From(SsaDecomposition.Fit([x], 48), 6).ForecastMap(48, 12);
        double[] b = SsaModel.From(SsaDecomposition.Fit([x], 48), 6).ForecastMap(48, 12);

        Assert.Equal(a, b);
    }

    [Fact]
    public void Fit_LagVectorCentring_PutsTheConstantFirstAndDecomposesTheCentredCovariance()
    {
        var rng = new Random(5);
        double[] x = [.. SineAndTrend(300).Select(v => v + rng.NextDouble())];
        const int L = 12;
        int k = x.Length - L + 1;
        var centred = new double[L, L];
        double levelSquares = 0;
        for (int c = 0; c < k; c++)
        {
            double m = x.AsSpan(c, L).ToArray().Average();
            levelSquares += m * m;
            for (int i = 0; i < L; i++)
            {
                for (int j = 0; j < L; j++)
                {
                    centred[i, j] += (x[c + i] - m) * (x[c + j] - m);
                }
            }
        }

        var d = SsaDecomposition.Fit([x], L, SsaCentring.LagVectors);

        // The constant first, with the lag vectors' squared norm along it; every other vector orthogonal to it.
        Assert.All(Enumerable.Range(0, L), r => Assert.Equal(1 / Math.Sqrt(L), d.Eigenvectors[r, 0], 1e-12));
        Assert.Equal(L * levelSquares, d.Eigenvalues[0], 1e-6 * L * levelSquares);
        for (int c = 1; c < L; c++)
        {
            double sum = Enumerable.Range(0, L).Sum(r => d.Eigenvectors[r, c]);
            Assert.True(Math.Abs(sum) < 1e-9, $"vector {c} sums to {sum}");
        }

        // The other pairs reconstruct the covariance of the centred lag vectors.
        AssertReconstructs(centred, d, firstComponent: 1, 1e-8);
    }

    [Fact]
    public void Fit_LagVectorCentring_NoiseFreeSinusoid_StillGivesAnOrthonormalBasisWithTheConstantFirst()
    {
        // Centred, a pure sinusoid spans 2 of L dimensions: S_c has a null space of L − 2, where the decomposition may
        // return any rotation; the constant must still come out as its own vector and the basis stay orthonormal.
        double[] x = [.. Enumerable.Range(0, 300).Select(t => 5 + Math.Sin(2 * Math.PI * t / 24))];
        const int L = 20;

        var d = SsaDecomposition.Fit([x], L, SsaCentring.LagVectors);

        Assert.All(Enumerable.Range(0, L), r => Assert.Equal(1 / Math.Sqrt(L), d.Eigenvectors[r, 0], 1e-12));
        for (int a = 0; a < L; a++)
        {
            for (int b = a; b < L; b++)
            {
                double dot = Enumerable.Range(0, L).Sum(r => d.Eigenvectors[r, a] * d.Eigenvectors[r, b]);
                Assert.True(Math.Abs(dot - (a == b ? 1 : 0)) < 1e-9, $"u{a}·u{b} = {dot}");
            }
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => SsaDecomposition.Fit([x], L, SsaCentring.LevelShift));
    }

    [Fact]
    public void Forecast_LagVectorCentring_SinusoidOnAnotherLevel_IsForecastExactly()
    {
        // Fitted at level 10, applied at level 60: the constant and one sine pair (rank 3) carry any level.
        double[] train = [.. Enumerable.Range(0, 400).Select(t => 10 + (3 * Math.Sin(2 * Math.PI * t / 24)))];
        double[] later = [.. Enumerable.Range(0, 100).Select(t => 60 + (3 * Math.Sin(2 * Math.PI * t / 24)))];
        var model = SsaModel.From(SsaDecomposition.Fit([train], 36, SsaCentring.LagVectors), 3);

        double[] forecast = model.ForecastRecurrently(later.AsSpan(40, 36), 24);

        for (int h = 0; h < 24; h++)
        {
            Assert.True(Math.Abs(forecast[h] - later[76 + h]) < 1e-6, $"step {h + 1}: {forecast[h]} vs {later[76 + h]}");
        }
    }

    /// <summary>Σ_{c ≥ first} λ_c·u_c·u_cᵀ equals <paramref name="expected"/> entry by entry.</summary>
    private static void AssertReconstructs(double[,] expected, SsaDecomposition d, int firstComponent, double tolerance)
    {
        int l = d.WindowLength;
        for (int i = 0; i < l; i++)
        {
            for (int j = 0; j < l; j++)
            {
                double s = 0;
                for (int c = firstComponent; c < l; c++)
                {
                    s += d.Eigenvectors[i, c] * d.Eigenvalues[c] * d.Eigenvectors[j, c];
                }

                Assert.Equal(expected[i, j], s, tolerance);
            }
        }
    }
}

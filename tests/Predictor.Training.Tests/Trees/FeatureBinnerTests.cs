using Predictor.Training.Trees;

namespace Predictor.Training.Tests.Trees;

public sealed class FeatureBinnerTests
{
    [Fact]
    public void BinOf_AnyFloat_BinAtMostBIffValueAtMostThreshold()
    {
        var rng = new Random(3);
        int rows = 5000;
        var features = new float[rows * 2];
        for (int r = 0; r < rows; r++)
        {
            features[2 * r] = (float)(rng.NextDouble() * 100);
            features[(2 * r) + 1] = (float)Math.Round(rng.NextDouble() * 10); // 11 distinct values
        }

        var binner = FeatureBinner.Fit(features, rows, 2, 255);

        Assert.Equal(254, binner.Thresholds[0].Length);
        Assert.Equal(10, binner.Thresholds[1].Length);
        for (int f = 0; f < 2; f++)
        {
            var t = binner.Thresholds[f];
            for (int k = 1; k < t.Length; k++)
            {
                Assert.True(t[k - 1] < t[k]);
            }

            // Probe the thresholds themselves, their float neighbours, and random values.
            var probes = new List<float> { float.NaN, float.NegativeInfinity, float.PositiveInfinity };
            foreach (float c in t)
            {
                probes.AddRange([c, MathF.BitDecrement(c), MathF.BitIncrement(c)]);
            }

            for (int i = 0; i < 2000; i++)
            {
                probes.Add((float)((rng.NextDouble() * 120) - 10));
            }

            foreach (float x in probes)
            {
                int bin = binner.BinOf(f, x);
                for (int b = 0; b < t.Length; b++)
                {
                    Assert.Equal(bin <= b, x <= t[b]);
                }
            }
        }
    }

    [Fact]
    public void Fit_FewDistinctValues_CutsHalfWayBetweenThem()
    {
        float[] features = [1f, 2f, 2f, 4f];

        var binner = FeatureBinner.Fit(features, 4, 1, 255);

        Assert.Equal([1.5f, 3f], binner.Thresholds[0]);
    }

    [Fact]
    public void Fit_HeavyTies_QuantileCutsStayDistinct()
    {
        var features = new float[1000];
        for (int i = 0; i < 1000; i++)
        {
            features[i] = i < 900 ? 0f : i; // 90 % zeros, then 100 distinct values
        }

        var binner = FeatureBinner.Fit(features, 1000, 1, 16);
        var t = binner.Thresholds[0];

        Assert.True(t.Length is > 1 and <= 15);
        Assert.Equal(0, binner.BinOf(0, 0f));
        Assert.NotEqual(binner.BinOf(0, 900f), binner.BinOf(0, 999f));
    }
}

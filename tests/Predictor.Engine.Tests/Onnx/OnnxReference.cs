namespace Predictor.Engine.Tests.Onnx;

/// <summary>C# reference computations of the writer's model kinds, to compare ONNX Runtime's results against.</summary>
internal static class OnnxReference
{
    public static void Naive(ReadOnlySpan<float> window, int n, int w, int h, float[] offsets, Span<float> forecast, Span<float> upper)
    {
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < h; j++)
            {
                forecast[(r * h) + j] = window[(r * w) + w - 1];
                upper[(r * h) + j] = forecast[(r * h) + j] + offsets[j];
            }
        }
    }

    /// <summary>Step j (1-based) reads x(t + j − S·⌈j/S⌉): one season before the step it forecasts.</summary>
    public static void SeasonalNaive(ReadOnlySpan<float> window, int n, int w, int h, int season, float[] offsets, Span<float> forecast, Span<float> upper)
    {
        for (int r = 0; r < n; r++)
        {
            for (int j = 1; j <= h; j++)
            {
                int back = season * ((j + season - 1) / season);
                forecast[(r * h) + j - 1] = window[(r * w) + w - 1 + j - back];
                upper[(r * h) + j - 1] = forecast[(r * h) + j - 1] + offsets[j - 1];
            }
        }
    }

    public static void Linear(
        ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int n, int w, int c, int h, float[] a, float[] b, float[] offsets, Span<float> forecast, Span<float> upper)
    {
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < h; j++)
            {
                double sum = b[j];
                for (int i = 0; i < w; i++)
                {
                    sum += (double)window[(r * w) + i] * a[(i * h) + j];
                }

                for (int i = 0; i < c; i++)
                {
                    sum += (double)calendar[(r * c) + i] * a[((w + i) * h) + j];
                }

                forecast[(r * h) + j] = (float)sum;
                upper[(r * h) + j] = (float)sum + offsets[j];
            }
        }
    }

    public static float MaxAbsDifference(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Assert.Equal(x.Length, y.Length);
        float max = 0;
        for (int i = 0; i < x.Length; i++)
        {
            max = Math.Max(max, Math.Abs(x[i] - y[i]));
        }

        return max;
    }

    public static float[] RandomSeries(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 100)).ToArray();
    }
}

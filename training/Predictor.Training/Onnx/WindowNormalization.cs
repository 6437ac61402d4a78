namespace Predictor.Training.Onnx;

/// <summary>How a linear model normalises each window before its map (inside the graph, so the engine needs nothing).</summary>
public enum WindowNormalization
{
    /// <summary>The map reads the raw window.</summary>
    None = 0,

    /// <summary>Subtract the window mean μ first, add it back after: the forecast follows the series' level.</summary>
    Level = 1,

    /// <summary>Subtract μ and divide by s = std + ε first, undo both after: one model serves any level and scale.</summary>
    LevelAndScale = 2,
}

/// <summary>The C# side of <see cref="WindowNormalization"/>, mirroring the graph operation for operation.</summary>
internal static class WindowNormalizer
{
    /// <summary>ε added to the window's standard deviation (series units), so a flat window gives s = ε, not 0.</summary>
    public const float Epsilon = 1e-6f;

    /// <summary>Computes μ and s of <paramref name="window"/> (s = 1 unless <see cref="WindowNormalization.LevelAndScale"/>).</summary>
    public static (double Mean, double Scale) Measure(ReadOnlySpan<double> window, WindowNormalization mode)
    {
        if (mode == WindowNormalization.None)
        {
            return (0, 1);
        }

        double mean = 0;
        foreach (double v in window)
        {
            mean += v;
        }

        mean /= window.Length;
        if (mode == WindowNormalization.Level)
        {
            return (mean, 1);
        }

        double variance = 0;
        foreach (double v in window)
        {
            variance += (v - mean) * (v - mean);
        }

        return (mean, Math.Sqrt(variance / window.Length) + Epsilon);
    }
}

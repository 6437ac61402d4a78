using Predictor.Engine.Telemetry;

namespace Predictor.Training.Tests.Pipeline;

/// <summary>Seeded synthetic load: a 2-hour cycle (24 steps of 5 min) with a harmonic, a slow drift and noise.</summary>
internal static class SyntheticSeries
{
    public const long Start = 1_700_000_000_000;

    public static RecordedSeries Cyclic(string name, int n, int seed, double level = 50, double amplitude = 20)
    {
        var rng = new Random(seed);
        var ts = new long[n];
        var vs = new double[n];
        for (int t = 0; t < n; t++)
        {
            ts[t] = Start + (t * 300_000L);
            vs[t] = level + (amplitude * Math.Sin(2 * Math.PI * t / 24)) + (0.3 * amplitude * Math.Sin(4 * Math.PI * t / 24)) + (0.002 * t) + (rng.NextDouble() * 2) - 1;
        }

        return new RecordedSeries(new SeriesInfo(name, "percent", TimeSpan.FromSeconds(300)), ts, vs);
    }
}

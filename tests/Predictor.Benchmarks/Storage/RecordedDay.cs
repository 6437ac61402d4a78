using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Benchmarks.Storage;

/// <summary>A day of 100 ms ticks as <c>predictor collect</c> records it, for benchmarks that read a recording back.</summary>
internal static class RecordedDay
{
    /// <summary>Midnight UTC of the recorded day.</summary>
    public const long Start = 1_795_000_000_000 / 86_400_000 * 86_400_000;

    /// <summary>Ticks in the day: 864,000.</summary>
    public const int Ticks = 864_000;

    /// <summary>Writes the day for each of <paramref name="names"/>: a daily wave with noise, rounded as /proc's counters are (two decimals of a percentage).</summary>
    public static void Write(TimeSeriesStore store, IReadOnlyList<string> names)
    {
        var t = new long[Ticks];
        var v = new double[Ticks];
        for (var s = 0; s < names.Count; s++)
        {
            var rng = new Random(s);
            for (var k = 0; k < Ticks; k++)
            {
                t[k] = Start + (k * 100L);
                v[k] = Math.Round(40 + (30 * Math.Sin(2 * Math.PI * k / Ticks)) + (5 * rng.NextDouble()), 2);
            }

            var id = store.Register(new SeriesInfo(names[s], "percent", TimeSpan.FromMilliseconds(100)));
            store.AppendAsync(id, t, v).AsTask().GetAwaiter().GetResult();
        }

        store.FlushAsync().GetAwaiter().GetResult();
    }
}

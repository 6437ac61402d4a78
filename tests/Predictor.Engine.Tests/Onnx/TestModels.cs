using System.Text;
using Predictor.Training.Onnx;

namespace Predictor.Engine.Tests.Onnx;

/// <summary>
/// Fixture models written by the project's ONNX writer (training/Predictor.Training/Onnx) into a temporary folder,
/// plus byte-level variants that break the contract: a same-length rename inside the serialized protobuf (e.g.
/// "window" → "wind0w") keeps the file valid ONNX while changing one name or card value.
/// </summary>
internal sealed class TestModels : IDisposable
{
    public TestModels()
    {
        Directory = Path.Combine(Path.GetTempPath(), "predictor-onnx-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public static ModelCard Card(string kind, int window, int horizon) => new()
    {
        Kind = kind,
        Window = window,
        Horizon = horizon,
        StepSeconds = 10,
        Quantile = 0.9,
        Series = ["cpu.user"],
    };

    public static float[] Offsets(int horizon) => Enumerable.Range(1, horizon).Select(h => 0.25f * h).ToArray();

    public static byte[] Naive(int window, int horizon) => ForecastModels.Naive(Card(ForecastModels.NaiveKind, window, horizon), Offsets(horizon));

    public static byte[] SeasonalNaive(int window, int horizon, int season)
        => ForecastModels.SeasonalNaive(Card(ForecastModels.SeasonalNaiveKind, window, horizon), season, Offsets(horizon));

    /// <summary>A linear model with reproducible pseudo-random weights; returns the weights and bias used.</summary>
    public static byte[] Linear(int window, int horizon, bool withCalendar, out float[] weights, out float[] bias, int seed = 7)
    {
        int features = window + (withCalendar ? Predictor.Engine.Forecasting.CalendarFeatures.Width : 0);
        var random = new Random(seed);
        weights = Enumerable.Range(0, features * horizon).Select(_ => (float)((random.NextDouble() - 0.5) * 0.2)).ToArray();
        bias = Enumerable.Range(0, horizon).Select(_ => (float)(random.NextDouble() * 3)).ToArray();
        return ForecastModels.Linear(Card(ForecastModels.LinearKind, window, horizon), weights, bias, withCalendar, Offsets(horizon));
    }

    public string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Replaces every occurrence of <paramref name="from"/> by <paramref name="to"/> (same UTF-8 length).</summary>
    public static byte[] Rename(byte[] model, string from, string to)
    {
        byte[] a = Encoding.UTF8.GetBytes(from);
        byte[] b = Encoding.UTF8.GetBytes(to);
        if (a.Length != b.Length)
        {
            throw new ArgumentException("A rename must keep the length, or the protobuf's length prefixes break.");
        }

        var result = (byte[])model.Clone();
        int found = 0;
        for (int i = 0; i + a.Length <= result.Length; i++)
        {
            if (result.AsSpan(i, a.Length).SequenceEqual(a))
            {
                b.CopyTo(result, i);
                found++;
            }
        }

        return found > 0 ? result : throw new ArgumentException($"'{from}' does not occur in the model.");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

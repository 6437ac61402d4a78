using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;
using Predictor.Training.Data;

namespace Predictor.Benchmarks.Trees;

/// <summary>A NAB trace read as `predictor train` reads it: the engine's importer, then training's grid preparation.</summary>
internal static class NabTrace
{
    public static (double[] Values, long[] Stamps) Read(string relative, int maxPoints)
    {
        string path = Path.Combine(RepoPaths.SharedDatasets, "nab", "data", relative);
        var prepared = PreparedSeries.From(TraceImporter.Import(TraceFormat.Nab, path).Series[0], minLength: 1);
        int n = Math.Min(maxPoints, prepared.Values.Length);
        return (prepared.Values[..n], prepared.Timestamps[..n]);
    }
}

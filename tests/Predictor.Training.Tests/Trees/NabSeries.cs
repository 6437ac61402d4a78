using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;
using Predictor.Training.Data;

namespace Predictor.Training.Tests.Trees;

/// <summary>
/// The three seasonal NAB traces these tests use, read through the engine's importer and training's grid preparation.
/// </summary>
internal static class NabSeries
{
    public const string Asg = "realKnownCause/cpu_utilization_asg_misconfiguration.csv";
    public const string RdsCc0c53 = "realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv";
    public const string RdsE47b3b = "realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv";

    /// <summary>
    /// <see cref="RepoPaths.SharedDatasets"/> (beside the repository root), or, in a git worktree nested deeper than
    /// the main checkout, the nearest <c>shared/datasets</c> above the root.
    /// </summary>
    public static string DatasetsRoot()
    {
        if (Directory.Exists(RepoPaths.SharedDatasets))
        {
            return RepoPaths.SharedDatasets;
        }

        for (var dir = new DirectoryInfo(RepoPaths.Root).Parent; dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "datasets");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return RepoPaths.SharedDatasets;
    }

    /// <summary>
    /// Reads a NAB trace with the engine's importer and puts it on its 5-minute grid the way training does
    /// (<see cref="PreparedSeries.From"/>: gaps filled by linear interpolation), so these tests see exactly what
    /// `predictor train` sees. <paramref name="maxPoints"/> keeps the first points only.
    /// </summary>
    public static (double[] Values, long[] Timestamps) Read(string relative, int maxPoints = int.MaxValue)
    {
        string path = Path.Combine(DatasetsRoot(), "nab", "data", relative);
        var series = Assert.Single(TraceImporter.Import(TraceFormat.Nab, path).Series);
        var prepared = PreparedSeries.From(series, minLength: 1);
        int n = Math.Min(maxPoints, prepared.Values.Length);
        return (prepared.Values[..n], prepared.Timestamps[..n]);
    }
}

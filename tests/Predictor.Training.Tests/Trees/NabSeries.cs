using System.Globalization;
using Predictor.TestSupport;

namespace Predictor.Training.Tests.Trees;

/// <summary>
/// A tiny reader of NAB's <c>timestamp,value</c> CSV (UTC, <c>yyyy-MM-dd HH:mm:ss</c>) for these tests, until the
/// telemetry importers land: values on a regular grid from the first timestamp, gaps filled by linear interpolation.
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

    public static (double[] Values, long[] Timestamps) Read(string relative, int stepSeconds = 300, int maxPoints = int.MaxValue)
    {
        string path = Path.Combine(DatasetsRoot(), "nab", "data", relative);
        var times = new List<long>();
        var values = new List<double>();
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            int comma = line.IndexOf(',', StringComparison.Ordinal);
            var t = DateTime.ParseExact(line[..comma], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            times.Add(new DateTimeOffset(t, TimeSpan.Zero).ToUnixTimeMilliseconds());
            values.Add(double.Parse(line[(comma + 1)..], CultureInfo.InvariantCulture));
        }

        long step = stepSeconds * 1000L;
        long first = times[0];
        int n = (int)Math.Min(maxPoints, ((times[^1] - first) / step) + 1);
        var grid = new double[n];
        var stamps = new long[n];
        int j = 0;
        for (int i = 0; i < n; i++)
        {
            long t = first + (i * step);
            stamps[i] = t;
            while (j + 1 < times.Count && times[j + 1] <= t)
            {
                j++;
            }

            if (times[j] == t || j + 1 >= times.Count)
            {
                grid[i] = values[j];
            }
            else
            {
                double w = (t - times[j]) / (double)(times[j + 1] - times[j]);
                grid[i] = values[j] + (w * (values[j + 1] - values[j]));
            }
        }

        return (grid, stamps);
    }
}

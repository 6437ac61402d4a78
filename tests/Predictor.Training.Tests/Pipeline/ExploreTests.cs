using Predictor.TestSupport;
using Predictor.Training.Data;
using Predictor.Training.Pipeline;
using Xunit.Abstractions;

namespace Predictor.Training.Tests.Pipeline;

public sealed class ExploreTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("nab", "nab/data/realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv")]
    [InlineData("nab", "nab/data/realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv")]
    [InlineData("nab", "nab/data/realKnownCause/cpu_utilization_asg_misconfiguration.csv")]
    public void Explore(string format, string file)
    {
        var series = InterimDatasetLoader.Load(format, Path.Combine(RepoPaths.SharedDatasets, file));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var result = ModelTrainer.Train(series, new TrainingOptions(), new SyncProgress(p => output.WriteLine($"   stage {p.Stage} at {sw.ElapsedMilliseconds} ms")));
        output.WriteLine($"{file}: {sw.ElapsedMilliseconds} ms selected {result.SelectedKind}");
        foreach (var s in result.Series)
        {
            foreach (var m in s.Scores)
            {
                output.WriteLine($"  {m.Model,-16} {m.Role,-9} val {m.ValidationMase:F3} test MASE {m.Test.Mase:F3} @H {m.Test.MaseAtHorizon:F3} cov {m.Test.Coverage:F3} MAE {m.Test.Mae:F3}");
            }
        }

    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

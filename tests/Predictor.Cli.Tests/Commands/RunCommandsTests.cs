using System.Globalization;
using Predictor.Engine.Storage;

namespace Predictor.Cli.Tests.Commands;

[Collection(LiveLoopCollection.Name)]
public sealed class RunCommandsTests
{
    [Fact]
    public void Run_SimulatedForASecond_TicksAndPrintsTheSummary()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.Run(["run", "--backend", "simulated", "--duration", "1s", "--tick", "50ms", "--policy", "threshold"], output, error);
        Assert.True(code == 0, error.ToString());
        var text = output.ToString();
        var summary = Assert.Single(text.Split('\n'), l => l.StartsWith("ran ", StringComparison.Ordinal));
        var ticks = int.Parse(summary.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        // The duration ends the run: at 50 ms a second holds 20 ticks (the bound leaves room for a late stop).
        Assert.InRange(ticks, 1, 40);
        Assert.Contains("memory[user=", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DryRun_LogsWhatItWouldDo()
    {
        var output = new StringWriter();
        var code = Program.Run(["run", "--backend", "dry-run", "--ticks", "3", "--tick", "50ms", "--policy", "threshold"], output, new StringWriter());
        Assert.Equal(0, code);
        Assert.Contains("dry-run: would set memory", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Ticks_StopsAfterThatManyTicksWithoutADuration()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.Run(["run", "--backend", "simulated", "--ticks", "4", "--tick", "20ms", "--policy", "threshold"], output, error);
        Assert.True(code == 0, error.ToString());
        var summary = Assert.Single(output.ToString().Split('\n'), l => l.StartsWith("ran ", StringComparison.Ordinal));
        Assert.InRange(int.Parse(summary.Split(' ')[1], CultureInfo.InvariantCulture), 4, 5);
    }

    [Theory]
    [InlineData("0", "--ticks '0' must be a whole number of ticks, 1 or more")]
    [InlineData("-3", "--ticks '-3' must be a whole number of ticks, 1 or more")]
    [InlineData("many", "'many'")]
    public void Run_BadTicks_RefusedBeforeTheLoopStarts(string value, string expected)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.Run(["run", "--ticks", value], output, error);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("ran ", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_BadDuration_OneLineErrorNamingTheOption()
    {
        var error = new StringWriter();
        var code = Program.Run(["run", "--duration", "soon"], new StringWriter(), error);
        Assert.Equal(1, code);
        Assert.Contains("--duration 'soon' is not a duration", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WithStore_RecordsTheCollectorsSeriesAndTheDecisionLog()
    {
        var dir = Directory.CreateTempSubdirectory("predictor-run-").FullName;
        try
        {
            var path = Path.Combine(dir, "run.db");
            var output = new StringWriter();
            var error = new StringWriter();
            var code = Program.Run(["run", "--backend", "dry-run", "--ticks", "5", "--tick", "50ms", "--policy", "threshold", "--store", path], output, error);
            Assert.True(code == 0, error.ToString());
            var lines = output.ToString().Split('\n');
            var ticks = long.Parse(Assert.Single(lines, l => l.StartsWith("ran ", StringComparison.Ordinal)).Split(' ')[1], CultureInfo.InvariantCulture);
            Assert.Single(lines, l => l.StartsWith("store ", StringComparison.Ordinal) && l.Contains("0 samples and 0 records dropped", StringComparison.Ordinal));
            Assert.InRange(ticks, 5, 6); // --ticks is polled, so one more tick may start before the stop

            using var store = TimeSeriesStore.Open(path);
            Assert.Equal("ok", store.CheckIntegrity());
            var names = store.ListSeries().Select(x => x.Info.Name).ToHashSet(StringComparer.Ordinal);
            Assert.Superset(new HashSet<string>(["host/cpu/user", "host/cpu/busy", "host/core/0/busy", "host/mem/used", "host/mem/anon", "host/mem/kernel"]), names);

            // Memory is read every tick (a late tick can share its millisecond with the next, and the store keeps one
            // sample per timestamp: at most two ticks a sample).
            var total = store.ReadRange("host/mem/total", long.MinValue, long.MaxValue);
            Assert.InRange(total.Count, (ticks + 1) / 2, ticks);
            var busy = store.ReadRange("host/cpu/busy", long.MinValue, long.MaxValue);
            Assert.True(busy.Count > 0, $"no host/cpu/busy sample in {ticks} ticks ({total.Count} of host/mem/total)");
            Assert.All(busy.Values, v => Assert.InRange(v, 0, 100));

            var decisions = store.ReadDecisions(long.MinValue, long.MaxValue);
            Assert.Contains(decisions, d => d.Action == "hold" && d.Reason.Contains("missing data: host/cpu/user", StringComparison.Ordinal));
            Assert.All(decisions, d => Assert.Contains(d.Subject, new[] { "partition/memory", "partition/cpu" }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Run_BadModule_OneLineErrorSayingTheShape()
    {
        var error = new StringWriter();
        var code = Program.Run(["run", "--duration", "100ms", "--module", "web"], new StringWriter(), error);
        Assert.Equal(1, code);
        Assert.Contains("--module 'web' is not NAME=PID", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_CgroupDemandWithoutLinuxBackend_OneLineErrorNamingTheOption()
    {
        var error = new StringWriter();
        var code = Program.Run(["run", "--duration", "100ms", "--partition-demand", "cgroups"], new StringWriter(), error);
        Assert.Equal(1, code);
        Assert.Contains("Predictor:PartitionDemand = Cgroups needs Predictor:Backend = Linux", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().Trim().Split('\n'));
    }
}

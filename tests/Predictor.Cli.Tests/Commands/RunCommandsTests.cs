namespace Predictor.Cli.Tests.Commands;

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
        Assert.InRange(ticks, 2, 40);
        Assert.Contains("memory[user=", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DryRun_LogsWhatItWouldDo()
    {
        var output = new StringWriter();
        var code = Program.Run(["run", "--backend", "dry-run", "--duration", "600ms", "--tick", "50ms", "--policy", "threshold"], output, new StringWriter());
        Assert.Equal(0, code);
        Assert.Contains("dry-run: would set memory", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_BadDuration_OneLineErrorNamingTheOption()
    {
        var error = new StringWriter();
        var code = Program.Run(["run", "--duration", "soon"], new StringWriter(), error);
        Assert.Equal(1, code);
        Assert.Contains("--duration 'soon' is not a duration", error.ToString(), StringComparison.Ordinal);
    }
}

namespace Predictor.Cli.Tests.Commands;

public sealed class DoctorCommandsTests
{
    [Fact]
    public void Doctor_ThisHost_PrintsOneLinePerCheckAndTheLinuxVerdict()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.Run(["doctor"], output, error);
        Assert.Equal(0, code);
        var text = output.ToString();
        Assert.Matches(@"(?m)^(ok |no )  root\s", text);
        Assert.Matches(@"(?m)^(ok |no )  cgroup v1 memory\s", text);
        Assert.Matches(@"(?m)^(ok |no )  ONNX Runtime\s", text);
        Assert.Matches(@"(?m)^backend linux: (available|not available)", text);
        Assert.Equal(string.Empty, error.ToString());
    }
}

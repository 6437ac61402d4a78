namespace Predictor.Cli.Tests;

/// <summary>Runs one <c>predictor</c> command line in this process, as <c>Main</c> would, and returns what it wrote.</summary>
internal static class CliRun
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}

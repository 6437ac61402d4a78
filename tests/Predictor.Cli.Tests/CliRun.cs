using System.Diagnostics;

namespace Predictor.Cli.Tests;

/// <summary>Runs one <c>predictor</c> command line, in this process as <c>Main</c> would, or in a child process.</summary>
internal static class CliRun
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Runs the built <c>predictor</c> in a child process with <paramref name="environment"/> added to this process's
    /// environment (what a unit file's <c>Environment=</c> does), and waits up to two minutes for it to exit.
    /// </summary>
    public static (int Code, string Out, string Err) RunChild(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        using var child = Process.Start(psi)!;
        var output = child.StandardOutput.ReadToEndAsync();
        var error = child.StandardError.ReadToEndAsync();
        if (!child.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            child.Kill(entireProcessTree: true);
            Assert.Fail($"predictor {string.Join(' ', args)} still running after 2 min: {output.Result}{error.Result}");
        }

        return (child.ExitCode, output.Result, error.Result);
    }
}

using System.CommandLine;
using Predictor.Engine;

namespace Predictor.Cli;

/// <summary>The <c>predictor</c> command line. Every command has <c>--help</c>; errors print one line and exit non-zero.</summary>
internal static class Program
{
    /// <summary>Exit code for an error the user can fix (bad input, missing file, model that does not fit).</summary>
    public const int UserError = 1;

    /// <summary>Exit code for an unexpected failure (a bug, or the host refused something).</summary>
    public const int InternalError = 2;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs one command line with the given writers; tests call this directly.</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = CommandCatalog.Build();
        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,

            // The commands that run until stopped (run, collect) handle SIGINT and SIGTERM themselves, so that the store is
            // flushed and cgroups are removed before the exit. System.CommandLine's own handler would race them: on a
            // loaded machine it ran after the command had returned and cancelled a disposed token (exit 134).
            ProcessTerminationTimeout = null,
        };

        try
        {
            return root.Parse(args).Invoke(configuration);
        }
        catch (Exception ex) when (ex is PredictorException or IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            error.WriteLine($"predictor: error: {OneLine(ex.Message)}");
            WriteDetailIfAsked(ex, error);
            return UserError;
        }
        catch (Exception ex)
        {
            error.WriteLine($"predictor: internal error ({ex.GetType().Name}): {OneLine(ex.Message)} (set PREDICTOR_DEBUG=1 for the stack trace)");
            WriteDetailIfAsked(ex, error);
            return InternalError;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    private static void WriteDetailIfAsked(Exception ex, TextWriter error)
    {
        if (Environment.GetEnvironmentVariable("PREDICTOR_DEBUG") is "1" or "true")
        {
            error.WriteLine(ex.ToString());
        }
    }
}

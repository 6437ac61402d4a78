using System.CommandLine;

namespace Predictor.Cli;

/// <summary>
/// The command tree. Each area lives in its own file under Commands/ and contributes one <see cref="Command"/>;
/// this is the only place that lists them.
/// </summary>
internal static class CommandCatalog
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Predictor: predictive load balancing. Learns how demand moves, resizes the user/system partitions and " +
            "migrates modules ahead of it, and replays recorded telemetry to judge policies.");

        // One line per command area, in the order `predictor --help` lists them.
        root.Subcommands.Add(Commands.ModelsCommands.Build());
        root.Subcommands.Add(Commands.ModulesCommands.Build());
        foreach (var c in Commands.TelemetryCommands.Build()) { root.Subcommands.Add(c); }
        root.Subcommands.Add(Commands.RunCommands.Build());
        root.Subcommands.Add(Commands.DoctorCommands.Build());
        root.Subcommands.Add(Commands.ReplayCommands.Build());
        return root;
    }
}

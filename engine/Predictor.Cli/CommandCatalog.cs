using System.CommandLine;

namespace Predictor.Cli;

/// <summary>
/// The command tree. Each area lives in its own file under Commands/ and contributes its commands; this is the only
/// place that lists them, in the order a user meets them: record, train, inspect, replay, run, modules.
/// </summary>
internal static class CommandCatalog
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Predictor: predictive load balancing. Learns how demand moves, resizes the user/system partitions and " +
            "migrates modules ahead of it, and replays recorded telemetry to judge policies.");

        IEnumerable<Command> commands =
        [
            .. Commands.TelemetryCommands.Build(),      // collect, import, series
            .. Commands.TrainCommands.Build(),          // train, evaluate
            Commands.ModelsCommands.Build(),            // models inspect | write-baseline
            Commands.ReplayCommands.Build(),            // replay
            Commands.RunCommands.Build(),               // run
            Commands.DoctorCommands.Build(),            // doctor
            Commands.ModulesCommands.Build(),           // modules keygen | sign | verify | install | list | rollback | log
        ];
        foreach (var command in commands)
        {
            root.Subcommands.Add(command);
        }

        return root;
    }
}

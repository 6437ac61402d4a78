using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Predictor.Engine;
using Predictor.Hosting;

namespace Predictor.Cli.Commands;

/// <summary><c>predictor run</c>: the control loop live on this machine, in a host, until the duration ends or Ctrl+C.</summary>
internal static class RunCommands
{
    public static Command Build()
    {
        var backend = new Option<string>("--backend")
        {
            Description = "dry-run (log only), simulated (an in-memory machine fed with this host's demand) or linux (cgroup v1 partitions; root).",
            DefaultValueFactory = _ => "dry-run",
        };
        backend.AcceptOnlyFromAmong("dry-run", "simulated", "linux");
        var duration = new Option<string?>("--duration") { Description = "How long to run, e.g. 30s, 5m, 500ms; without it, until Ctrl+C." };
        var policy = new Option<string>("--policy")
        {
            Description = "Partition policy: predictive, threshold (the seed's), vpa or autopilot.",
            DefaultValueFactory = _ => "predictive",
        };
        policy.AcceptOnlyFromAmong("predictive", "threshold", "vpa", "autopilot");
        var tick = new Option<string>("--tick") { Description = "Tick interval, e.g. 100ms.", DefaultValueFactory = _ => "100ms" };
        var models = new Option<string[]>("--model") { Description = "ONNX model file(s) to load; none uses the default forecaster.", AllowMultipleArgumentsPerToken = true };

        var run = new Command(
            "run",
            "Run the control loop live on this machine: read the host's memory and CPU use every tick, forecast, size the " +
            "user/system partitions and hand the decisions to the backend. Prints each decision that changes something " +
            "and a summary at the end.");
        run.Options.Add(backend);
        run.Options.Add(duration);
        run.Options.Add(policy);
        run.Options.Add(tick);
        run.Options.Add(models);
        run.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var length = parseResult.GetValue(duration) is { } d ? ParseDuration(d, "--duration") : (TimeSpan?)null;
            var interval = ParseDuration(parseResult.GetValue(tick)!, "--tick");
            var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddSingleton(new PredictorConsole(output));
            builder.Services.AddPredictor(o =>
            {
                o.TickInterval = interval;
                o.Backend = parseResult.GetValue(backend) switch
                {
                    "simulated" => BackendKind.Simulated,
                    "linux" => BackendKind.Linux,
                    _ => BackendKind.DryRun,
                };
                o.Policy = parseResult.GetValue(policy) switch
                {
                    "threshold" => PolicyKind.Threshold,
                    "vpa" => PolicyKind.VpaStyle,
                    "autopilot" => PolicyKind.AutopilotStyle,
                    _ => PolicyKind.Predictive,
                };
                foreach (var m in parseResult.GetValue(models) ?? [])
                {
                    o.ModelPaths.Add(m);
                }
            });
            using var host = builder.Build();
            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                host.StartAsync().GetAwaiter().GetResult();
                try
                {
                    Task.Delay(length ?? Timeout.InfiniteTimeSpan, stop.Token).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                }

                host.StopAsync().GetAwaiter().GetResult();
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }

            var loop = host.Services.GetRequiredService<PredictorService>().Loop!;
            var last = loop.LastDecision;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ran {loop.Ticks} ticks; last decision: memory[{last[Engine.Partitioning.ResourceKind.Memory]}] cpu[{last[Engine.Partitioning.ResourceKind.Cpu]}]{(last.Held ? $" (held: {last.Detail})" : string.Empty)}"));
            return 0;
        });
        return run;
    }

    /// <summary>Parses 500ms, 30s, 5m, 2h or a TimeSpan (00:00:30).</summary>
    internal static TimeSpan ParseDuration(string text, string option)
    {
        var t = text.Trim();
        (string suffix, double unitMs)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (suffix, unitMs) in units)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal) &&
                double.TryParse(t[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
            {
                return TimeSpan.FromMilliseconds(n * unitMs);
            }
        }

        return TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero
            ? span
            : throw new PredictorException($"{option} '{text}' is not a duration: use e.g. 500ms, 30s, 5m, 2h or 00:00:30.");
    }
}

using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Predictor.Engine;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry.Collectors;
using Predictor.Hosting;

namespace Predictor.Cli.Commands;

/// <summary><c>predictor run</c>: the control loop live on this machine, in a host, until the duration or tick count ends, Ctrl+C or SIGTERM.</summary>
internal static class RunCommands
{
    public static Command Build()
    {
        var backend = new Option<string>("--backend")
        {
            Description = "dry-run (log only), simulated (an in-memory machine fed with this host's demand) or linux (cgroup partitions, v1 or v2; root).",
            DefaultValueFactory = _ => "dry-run",
        };
        backend.AcceptOnlyFromAmong("dry-run", "simulated", "linux");
        var duration = new Option<string?>("--duration") { Description = "How long to run, e.g. 30s, 5m, 500ms; without it, until Ctrl+C or SIGTERM (or --ticks)." };
        var ticks = TickCountOption("Stop once the loop has run this many ticks (whichever of --duration and --ticks comes first).");
        var policy = new Option<string>("--policy")
        {
            Description = "Partition policy: predictive, threshold (the seed's), vpa or autopilot.",
            DefaultValueFactory = _ => "predictive",
        };
        policy.AcceptOnlyFromAmong("predictive", "threshold", "vpa", "autopilot");
        var tick = new Option<string>("--tick") { Description = "Tick interval, e.g. 100ms.", DefaultValueFactory = _ => "100ms" };
        var models = new Option<string[]>("--model") { Description = "ONNX model file(s) to load; none uses the default forecaster.", AllowMultipleArgumentsPerToken = true };
        var store = new Option<string?>("--store")
        {
            Description = "SQLite store file (created if missing): every collected series each tick and the decision log are recorded; flushed on stop. " +
                          "At the start each model's window is filled from what it recorded, so a restart forecasts at once.",
        };
        var retention = new Option<string?>("--retention")
        {
            Description = "With --store: delete what the store recorded more than this long ago (e.g. 14d), before the first tick and then every hour " +
                          "(every quarter of the retention when that is shorter). " +
                          "Without it everything is kept (a 100 ms recording of this host grows by about 120 MB a day).",
        };
        var modules = new Option<string[]>("--module") { Description = "A module process to watch and place on this host's cores: NAME=PID (repeatable)." };
        var demand = new Option<string>("--partition-demand")
        {
            Description = "What the partition policies size by: host (/proc: anon and kernel memory, user and system CPU) or cgroups (the linux backend's own partitions).",
            DefaultValueFactory = _ => "host",
        };
        demand.AcceptOnlyFromAmong("host", "cgroups");
        var cgroupName = new Option<string>("--cgroup-name")
        {
            Description = "Name of the partitions' parent cgroup in each hierarchy (linux backend); one path segment.",
            DefaultValueFactory = _ => "predictor",
        };
        var config = new Option<string?>("--config")
        {
            Description = "A JSON file whose \"Predictor\" section holds the loop's options, as AddPredictor binds them (every option, " +
                          "e.g. InferenceEveryTicks, CpuBudgetMillicores); environment variables Predictor__<Option> override the file, and " +
                          "options given on this command line override both. " +
                          "Relative paths in the file are relative to the file.",
        };

        var run = new Command(
            "run",
            "Run the control loop live on this machine: read the telemetry collectors (/proc/stat, /proc/meminfo, " +
            "/proc/pressure, module processes, the partitions' cgroups) every tick, forecast, size the user/system partitions, " +
            "place modules and hand the decisions to the backend; with --store, record every series and decision. Prints each " +
            "decision that changes something and a summary at the end.");
        run.Options.Add(backend);
        run.Options.Add(duration);
        run.Options.Add(ticks);
        run.Options.Add(policy);
        run.Options.Add(tick);
        run.Options.Add(models);
        run.Options.Add(store);
        run.Options.Add(retention);
        run.Options.Add(modules);
        run.Options.Add(demand);
        run.Options.Add(cgroupName);
        run.Options.Add(config);
        run.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var length = parseResult.GetValue(duration) is { } d ? Durations.Parse(d, "--duration", Durations.LongestWait) : (TimeSpan?)null;
            var interval = Durations.Parse(parseResult.GetValue(tick)!, "--tick", Durations.LongestWait);
            var maxTicks = parseResult.GetValue(ticks);
            var watched = (parseResult.GetValue(modules) ?? []).Select(ParseModule).ToList();
            var storePath = parseResult.GetValue(store);
            var keep = parseResult.GetValue(retention) is { } r ? Durations.Parse(r, "--retention") : (TimeSpan?)null;
            var started = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            var configPath = parseResult.GetValue(config);
            var file = configPath is null ? null : ConfigFile.Read(configPath);
            var environment = ConfigFile.FromEnvironment(Environment.GetEnvironmentVariables());

            // The file, then the environment (Predictor__*), then the options given on this command line. An option left
            // out of the command line does not apply its default: the defaults shown in --help are PredictorOptions' own,
            // so with no file and no environment the result is the same.
            bool Applies(Option option) => parseResult.GetResult(option) is { Implicit: false };
            void FromCommandLine(PredictorOptions o)
            {
                if (Applies(tick))
                {
                    o.TickInterval = interval;
                }

                if (Applies(backend))
                {
                    o.Backend = parseResult.GetValue(backend) switch
                    {
                        "simulated" => BackendKind.Simulated,
                        "linux" => BackendKind.Linux,
                        _ => BackendKind.DryRun,
                    };
                }

                if (Applies(policy))
                {
                    o.Policy = parseResult.GetValue(policy) switch
                    {
                        "threshold" => PolicyKind.Threshold,
                        "vpa" => PolicyKind.VpaStyle,
                        "autopilot" => PolicyKind.AutopilotStyle,
                        _ => PolicyKind.Predictive,
                    };
                }

                if (Applies(models))
                {
                    o.ModelPaths.Clear();
                    foreach (var m in parseResult.GetValue(models) ?? [])
                    {
                        o.ModelPaths.Add(m);
                    }
                }

                if (Applies(modules))
                {
                    o.Modules.Clear();
                    foreach (var m in watched)
                    {
                        o.Modules.Add(m);
                    }
                }

                if (Applies(store))
                {
                    o.StorePath = storePath;
                }

                if (Applies(retention))
                {
                    o.StoreRetention = keep;
                }

                if (Applies(demand))
                {
                    o.PartitionDemand = parseResult.GetValue(demand) == "cgroups" ? PartitionDemand.Cgroups : PartitionDemand.Host;
                }

                if (Applies(cgroupName))
                {
                    o.CgroupName = parseResult.GetValue(cgroupName)!;
                }
            }

            var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddSingleton(new PredictorConsole(output));
            builder.Services.AddPredictor(ConfigFile.Compose(file, environment), FromCommandLine);

            using var host = builder.Build();
            var sources = Sources(file, environment);
            var options = EffectiveOptions(host, sources);
            output.WriteLine(Describe(options, sources));
            // Ctrl+C (SIGINT) and SIGTERM (systemctl stop, docker stop, kill) end the run the same way: the host stops, the
            // store is flushed and the Linux backend removes its cgroups. Cancelling the signal keeps the runtime from
            // exiting before that.
            using var stop = new CancellationTokenSource();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                host.StartAsync().GetAwaiter().GetResult();
            }
            catch (OptionsValidationException ex)
            {
                throw new PredictorException(string.Join(" ", ex.Failures));
            }

            foreach (var warning in host.Services.GetRequiredService<PredictorService>().RetentionWarnings)
            {
                output.WriteLine($"retention: {warning}");
            }

            if (host.Services.GetRequiredService<PredictorService>().WarmStartProblem is { } problem)
            {
                output.WriteLine($"warm start: the store's history could not be read ({problem}); the windows fill live");
            }

            foreach (var (model, filled, window) in host.Services.GetRequiredService<PredictorService>().WarmedSteps)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"warm start: {model}: {filled} of {window} window steps from the store{(filled == window ? "; forecasts from the first inference" : filled == 0 ? " (nothing recent recorded for its series; the window fills live)" : "; the rest fills live")}"));
            }

            WaitForTheEnd(host.Services.GetRequiredService<PredictorService>().Loop!, length, maxTicks, options.TickInterval, stop.Token);

            host.StopAsync().GetAwaiter().GetResult();

            var service = host.Services.GetRequiredService<PredictorService>();
            var loop = service.Loop!;
            var last = loop.LastDecision;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ran {loop.Ticks} ticks; last decision: memory[{last[Engine.Partitioning.ResourceKind.Memory]}] cpu[{last[Engine.Partitioning.ResourceKind.Cpu]}]{(last.Held ? $" (held: {last.Detail})" : string.Empty)}"));
            if (options.StorePath is { } recordedTo)
            {
                // Read back from the file after the stop closed it: what is printed is what was committed.
                using var recorded = TimeSeriesStore.Open(recordedTo);
                var decisions = recorded.ReadDecisions(started, long.MaxValue).Count;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"store {recorded.Path}: {recorded.ListSeries().Count} series, {decisions} decision-log records from this run committed; {service.StoreDroppedSamples} samples and {service.StoreDroppedDecisions} records dropped (queue full){(options.StoreRetention is { } kept ? $"; {service.RetentionDeletedChunks} chunks older than {Durations.Format(kept)} deleted" : string.Empty)}"));
            }

            return 0;
        });
        return run;
    }

    /// <summary>Where the options came from besides the defaults and the command line: "--config FILE", "environment Predictor__X, ..."; null for neither.</summary>
    private static string? Sources(ConfigFile? file, IReadOnlyList<KeyValuePair<string, string?>> environment)
    {
        var parts = new List<string>();
        if (file is not null)
        {
            parts.Add($"--config {file.Path}");
        }

        if (environment.Count > 0)
        {
            parts.Add($"environment {string.Join(", ", environment.Select(e => e.Key))}");
        }

        return parts.Count == 0 ? null : string.Join(" and ", parts);
    }

    /// <summary>
    /// The options the host will run with (the file's, the environment's, then the command line's), resolved before the
    /// start so that a bad value fails here with one line: a key the binder cannot use names where it came from; a value
    /// out of range gets the validator's message.
    /// </summary>
    private static PredictorOptions EffectiveOptions(IHost host, string? sources)
    {
        try
        {
            return host.Services.GetRequiredService<IOptions<PredictorOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            throw new PredictorException(string.Join(" ", ex.Failures));
        }
        catch (InvalidOperationException ex) when (sources is not null)
        {
            throw new PredictorException($"{sources}: {ex.Message}");
        }
    }

    /// <summary>The first line <c>run</c> prints: what this run will do, so a config file's effect is visible.</summary>
    private static string Describe(PredictorOptions o, string? sources)
    {
        var models = o.ModelPaths.Count == 0 ? "none (naive forecaster)" : string.Join(", ", o.ModelPaths);
        var modules = o.Modules.Count == 0 ? "none" : string.Join(", ", o.Modules.Select(m => $"{m.Name}={m.Pid.ToString(CultureInfo.InvariantCulture)}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"run: backend {o.Backend}, policy {o.Policy}, tick {o.TickInterval.TotalMilliseconds} ms, inference every {o.InferenceEveryTicks} ticks, " +
            $"demand {o.PartitionDemand}, memory budget {(o.MemoryBudgetBytes is { } m ? $"{m} B" : "MemTotal")}, cpu budget {(o.CpuBudgetMillicores is { } c ? $"{c} millicores" : "all CPUs")}, " +
            $"cgroup {o.CgroupName}, store {o.StorePath ?? "none"}{(o.StoreRetention is { } keep ? $" (keeping {Durations.Format(keep)})" : string.Empty)}, models {models}, modules {modules}{(sources is null ? string.Empty : $" (from {sources} and the command line)")}");
    }

    /// <summary>
    /// Blocks until the duration has passed, the loop has run <paramref name="maxTicks"/> ticks, or SIGINT/SIGTERM, whichever is first.
    /// The tick count is polled a few times a tick, so the loop may run one tick more before it is stopped.
    /// </summary>
    private static void WaitForTheEnd(Engine.Control.ControlLoop loop, TimeSpan? length, long? maxTicks, TimeSpan interval, CancellationToken stop)
    {
        using var deadline = new CancellationTokenSource(length ?? Timeout.InfiniteTimeSpan);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, deadline.Token);
        var poll = maxTicks is null ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(Math.Clamp(interval.TotalMilliseconds / 4, 1, 50));
        try
        {
            while (maxTicks is not { } n || loop.Ticks < n)
            {
                Task.Delay(poll, either.Token).GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The <c>--ticks N</c> option of <c>run</c> and <c>collect</c>: a whole number ≥ 1, refused otherwise.</summary>
    internal static Option<long?> TickCountOption(string description)
    {
        // Parsed here rather than by System.CommandLine, whose failure for "abc" surfaced as an internal error.
        return new Option<long?>("--ticks")
        {
            Description = description,
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1)
                {
                    return n;
                }

                result.AddError($"--ticks '{text}' must be a whole number of ticks, 1 or more (e.g. --ticks 50).");
                return null;
            },
        };
    }

    /// <summary>Parses NAME=PID.</summary>
    private static ModuleProcess ParseModule(string text)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        return eq > 0 && int.TryParse(text.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0
            ? new ModuleProcess(text[..eq], pid)
            : throw new PredictorException($"--module '{text}' is not NAME=PID; use e.g. web=1234.");
    }
}

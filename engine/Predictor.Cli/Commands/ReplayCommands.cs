using System.CommandLine;
using System.Globalization;
using Predictor.Engine;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Replay;
using Predictor.Engine.Replay.Report;
using Spectre.Console;

namespace Predictor.Cli.Commands;

/// <summary>
/// <c>predictor replay</c>: every policy of a scenario through the real control loop on recorded telemetry, then the
/// comparison table, the JSON result and the HTML report.
/// </summary>
internal static class ReplayCommands
{
    public static Command Build()
    {
        var scenario = new Option<string>("--scenario")
        {
            Description = "The scenario JSON file (data source, partitions, budget, locations, modules, policies, models; see README \"Scenario files\", e.g. datasets/scenarios/nab-host.json).",
            Required = true,
        };
        var outDir = new Option<string>("--out")
        {
            Description = "Folder for the outputs; the JSON result and the HTML report go there as <scenario-name>.json and <scenario-name>.html unless --json/--report say otherwise.",
            DefaultValueFactory = _ => "replay-out",
        };
        var json = new Option<string?>("--json") { Description = "Write the JSON result (schema predictor.replay-result/1) to this file instead of <out>/<scenario-name>.json." };
        var report = new Option<string?>("--report") { Description = "Write the self-contained HTML report to this file instead of <out>/<scenario-name>.html." };
        var withSeries = new Option<bool>("--series")
        {
            Description = "Also write every trace into the JSON result: each partition's demand and allocation and each location's load, tick by tick (measured part only; large: ticks × series numbers), for analysis elsewhere.",
        };
        var cmd = new Command(
            "replay",
            "Replay recorded telemetry (a store or a trace) through the control loop with a recorded clock and the simulated backend, " +
            "once per policy of the scenario; print the metric table and write the JSON result and the HTML report.")
        {
            scenario, outDir, json, report, withSeries,
        };
        cmd.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var clock = TimeProvider.System;
            var started = clock.GetTimestamp();

            var options = ScenarioFile.Load(parseResult.GetValue(scenario)!);

            // The outputs are checked before the data is read, so a typo costs one line, not a replay.
            var outFolder = parseResult.GetValue(outDir)!;
            if (File.Exists(outFolder))
            {
                throw new PredictorException($"--out '{outFolder}' is a file; give the folder to write the JSON result and the report in (it is created if missing).");
            }

            var fileStem = SafeFileName(options.Name);
            var givenJson = parseResult.GetValue(json);
            var givenReport = parseResult.GetValue(report);
            var jsonPath = givenJson ?? Path.Combine(outFolder, fileStem + ".json");
            var reportPath = givenReport ?? Path.Combine(outFolder, fileStem + ".html");
            OutputPaths.Check(
                [(givenJson is null ? "the JSON result (--out)" : "--json", jsonPath), (givenReport is null ? "the report (--out)" : "--report", reportPath)],
                [("--scenario", options.File), ("scenario's source", options.Source.StorePath ?? options.Source.TracePath), .. options.Models.Select(m => ($"model '{m.Name}'", m.Path))]);

            var hasWallClock = options.Source.HasWallClock;
            var inputs = ScenarioInputs.Load(options);
            var naive = new NaiveForecasterOptions { Step = inputs.Tick };
            CheckModels(options, naive, error);

            var policyTicks = (long)options.Policies.Count * inputs.Ticks;
            var replayStarted = clock.GetTimestamp();
            var result = RunWithProgress(options, inputs, naive, hasWallClock, policyTicks, error);
            var replayTime = clock.GetElapsedTime(replayStarted);

            // A file or a captured writer gets plain text: no colour codes, and the width of the table rather than the
            // 80 columns Spectre assumes when it cannot ask a terminal (the table has up to nine columns).
            var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            });
            if (!terminal)
            {
                console.Profile.Width = 250;
            }

            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"scenario {options.Name}: {inputs.Ticks} ticks of {Durations.Format(inputs.Tick)} ({Span(inputs.Ticks * inputs.Tick)}), " +
                $"{result.TickCount} measured, total budget {inputs.TotalBudget:0.###} {options.Unit} ({result.Info.BudgetNote})"));
            if (inputs.DownsampleNote is { } downsample)
            {
                console.WriteLine("demand: " + downsample);
            }

            console.Write(Render(MetricTable.From(result)));
            console.WriteLine(result.PredictiveVerdict());

            ReplayResultJson.WriteFile(result, jsonPath, parseResult.GetValue(withSeries));
            HtmlReport.WriteFile(result, reportPath);
            output.WriteLine($"json:   {Path.GetFullPath(jsonPath)}");
            output.WriteLine($"report: {Path.GetFullPath(reportPath)}");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"replayed {options.Policies.Count} policies × {inputs.Ticks} ticks in {replayTime.TotalSeconds:0.00} s ({clock.GetElapsedTime(started).TotalSeconds:0.00} s in all)"));
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// Opens each declared model once before the replay. Unlike the live loop (which falls back to the naive forecaster
    /// to keep running), a replay exists to judge models: a row named after a model must be that model's result, so a
    /// model that cannot be opened stops the replay with the reason.
    /// </summary>
    private static void CheckModels(ScenarioOptions scenario, NaiveForecasterOptions naive, TextWriter error)
    {
        foreach (var model in scenario.Models.Where(m => m.Path is not null))
        {
            IForecaster forecaster;
            try
            {
                forecaster = ForecasterLoader.OpenOnnx(model.Path!);
            }
            catch (PredictorException ex)
            {
                throw new PredictorException(
                    $"scenario {scenario.File}: model '{model.Name}' ({model.Path}) cannot be used: {ex.Message.ReplaceLineEndings(" ")} " +
                    "Fix or retrain the model (predictor models inspect FILE shows what it holds), or remove it from \"models\".", ex);
            }

            using (forecaster)
            {
                if (forecaster.Shape.Step != naive.Step)
                {
                    error.WriteLine(
                        $"predictor: warning: model '{model.Name}' was trained at a {Durations.Format(forecaster.Shape.Step)} step but the replay ticks every " +
                        $"{Durations.Format(naive.Step)}; set \"tickSeconds\" in the scenario to the model's step for forecasts that mean what they say.");
                }
            }
        }
    }

    private static ReplayResult RunWithProgress(
        ScenarioOptions scenario, ScenarioInputs inputs, NaiveForecasterOptions naive, bool hasWallClock, long policyTicks, TextWriter error)
    {
        IForecaster Open(ScenarioModel model) => ReplayRunner.OpenModel(model, naive);

        // A live bar only on a terminal: redirected or captured stderr gets no escape codes or redraws.
        if (!ReferenceEquals(error, Console.Error) || Console.IsErrorRedirected)
        {
            return ReplayRunner.Run(scenario, inputs, Open, hasWallClock);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        ReplayResult? result = null;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"replaying {scenario.Policies.Count} policies × {inputs.Ticks} ticks", maxValue: policyTicks);
                result = ReplayRunner.Run(scenario, inputs, Open, hasWallClock, new TaskProgress(task));
                task.Value = policyTicks;
            });
        return result!;
    }

    private static Table Render(MetricTable table)
    {
        var t = new Table().Border(TableBorder.Rounded);
        for (var c = 0; c < table.Headers.Count; c++)
        {
            // No wrapping: a wrapped "dominated by …" or policy name would split what readers (and scripts) look for.
            var column = new TableColumn(Markup.Escape(table.Headers[c])).NoWrap();
            t.AddColumn(c == 0 ? column : column.RightAligned());
        }

        foreach (var row in table.Rows)
        {
            // Dominated policies are dimmed (and their Pareto cell names who dominates them); predictive ones are bold.
            var style = row.DominatedBy.Count > 0 ? "grey" : row.IsPredictive ? "bold" : "default";
            t.AddRow(row.Cells.Select(cell => new Markup(Markup.Escape(cell), Style.Parse(style))).ToArray());
        }

        return t;
    }

    // "14 days", "27.8 days", and under a day "7m" (a 100 ms recording of minutes is not "0 days").
    private static string Span(TimeSpan span) =>
        span.TotalDays >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0.#} days") : Durations.Format(span);

    // The scenario's name as a file stem: characters a file name cannot hold become '_', and it is cut to 200 characters
    // (a name can hold 255 bytes, and ".json" follows).
    private static string SafeFileName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var safe = new string(name.Select(c => invalid.Contains(c) ? '_' : c).ToArray());
        return safe.Length > 200 ? safe[..200] : safe;
    }

    /// <summary>Moves the bar from the replay thread; updates every 256 policy-ticks so the bar costs nothing next to a tick.</summary>
    private sealed class TaskProgress : IProgress<long>
    {
        private readonly ProgressTask _task;

        public TaskProgress(ProgressTask task) => _task = task;

        public void Report(long value)
        {
            if ((value & 255) == 0)
            {
                _task.Value = value;
            }
        }
    }
}

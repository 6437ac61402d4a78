using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Predictor.Engine;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Import;
using Predictor.Training.Onnx;
using Predictor.Training.Pipeline;
using Predictor.Training.Ssa;
using Predictor.Training.Trees;
using Spectre.Console;

namespace Predictor.Cli.Commands;

/// <summary>
/// <c>predictor train</c> and <c>predictor evaluate</c>: fit and backtest forecasting models on recorded series and
/// write them as ONNX; score an existing model on other data. Both print a table of backtest metrics (model vs
/// baselines) and can write it as JSON.
/// </summary>
internal static class TrainCommands
{
    public static IEnumerable<Command> Build() => [BuildTrain(), BuildEvaluate()];

    private sealed record DataOptions(Option<string?> Store, Option<string?> Format, Option<string?> Dataset, Option<string> Series, Option<string?> Json)
    {
        public IReadOnlyList<RecordedSeries> Load(ParseResult parse, TimeSpan? step) =>
            LoadSeries(parse.GetValue(Store), parse.GetValue(Format), parse.GetValue(Dataset), parse.GetValue(Series)!, step, parse.InvocationConfiguration.Output);

        /// <summary>The files the command reads, for <see cref="OutputPaths.Check"/>.</summary>
        public (string Option, string? Path)[] Inputs(ParseResult parse) => [("--store", parse.GetValue(Store)), ("--dataset", parse.GetValue(Dataset))];
    }

    private static DataOptions AddDataOptions(Command command)
    {
        var data = new DataOptions(
            new Option<string?>("--store") { Description = "A Predictor SQLite store (written by `predictor collect` / `predictor import`) to read the series from." },
            new Option<string?>("--format") { Description = "Trace format of --dataset: nab, azure-v1, aggregate, google2011, bitbrains, alibaba, csv." },
            new Option<string?>("--dataset") { Description = "A trace file, or a directory whose files of that format are all read." },
            new Option<string>("--series") { Description = "Glob over series names (* and ?), e.g. 'nab/rds_*' or 'azure-v1/vm_1633748'.", Required = true },
            new Option<string?>("--json") { Description = "Also write the metrics table to this JSON file." });
        command.Options.Add(data.Store);
        command.Options.Add(data.Format);
        command.Options.Add(data.Dataset);
        command.Options.Add(data.Series);
        command.Options.Add(data.Json);
        return data;
    }

    private static Command BuildTrain()
    {
        var command = new Command("train", "Fit SSA, ridge, gradient-boosted-tree and combined forecasters on recorded series, backtest them (rolling origin) beside naive, seasonal-naive and decayed-percentile baselines, select one, calibrate its upper bound, and write it as an ONNX model.");
        var data = AddDataOptions(command);
        var horizon = new Option<int>("--horizon") { Description = "Steps to forecast (H).", DefaultValueFactory = _ => 12 };
        var window = new Option<int?>("--window") { Description = "Observations the model reads (W); default one day of steps." };
        var step = new Option<string?>("--step")
        {
            Description = "The model's step, e.g. 5m: each series is first averaged into steps of this length (epoch-aligned, NaN left out), " +
                          "as the running loop averages its ticks, so a recording made by `collect` at 100 ms trains a 5-minute model. " +
                          "A whole multiple of the series' own step; default the series' own step.",
        };
        var quantile = new Option<double>("--quantile") { Description = "Quantile the upper bound covers.", DefaultValueFactory = _ => 0.9 };
        var kinds = new Option<string>("--kinds")
        {
            Description = "Comma-separated kinds selection may choose: " + string.Join(", ", TrainingOptions.KnownKinds) + " (combination = mean of ssa, ridge and seasonal naive).",
            DefaultValueFactory = _ => string.Join(",", new TrainingOptions().Kinds),
        };
        var ssaShare = new Option<double>("--ssa-length-share") { Description = "SSA's embedding window L as a share of W (cost O(L³)).", DefaultValueFactory = _ => new TrainingOptions().SsaLengthShare };
        var ssaCentring = new Option<string>("--ssa-centring")
        {
            Description = "series: basic SSA of the standardised series; lag-vectors: each lag vector centred on its own mean, the constant put first in the basis (SSA with projection), so a level shift stays out of the eigenvectors; level-shift: lag-vectors when the training and calibration parts hold a dominant level shift (one split into before and after explains more than half their variance), basic SSA otherwise.",
            DefaultValueFactory = _ => CentringName(new TrainingOptions().SsaCentring),
        };
        ssaCentring.AcceptOnlyFromAmong(SeriesCentring, LagVectors, LevelShiftCentring);
        var gbdtTrees = new Option<string>("--gbdt-trees")
        {
            Description = "Trees of the gbdt candidate: shared (multi-output trees for all steps, each step weighted alike in the split gain: H times fewer to walk) or per-step (one ensemble per horizon step).",
            DefaultValueFactory = _ => GbdtTreesName(new TrainingOptions().GbdtTrees),
        };
        gbdtTrees.AcceptOnlyFromAmong(GbdtTreesName(GbdtTreeLayout.PerStep), GbdtTreesName(GbdtTreeLayout.Shared));
        var gbdtRate = new Option<double>("--gbdt-learning-rate")
        {
            Description = "Learning rate of the gbdt candidate, in (0, 1]: larger reaches its best round in fewer trees (cheaper inference).",
            DefaultValueFactory = _ => new TrainingOptions().GbdtLearningRate,
        };
        var gbdtDepth = new Option<int>("--gbdt-max-depth")
        {
            Description = "Depth limit of the gbdt candidate's trees (0: none beyond 31 leaves); bounds ONNX Runtime's cost per row and tree.",
            DefaultValueFactory = _ => new TrainingOptions().GbdtMaxDepth,
        };
        var gbdtLeaves = new Option<int>("--gbdt-max-leaves")
        {
            Description = "Leaves per tree of the gbdt candidate at most, 2–4096 (best-first growth; each tree may stop short of it).",
            DefaultValueFactory = _ => new TrainingOptions().GbdtMaxLeaves,
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Threads the gbdt and ridge fits may use, 0 for every core (the default); the model is the same bit for bit whatever the value.",
            DefaultValueFactory = _ => new TrainingOptions().Threads,
        };
        var gbdtTreesMax = new Option<int>("--gbdt-max-trees")
        {
            Description = "Trees of the gbdt candidate at most (shared trees; per-step trees: per step), 1–100000: a budget on ONNX Runtime's cost, which follows the tree count; early stopping may keep fewer.",
            DefaultValueFactory = _ => new TrainingOptions().GbdtMaxTrees,
        };
        var seasonMoves = new Option<string>("--gbdt-season-moves")
        {
            Description = "on: the gbdt candidate also reads yesterday's moves over the coming horizon (needs a window of one season, the default); off: its last 24 values and the calendar only.",
            DefaultValueFactory = _ => new TrainingOptions().GbdtSeasonMoves ? On : Off,
        };
        seasonMoves.AcceptOnlyFromAmong(On, Off);
        var refitBeforeTest = new Option<string>("--refit-before-test")
        {
            Description = "on: every candidate is fitted again on the training and calibration parts before it forecasts the test part (as the shipped model and the cross-check references see all earlier data); off: the test part is forecast by the training-part fits. Selection reads the calibration part either way.",
            DefaultValueFactory = _ => new TrainingOptions().RefitBeforeTest ? On : Off,
        };
        refitBeforeTest.AcceptOnlyFromAmong(On, Off);
        var gbdtRefitRounds = new Option<string>("--gbdt-refit-rounds")
        {
            Description = "early-stopping: the gbdt candidate's refits (before the test part, and the shipped fit on all data) each hold out their latest 10 % of rows to stop early, so the shipped trees never learn from the newest days; training-fit: they train on every row, with each horizon step's tree count from the training-part fit's early stopping.",
            DefaultValueFactory = _ => new TrainingOptions().GbdtRefitRounds == GbdtRefitRounds.TrainingFit ? TrainingFitRounds : EarlyStoppingRounds,
        };
        gbdtRefitRounds.AcceptOnlyFromAmong(EarlyStoppingRounds, TrainingFitRounds);
        var gbdtLoss = new Option<string>("--gbdt-loss")
        {
            Description = "squared: the gbdt candidate's trees minimise squared error (each leaf learns a mean); absolute: absolute error (LAD boosting: splits on the residuals' signs, each leaf learns a median, early stopping on mean |error|), the loss MASE scores; choose: both are fitted on the training part and the lower calibration score keeps its loss.",
            DefaultValueFactory = _ => LossName(new TrainingOptions().GbdtLoss),
        };
        gbdtLoss.AcceptOnlyFromAmong(SquaredLoss, AbsoluteLoss, ChooseLoss);
        var selection = new Option<string>("--selection")
        {
            Description = "whole-horizon: one kind for every step; per-step: a step may take another kind where it wins that step clearly (one graph, kind per_step).",
            DefaultValueFactory = _ => new TrainingOptions().SelectPerStep ? PerStep : WholeHorizon,
        };
        selection.AcceptOnlyFromAmong(WholeHorizon, PerStep);
        var output = new Option<string>("--out") { Description = "Where to write the ONNX model.", Required = true };
        command.Options.Add(selection);
        command.Options.Add(ssaShare);
        command.Options.Add(ssaCentring);
        command.Options.Add(gbdtTrees);
        command.Options.Add(seasonMoves);
        command.Options.Add(refitBeforeTest);
        command.Options.Add(gbdtRefitRounds);
        command.Options.Add(gbdtLoss);
        command.Options.Add(gbdtRate);
        command.Options.Add(gbdtDepth);
        command.Options.Add(gbdtLeaves);
        command.Options.Add(gbdtTreesMax);
        command.Options.Add(threads);
        command.Options.Add(horizon);
        command.Options.Add(window);
        command.Options.Add(step);
        command.Options.Add(quantile);
        command.Options.Add(kinds);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var writer = parse.InvocationConfiguration.Output;
            var options = new TrainingOptions
            {
                Horizon = parse.GetValue(horizon),
                Window = parse.GetValue(window),
                Step = parse.GetValue(step) is { } every ? Durations.Parse(every, "--step") : null,
                Quantile = parse.GetValue(quantile),
                SsaLengthShare = parse.GetValue(ssaShare),
                SsaCentring = parse.GetValue(ssaCentring) switch { LagVectors => SsaCentring.LagVectors, LevelShiftCentring => SsaCentring.LevelShift, _ => SsaCentring.Series },
                GbdtTrees = parse.GetValue(gbdtTrees) == GbdtTreesName(GbdtTreeLayout.Shared) ? GbdtTreeLayout.Shared : GbdtTreeLayout.PerStep,
                GbdtSeasonMoves = parse.GetValue(seasonMoves) == On,
                RefitBeforeTest = parse.GetValue(refitBeforeTest) == On,
                GbdtRefitRounds = parse.GetValue(gbdtRefitRounds) == TrainingFitRounds ? GbdtRefitRounds.TrainingFit : GbdtRefitRounds.EarlyStopping,
                GbdtLoss = parse.GetValue(gbdtLoss) switch { AbsoluteLoss => GbdtLossChoice.Absolute, ChooseLoss => GbdtLossChoice.Choose, _ => GbdtLossChoice.Squared },
                GbdtLearningRate = parse.GetValue(gbdtRate),
                GbdtMaxDepth = parse.GetValue(gbdtDepth),
                GbdtMaxLeaves = parse.GetValue(gbdtLeaves),
                GbdtMaxTrees = parse.GetValue(gbdtTreesMax),
                Threads = parse.GetValue(threads),
                Kinds = [.. parse.GetValue(kinds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                SelectPerStep = parse.GetValue(selection) == PerStep,
            };
            options.Validate();
            var outputs = OutputPaths.Check([("--out", parse.GetValue(output)), ("--json", parse.GetValue(data.Json))], data.Inputs(parse));
            var series = data.Load(parse, options.Step);
            var console = ConsoleOn(writer);
            long started = TimeProvider.System.GetTimestamp();
            TrainingResult? result = null;
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask($"training on {series.Count} series", maxValue: 1);
                result = ModelTrainer.Train(series, options, new ProgressTo(p =>
                {
                    task.Description = p.Stage;
                    task.Value = p.Fraction;
                }));
            });
            var elapsed = TimeProvider.System.GetElapsedTime(started);
            string outPath = outputs[0]!;
            ForecastModels.WriteFile(outPath, result!.Model);
            WriteTable(console, result.Series);
            WarnIfUnusable(result.Series, parse.InvocationConfiguration.Error);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"selected {result.SelectedKind}{(result.Card.Extra.TryGetValue("predictor.step_kinds", out string? steps) ? " [" + steps + "]" : "")} (W={result.Card.Window}, H={result.Card.Horizon}, q={result.Card.Quantile}, step {result.Card.StepSeconds} s); wrote {Path.GetFullPath(outPath)} ({result.Model.Length} bytes) in {elapsed.TotalSeconds:F1} s"));
            WriteJson(parse.GetValue(data.Json), result.Series, options);
            return 0;
        });
        return command;
    }

    private const string On = "on";

    private const string Off = "off";

    private const string WholeHorizon = "whole-horizon";

    private const string PerStep = "per-step";

    private const string SeriesCentring = "series";

    private const string LagVectors = "lag-vectors";

    private const string LevelShiftCentring = "level-shift";

    private const string EarlyStoppingRounds = "early-stopping";

    private const string TrainingFitRounds = "training-fit";

    private const string SquaredLoss = "squared";

    private const string AbsoluteLoss = "absolute";

    private const string ChooseLoss = "choose";

    private static string LossName(GbdtLossChoice loss) => loss switch
    {
        GbdtLossChoice.Absolute => AbsoluteLoss,
        GbdtLossChoice.Choose => ChooseLoss,
        _ => SquaredLoss,
    };

    private static string CentringName(SsaCentring centring) => centring switch
    {
        SsaCentring.LagVectors => LagVectors,
        SsaCentring.LevelShift => LevelShiftCentring,
        _ => SeriesCentring,
    };

    private static string GbdtTreesName(GbdtTreeLayout layout) => layout == GbdtTreeLayout.Shared ? "shared" : "per-step";

    private static Command BuildEvaluate()
    {
        var command = new Command("evaluate", "Score an existing model on other recorded series (rolling origin over the last 15 % of each), beside naive, seasonal naive and decayed-p90 baselines.");
        var model = new Argument<string>("MODEL") { Description = "The ONNX model file." };
        command.Arguments.Add(model);
        var data = AddDataOptions(command);
        command.SetAction(parse =>
        {
            var writer = parse.InvocationConfiguration.Output;
            string path = parse.GetValue(model)!;
            if (!File.Exists(path))
            {
                throw new PredictorException(Directory.Exists(path)
                    ? $"Model '{path}' is a directory; give the path of an ONNX file written by 'predictor train'."
                    : $"Model '{path}' does not exist; give the path of an ONNX file written by 'predictor train'.");
            }

            OutputPaths.Check([("--json", parse.GetValue(data.Json))], [("MODEL", path), .. data.Inputs(parse)]);

            var table = ModelEvaluator.Evaluate(path, modelStep => data.Load(parse, modelStep));
            WriteTable(ConsoleOn(writer), table);
            WriteJson(parse.GetValue(data.Json), table, ModelEvaluator.OptionsFor(path));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Reads the series (from the store, or from trace files through the telemetry importers) and keeps those whose
    /// name matches the glob; no match is an error listing what exists. With <paramref name="step"/>, a series recorded
    /// at a finer step that divides it is averaged into it (the store does it while decoding, so a week of 100 ms ticks
    /// is never held whole), and one line on <paramref name="note"/> says so; any other step is left for the trainer to
    /// refuse with its own message.
    /// </summary>
    internal static IReadOnlyList<RecordedSeries> LoadSeries(string? store, string? format, string? dataset, string pattern, TimeSpan? step = null, TextWriter? note = null)
    {
        if (store is not null == (format is not null || dataset is not null))
        {
            throw new PredictorException("Give either --store FILE, or --format F with --dataset PATH (not both, not neither).");
        }

        var glob = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
        List<string> names;
        Func<string, RecordedSeries> read;
        Func<string, TimeSpan> recordedStep;
        string source;
        TimeSeriesStore? opened = null;
        try
        {
            if (store is not null)
            {
                if (!File.Exists(store))
                {
                    throw new PredictorException(Directory.Exists(store)
                        ? $"Store '{store}' is a directory; give the path of a store file written by 'predictor import' or 'predictor collect'."
                        : $"Store '{store}' does not exist; give the path of a store written by 'predictor import' or 'predictor collect'.");
                }

                opened = TimeSeriesStore.Open(store);
                var catalog = opened.ListSeries().ToDictionary(s => s.Info.Name, s => s.Info.Step, StringComparer.Ordinal);
                names = [.. catalog.Keys];
                read = name => step is { } every && AveragesInto(catalog[name], every)
                    ? opened.Downsample(name, long.MinValue, long.MaxValue, every, Aggregation.Mean)
                    : opened.ReadRange(name, long.MinValue, long.MaxValue);
                recordedStep = name => catalog[name];
                source = store;
            }
            else
            {
                if (format is null || dataset is null)
                {
                    throw new PredictorException("--format and --dataset go together: give both (e.g. --format nab --dataset ../shared/datasets/nab/data/realAWSCloudwatch).");
                }

                var traceFormat = TraceImporter.ParseFormat(format);
                var all = ImportAll(traceFormat, dataset);
                names = [.. all.Keys];
                read = name => step is { } every && AveragesInto(all[name].Info.Step, every) ? all[name].Downsample(every) : all[name];
                recordedStep = name => all[name].Info.Step;
                source = dataset;
            }

            var matched = names.Where(n => glob.IsMatch(n)).Order(StringComparer.Ordinal).ToList();
            if (matched.Count == 0)
            {
                string listed = string.Join(", ", names.Order(StringComparer.Ordinal).Take(8)) + (names.Count > 8 ? ", ..." : "");
                throw new PredictorException($"--series '{pattern}' matches none of the {names.Count} series in '{source}' ({listed}).");
            }

            if (step is { } target && note is not null)
            {
                var finer = matched.Select(recordedStep).Where(own => AveragesInto(own, target)).ToList();
                if (finer.Count > 0)
                {
                    note.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"averaged {finer.Count} of {matched.Count} series, recorded every {string.Join(" or ", finer.Distinct().Order().Select(Durations.Format))}, into steps of {Durations.Format(target)} (epoch-aligned means, NaN left out), as the running loop does"));
                }
            }

            return [.. matched.Select(read)];
        }
        finally
        {
            opened?.Dispose();
        }
    }

    // Whether a series recorded every `own` is averaged into `step` on reading: a coarser step it divides. Others are
    // read as recorded, and the trainer refuses them with its message (or takes them as they are when equal).
    private static bool AveragesInto(TimeSpan own, TimeSpan step) => step > own && StepGrid.Divides(own, step);

    private static Dictionary<string, RecordedSeries> ImportAll(TraceFormat format, string dataset)
    {
        List<string> files;
        if (Directory.Exists(dataset))
        {
            // CSV formats: the *.csv files only (a NAB checkout also holds labels and licences); others: every file.
            bool csv = format is TraceFormat.Nab or TraceFormat.AzureV1 or TraceFormat.Aggregate or TraceFormat.Csv;
            files = [.. Directory.EnumerateFiles(dataset, csv ? "*.csv" : "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
        }
        else if (File.Exists(dataset))
        {
            files = [dataset];
        }
        else
        {
            throw new PredictorException($"Dataset '{dataset}' is neither a file nor a directory; check --dataset.");
        }

        var all = new Dictionary<string, RecordedSeries>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            foreach (var series in TraceImporter.Import(format, file).Series)
            {
                if (!all.TryAdd(series.Info.Name, series))
                {
                    throw new PredictorException($"Series '{series.Info.Name}' appears in two files under '{dataset}' (again in '{file}'); point --dataset at one of them.");
                }
            }
        }

        return all;
    }

    private static IAnsiConsole ConsoleOn(TextWriter writer)
    {
        bool terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 160;
        }

        return console;
    }

    private static void WriteTable(IAnsiConsole console, IReadOnlyList<SeriesScores> table)
    {
        var t = new Table().Border(TableBorder.Simple);
        foreach (string column in new[] { "series", "model", "role", "MASE", "MASE@H", "MAE", "RMSE", "sMAPE %", "pinball", "coverage", "tracked" })
        {
            t.AddColumn(new TableColumn(column) { Alignment = column is "series" or "model" or "role" ? Justify.Left : Justify.Right });
        }

        foreach (var s in table)
        {
            foreach (var m in s.Scores)
            {
                var x = m.Test;
                t.AddRow(Markup.Escape(s.Series), m.Model, m.Role, F(x.Mase), F(x.MaseAtHorizon), F(x.Mae), F(x.Rmse), F(x.Smape), F(x.Pinball), F(x.Coverage), F(x.TrackedCoverage));
            }
        }

        console.Write(t);
        static string F(double v) => double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "n/a";
    }

    /// <summary>How many times the better baseline's calibration MASE the selected model may score before train warns.</summary>
    internal const double UnusableFactor = 10;

    // A selected model that scores far worse than a baseline on the calibration part (which selection and the upper
    // bound's calibration read) is shipped only because --kinds left nothing better: say so rather than write it quietly.
    private static void WarnIfUnusable(IReadOnlyList<SeriesScores> table, TextWriter error)
    {
        foreach (var s in table)
        {
            var selected = s.Scores.FirstOrDefault(m => m.Role == "selected");
            var baseline = s.Scores.Where(m => m.Model is "naive" or "seasonal_naive" && double.IsFinite(m.ValidationMase)).MinBy(m => m.ValidationMase);
            if (selected is null || baseline is null || !(selected.ValidationMase > UnusableFactor * baseline.ValidationMase))
            {
                continue;
            }

            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"predictor: warning: on '{s.Series}' the selected {selected.Model} scores a calibration MASE of {selected.ValidationMase:G4}, over {UnusableFactor:0} × {baseline.Model}'s {baseline.ValidationMase:G4}: its forecasts and upper bound are not to be trusted. Leave --kinds at its default so a better kind can be selected, or train on data where the series behaves as it will when the model runs."));
        }
    }

    private static void WriteJson(string? path, IReadOnlyList<SeriesScores> table, TrainingOptions options)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, MetricsJson.Write(table, options, indented: true) + "\n");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PredictorException($"Cannot write --json '{path}': {ex.Message}", ex);
        }
    }

    private sealed class ProgressTo(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

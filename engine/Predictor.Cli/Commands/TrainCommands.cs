using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Predictor.Engine;
using Predictor.Engine.Telemetry;
using Predictor.Training.Data;
using Predictor.Training.Onnx;
using Predictor.Training.Pipeline;
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

    private sealed record DataOptions(Option<string> Format, Option<string> Dataset, Option<string> Series, Option<string?> Json);

    private static DataOptions AddDataOptions(Command command)
    {
        var data = new DataOptions(
            new Option<string>("--format") { Description = "Dataset format: nab (timestamp,value CSV files) or azure-v1 (row,offset_s,vm_... CSV).", Required = true },
            new Option<string>("--dataset") { Description = "A dataset file, or a directory searched recursively for *.csv.", Required = true },
            new Option<string>("--series") { Description = "Glob over series names (* and ?), e.g. 'nab/rds_*' or 'azure-v1/vm_1633748'.", Required = true },
            new Option<string?>("--json") { Description = "Also write the metrics table to this JSON file." });
        command.Options.Add(data.Format);
        command.Options.Add(data.Dataset);
        command.Options.Add(data.Series);
        command.Options.Add(data.Json);
        return data;
    }

    private static Command BuildTrain()
    {
        var command = new Command("train", "Fit SSA and ridge forecasters (and naive baselines) on recorded series, select one by rolling-origin backtest, calibrate its upper bound, and write it as an ONNX model.");
        var data = AddDataOptions(command);
        var horizon = new Option<int>("--horizon") { Description = "Steps to forecast (H).", DefaultValueFactory = _ => 12 };
        var window = new Option<int?>("--window") { Description = "Observations the model reads (W); default one day of steps." };
        var quantile = new Option<double>("--quantile") { Description = "Quantile the upper bound covers.", DefaultValueFactory = _ => 0.9 };
        var kinds = new Option<string>("--kinds")
        {
            Description = "Comma-separated kinds selection may choose: " + string.Join(", ", TrainingOptions.KnownKinds) + " (combination = mean of ssa, ridge and seasonal naive).",
            DefaultValueFactory = _ => string.Join(",", new TrainingOptions().Kinds),
        };
        var ssaShare = new Option<double>("--ssa-length-share") { Description = "SSA's embedding window L as a share of W (cost O(L³)).", DefaultValueFactory = _ => new TrainingOptions().SsaLengthShare };
        var output = new Option<string>("--out") { Description = "Where to write the ONNX model.", Required = true };
        command.Options.Add(ssaShare);
        command.Options.Add(horizon);
        command.Options.Add(window);
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
                Quantile = parse.GetValue(quantile),
                SsaLengthShare = parse.GetValue(ssaShare),
                Kinds = [.. parse.GetValue(kinds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            };
            options.Validate();
            var series = LoadSeries(parse.GetValue(data.Format)!, parse.GetValue(data.Dataset)!, parse.GetValue(data.Series)!);
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
            string outPath = parse.GetValue(output)!;
            ForecastModels.WriteFile(outPath, result!.Model);
            WriteTable(console, result.Series);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"selected {result.SelectedKind} (W={result.Card.Window}, H={result.Card.Horizon}, q={result.Card.Quantile}); wrote {Path.GetFullPath(outPath)} ({result.Model.Length} bytes) in {elapsed.TotalSeconds:F1} s"));
            WriteJson(parse.GetValue(data.Json), result.Series, options);
            return 0;
        });
        return command;
    }

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
                throw new PredictorException($"Model '{path}' does not exist; give the path of an ONNX file written by 'predictor train'.");
            }

            var series = LoadSeries(parse.GetValue(data.Format)!, parse.GetValue(data.Dataset)!, parse.GetValue(data.Series)!);
            var table = ModelEvaluator.Evaluate(path, series);
            WriteTable(ConsoleOn(writer), table);
            WriteJson(parse.GetValue(data.Json), table, new TrainingOptions());
            return 0;
        });
        return command;
    }

    /// <summary>Loads the dataset and keeps the series whose name matches the glob; no match is an error listing what exists.</summary>
    internal static IReadOnlyList<RecordedSeries> LoadSeries(string format, string dataset, string pattern)
    {
        var all = InterimDatasetLoader.Load(format.Trim().ToLowerInvariant(), dataset);
        var glob = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
        var matched = all.Where(s => glob.IsMatch(s.Info.Name)).OrderBy(s => s.Info.Name, StringComparer.Ordinal).ToList();
        if (matched.Count == 0)
        {
            string names = string.Join(", ", all.Take(8).Select(s => s.Info.Name)) + (all.Count > 8 ? ", ..." : "");
            throw new PredictorException($"--series '{pattern}' matches none of the {all.Count} series in '{dataset}' ({names}).");
        }

        return matched;
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
        foreach (string column in new[] { "series", "model", "role", "MASE", "MASE@H", "MAE", "RMSE", "sMAPE %", "pinball", "coverage" })
        {
            t.AddColumn(new TableColumn(column) { Alignment = column is "series" or "model" or "role" ? Justify.Left : Justify.Right });
        }

        foreach (var s in table)
        {
            foreach (var m in s.Scores)
            {
                var x = m.Test;
                t.AddRow(Markup.Escape(s.Series), m.Model, m.Role, F(x.Mase), F(x.MaseAtHorizon), F(x.Mae), F(x.Rmse), F(x.Smape), F(x.Pinball), F(x.Coverage));
            }
        }

        console.Write(t);
        static string F(double v) => double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "n/a";
    }

    private static void WriteJson(string? path, IReadOnlyList<SeriesScores> table, TrainingOptions options)
    {
        if (path is null)
        {
            return;
        }

        try
        {
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

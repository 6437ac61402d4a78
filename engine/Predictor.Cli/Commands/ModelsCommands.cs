using System.CommandLine;
using System.Globalization;
using Predictor.Engine;
using Predictor.Engine.Onnx;
using Predictor.Training.Onnx;

namespace Predictor.Cli.Commands;

/// <summary><c>predictor models ...</c>: look at model files.</summary>
internal static class ModelsCommands
{
    public static Command Build()
    {
        var models = new Command("models", "Inspect ONNX forecasting models: their inputs, outputs, card, and whether they fit the model contract.");
        models.Subcommands.Add(BuildInspect());
        models.Subcommands.Add(BuildWriteBaseline());
        return models;
    }

    private static Command BuildWriteBaseline()
    {
        var kind = new Option<string>("--kind")
        {
            Description = "naive (every step repeats the last observation) or seasonal-naive (every step repeats the value one season earlier).",
            Required = true,
        };
        kind.AcceptOnlyFromAmong("naive", "seasonal-naive");
        var window = new Option<int>("--window") { Description = "W, observations per series the model reads.", DefaultValueFactory = _ => 48 };
        var horizon = new Option<int>("--horizon") { Description = "H, steps forecast.", DefaultValueFactory = _ => 12 };
        var season = new Option<int?>("--season") { Description = "S, season length in steps (seasonal-naive only; 1 ≤ S ≤ W). Default: W." };
        var step = new Option<double>("--step-seconds") { Description = "Seconds between two observations, recorded in the card.", DefaultValueFactory = _ => 10 };
        var offset = new Option<float>("--upper-offset")
        {
            Description = "Constant added to every step's forecast to give `upper`, in the series' units. A baseline written " +
                          "without data has no residuals to calibrate it; 0 makes upper equal the forecast.",
            DefaultValueFactory = _ => 0f,
        };
        var quantile = new Option<double>("--quantile") { Description = "The quantile the card states for `upper` (nominal for a baseline).", DefaultValueFactory = _ => 0.9 };
        var output = new Option<string>("--out") { Description = "The .onnx file to write (replaced if it exists).", Required = true };
        var command = new Command(
            "write-baseline",
            "Write a baseline forecasting model (naive or seasonal naive) that fits the model contract, with its card, " +
            "using the project's ONNX writer. Needs no data.");
        foreach (var option in new Option[] { kind, window, horizon, season, step, offset, quantile, output })
        {
            command.Options.Add(option);
        }

        command.SetAction(parseResult =>
        {
            bool seasonal = parseResult.GetValue(kind) == "seasonal-naive";
            int w = parseResult.GetValue(window);
            int h = parseResult.GetValue(horizon);
            float upperOffset = parseResult.GetValue(offset);
            if (!float.IsFinite(upperOffset))
            {
                throw new PredictorException($"--upper-offset is {upperOffset}; give a finite number in the series' units.");
            }

            if (w is < 1 or > ModelContract.MaxWindow)
            {
                throw new PredictorException($"--window {w}: the window must be between 1 and {ModelContract.MaxWindow} steps (e.g. 48).");
            }

            if (h is < 1 or > ModelContract.MaxHorizon)
            {
                throw new PredictorException($"--horizon {h}: the horizon must be between 1 and {ModelContract.MaxHorizon} steps (e.g. 12).");
            }

            double stepSeconds = parseResult.GetValue(step);
            if (!(stepSeconds > 0 && stepSeconds <= ModelContract.MaxStepSeconds))
            {
                throw new PredictorException(string.Create(CultureInfo.InvariantCulture,
                    $"--step-seconds {stepSeconds}: the step must be a positive number of seconds, at most {ModelContract.MaxStepSeconds} (a year), e.g. 300."));
            }

            int? seasonSteps = parseResult.GetValue(season);
            if (seasonal && seasonSteps is < 1)
            {
                throw new PredictorException($"--season {seasonSteps}: the season must be at least 1 step (and at most the window, {w}), e.g. {w}.");
            }

            if (!seasonal && seasonSteps is not null)
            {
                throw new PredictorException("--season applies to --kind seasonal-naive only; leave it out for naive.");
            }

            var outPath = OutputPaths.Check([("--out", parseResult.GetValue(output))], [])[0]!;

            var card = new ModelCard
            {
                Kind = seasonal ? ForecastModels.SeasonalNaiveKind : ForecastModels.NaiveKind,
                Window = w,
                Horizon = h,
                StepSeconds = stepSeconds,
                Quantile = parseResult.GetValue(quantile),
            };
            var offsets = Enumerable.Repeat(upperOffset, h).ToArray();
            byte[] model = seasonal
                ? ForecastModels.SeasonalNaive(card, seasonSteps ?? w, offsets)
                : ForecastModels.Naive(card, offsets);
            string path = outPath;
            ForecastModels.WriteFile(path, model);
            parseResult.InvocationConfiguration.Output.WriteLine($"wrote {path} ({card.Kind}, W={w}, H={h}, {model.Length.ToString(CultureInfo.InvariantCulture)} bytes)");
            return 0;
        });
        return command;
    }

    private static Command BuildInspect()
    {
        var file = new Argument<string>("FILE") { Description = "The .onnx model file to inspect." };
        var inspect = new Command(
            "inspect",
            "Load a model in ONNX Runtime (nothing is run) and print its inputs and outputs with types and shapes, its card " +
            "(metadata_props), and whether it fits the model contract. Exits 1 with the reason when it does not fit.");
        inspect.Arguments.Add(file);
        inspect.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var inspection = OnnxModelInspector.Inspect(parseResult.GetValue(file)!);
            Write(inspection, output);
            if (!inspection.Contract.Fits)
            {
                throw new ModelContractException(inspection.Path, inspection.Contract.Problems);
            }

            return 0;
        });
        return inspect;
    }

    private static void Write(ModelInspection inspection, TextWriter output)
    {
        var d = inspection.Description;
        output.WriteLine($"model:        {inspection.Path}");
        output.WriteLine($"onnxruntime:  {d.RuntimeVersion}");
        output.WriteLine($"producer:     {Or(d.ProducerName)} (graph {Or(d.GraphName)}, model_version {Version(d.ModelVersion)})");
        if (d.Description.Length > 0)
        {
            output.WriteLine($"description:  {d.Description.ReplaceLineEndings(" ")}");
        }

        int width = d.Inputs.Concat(d.Outputs).Select(t => t.Name.Length).DefaultIfEmpty(0).Max();
        output.WriteLine("inputs:");
        foreach (var t in d.Inputs)
        {
            output.WriteLine($"  {t.Name.PadRight(width)}  {t.Describe()}");
        }

        output.WriteLine("outputs:");
        foreach (var t in d.Outputs)
        {
            output.WriteLine($"  {t.Name.PadRight(width)}  {t.Describe()}");
        }

        output.WriteLine("card (metadata_props):");
        if (d.CustomMetadata.Count == 0)
        {
            output.WriteLine("  (none)");
        }

        int keyWidth = d.CustomMetadata.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        foreach (var (key, value) in d.CustomMetadata)
        {
            output.WriteLine($"  {key.PadRight(keyWidth)} = {value.ReplaceLineEndings(" ")}");
        }

        var fit = inspection.Contract;
        if (fit.Fits && fit.Shape is { } s)
        {
            string batch = fit.StaticBatch is { } b ? $"N fixed at {b.ToString(CultureInfo.InvariantCulture)}" : "N dynamic";
            output.WriteLine(
                $"contract:     fits (W={s.Window}, H={s.Horizon}, C={s.CalendarWidth}, step {s.Step.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s, " +
                $"quantile {s.Quantile.ToString(CultureInfo.InvariantCulture)}, {batch})");
        }
        else
        {
            output.WriteLine($"contract:     does not fit ({fit.Problems.Count} problem{(fit.Problems.Count == 1 ? "" : "s")})");
            foreach (string problem in fit.Problems)
            {
                output.WriteLine($"  - {problem}");
            }
        }
    }

    // ORT reports INT64_MAX when the file sets no model_version.
    private static string Version(long version) => version == long.MaxValue ? "(not set)" : version.ToString(CultureInfo.InvariantCulture);

    private static string Or(string text) => text.Length > 0 ? text : "(none)";
}

using System.Globalization;
using Predictor.Engine.Forecasting;

namespace Predictor.Engine.Onnx;

/// <summary>The outcome of checking a model against the contract: every problem, and the shape when it fits.</summary>
/// <param name="Problems">Empty when the model fits.</param>
/// <param name="Shape">W, H, C, step and quantile, when the model fits.</param>
/// <param name="StaticBatch">The batch size the graph fixes, or null when N is dynamic.</param>
public sealed record ContractFit(IReadOnlyList<string> Problems, ForecastShape? Shape, long? StaticBatch)
{
    /// <summary>True when the model fits the contract.</summary>
    public bool Fits => Problems.Count == 0;
}

/// <summary>
/// Checks a model's inputs, outputs and card against the model contract (DESIGN.md, <see cref="ModelContract"/>):
/// input <c>window</c> float32 [N,W]; optional <c>calendar</c> float32 [N,C] with C = <see cref="CalendarFeatures.Width"/>;
/// outputs <c>forecast</c> and <c>upper</c> float32 [N,H]; required card keys; card window/horizon equal to the
/// graph's static dimensions; a supported schema version. Collects every problem rather than stopping at the first,
/// so one round of fixes is enough.
/// </summary>
public static class ModelContractCheck
{
    /// <summary>Checks <paramref name="model"/>.</summary>
    public static ContractFit Check(ModelDescription model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var problems = new List<string>();

        var window = model.Inputs.FirstOrDefault(i => i.Name == ModelContract.WindowInput);
        var calendar = model.Inputs.FirstOrDefault(i => i.Name == ModelContract.CalendarInput);
        var forecast = model.Outputs.FirstOrDefault(o => o.Name == ModelContract.ForecastOutput);
        var upper = model.Outputs.FirstOrDefault(o => o.Name == ModelContract.UpperOutput);

        if (window is null)
        {
            problems.Add($"input '{ModelContract.WindowInput}' (float32 [N,W]) is missing; the model's inputs are {Names(model.Inputs)}.");
        }

        foreach (var extra in model.Inputs.Where(i => i.Name is not ModelContract.WindowInput and not ModelContract.CalendarInput))
        {
            problems.Add($"input '{extra.Name}' is not part of the contract (allowed: '{ModelContract.WindowInput}', optional '{ModelContract.CalendarInput}'); the engine cannot feed it.");
        }

        if (forecast is null)
        {
            problems.Add($"output '{ModelContract.ForecastOutput}' (float32 [N,H]) is missing; the model's outputs are {Names(model.Outputs)}.");
        }

        if (upper is null)
        {
            problems.Add($"output '{ModelContract.UpperOutput}' (float32 [N,H]) is missing; the model's outputs are {Names(model.Outputs)}.");
        }

        long? graphWindow = CheckMatrix(window, "input", "W", problems);
        long? graphCalendar = CheckMatrix(calendar, "input", "C", problems);
        long? graphHorizon = CheckMatrix(forecast, "output", "H", problems);
        long? upperHorizon = CheckMatrix(upper, "output", "H", problems);

        if (calendar is not null && graphCalendar is { } c && c != CalendarFeatures.Width)
        {
            problems.Add($"input '{ModelContract.CalendarInput}' has {c} columns; the contract's calendar features are {CalendarFeatures.Width} wide (sin/cos of hour of day and day of week).");
        }

        if (graphHorizon is { } fh && upperHorizon is { } uh && fh != uh)
        {
            problems.Add($"outputs '{ModelContract.ForecastOutput}' and '{ModelContract.UpperOutput}' have different horizons ({fh} and {uh}).");
        }

        graphHorizon ??= upperHorizon;
        long? staticBatch = CheckBatch([window, calendar, forecast, upper], problems);

        var card = model.CustomMetadata;
        foreach (string key in ModelContract.Card.Required.Where(k => !card.ContainsKey(k)))
        {
            problems.Add($"card key '{key}' is missing from metadata_props.");
        }

        int? cardWindow = PositiveInt(card, ModelContract.Card.Window, ModelContract.MaxWindow, problems);
        int? cardHorizon = PositiveInt(card, ModelContract.Card.Horizon, ModelContract.MaxHorizon, problems);
        if (cardWindow is { } cw && graphWindow is { } gw && cw != gw)
        {
            problems.Add($"card says window {cw} but input '{ModelContract.WindowInput}' has {gw} columns.");
        }

        if (cardHorizon is { } ch && graphHorizon is { } gh && ch != gh)
        {
            problems.Add($"card says horizon {ch} but the outputs have {gh} columns.");
        }

        double? step = null;
        if (card.TryGetValue(ModelContract.Card.StepSeconds, out string? stepText))
        {
            if (double.TryParse(stepText, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && s <= ModelContract.MaxStepSeconds)
            {
                step = s;
            }
            else
            {
                problems.Add($"card key '{ModelContract.Card.StepSeconds}' is '{stepText}'; it must be a positive number of seconds, at most {ModelContract.MaxStepSeconds.ToString(CultureInfo.InvariantCulture)} (a year), written in the invariant culture (e.g. 10 or 0.5).");
            }
        }

        double? quantile = null;
        if (card.TryGetValue(ModelContract.Card.Quantile, out string? quantileText))
        {
            if (double.TryParse(quantileText, NumberStyles.Float, CultureInfo.InvariantCulture, out double q) && q > 0 && q < 1)
            {
                quantile = q;
            }
            else
            {
                problems.Add($"card key '{ModelContract.Card.Quantile}' is '{quantileText}'; it must be a number strictly between 0 and 1 (e.g. 0.9).");
            }
        }

        if (card.TryGetValue(ModelContract.Card.SchemaVersion, out string? schemaText))
        {
            if (!int.TryParse(schemaText, NumberStyles.None, CultureInfo.InvariantCulture, out int schema) || schema != ModelContract.SchemaVersion)
            {
                problems.Add($"card schema version is '{schemaText}'; this engine reads schema version {ModelContract.SchemaVersion} only.");
            }
        }

        if (problems.Count > 0)
        {
            return new ContractFit(problems, null, staticBatch);
        }

        var shape = new ForecastShape(
            Window: cardWindow!.Value,
            Horizon: cardHorizon!.Value,
            CalendarWidth: calendar is null ? 0 : CalendarFeatures.Width,
            Step: TimeSpan.FromSeconds(step!.Value),
            Quantile: quantile!.Value);
        return new ContractFit(problems, shape, staticBatch);
    }

    private static string Names(IReadOnlyList<TensorInfo> tensors)
        => tensors.Count == 0 ? "(none)" : string.Join(", ", tensors.Select(t => $"'{t.Name}' {t.Describe()}"));

    /// <summary>Checks float32 and rank 2; returns the second dimension when it is static.</summary>
    private static long? CheckMatrix(TensorInfo? tensor, string kind, string columns, List<string> problems)
    {
        if (tensor is null)
        {
            return null;
        }

        if (!tensor.IsTensor)
        {
            problems.Add($"{kind} '{tensor.Name}' is not a tensor; the contract wants float32 [N,{columns}].");
            return null;
        }

        if (tensor.ElementType != TensorElementType.Float)
        {
            problems.Add($"{kind} '{tensor.Name}' is {TensorInfo.TypeName(tensor.ElementType)}; the contract wants float32.");
        }

        if (tensor.Shape.Count != 2)
        {
            problems.Add($"{kind} '{tensor.Name}' has shape {tensor.Describe()} (rank {tensor.Shape.Count}); the contract wants rank 2, [N,{columns}].");
            return null;
        }

        return tensor.Shape[1] >= 0 ? tensor.Shape[1] : null;
    }

    private static long? CheckBatch(IEnumerable<TensorInfo?> tensors, List<string> problems)
    {
        var fixedBatches = tensors
            .Where(t => t is { IsTensor: true } && t.Shape.Count == 2 && t.Shape[0] >= 0)
            .Select(t => (t!.Name, Batch: t.Shape[0]))
            .ToList();
        if (fixedBatches.Select(b => b.Batch).Distinct().Count() > 1)
        {
            problems.Add($"the batch dimension N differs between tensors ({string.Join(", ", fixedBatches.Select(b => $"'{b.Name}' {b.Batch}"))}); it must be the same (or dynamic) everywhere.");
            return null;
        }

        foreach (var zero in fixedBatches.Where(b => b.Batch == 0))
        {
            problems.Add($"tensor '{zero.Name}' has a batch dimension of 0; N must be dynamic or at least 1.");
        }

        return fixedBatches.Count > 0 ? fixedBatches[0].Batch : null;
    }

    private static int? PositiveInt(IReadOnlyDictionary<string, string> card, string key, int max, List<string> problems)
    {
        if (!card.TryGetValue(key, out string? text))
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 && value <= max)
        {
            return value;
        }

        problems.Add($"card key '{key}' is '{text}'; it must be an integer from 1 to {max}.");
        return null;
    }
}

namespace Predictor.Engine.Onnx;

/// <summary>
/// A model file that ONNX Runtime loads but that does not fit the model contract (DESIGN.md): wrong input or output
/// names, types or shapes, missing or invalid card keys. Lists every problem found, not just the first.
/// </summary>
public sealed class ModelContractException : PredictorException
{
    /// <summary>Creates the error for <paramref name="source"/> with every problem found.</summary>
    public ModelContractException(string source, IReadOnlyList<string> problems)
        : base(Format(source, problems))
    {
        Source = source;
        Problems = problems;
    }

    /// <summary>Creates an error with a message only.</summary>
    public ModelContractException(string message)
        : base(message)
    {
        Problems = [message];
    }

    /// <summary>Creates an error with a message and its cause.</summary>
    public ModelContractException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Creates an error with no message; prefer the constructors that say what is wrong.</summary>
    public ModelContractException()
    {
        Problems = [];
    }

    /// <summary>Each problem, one sentence each, in the order checked (inputs, outputs, card).</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Format(string source, IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        string numbered = string.Join(" ", problems.Select((p, i) => $"({i + 1}) {p}"));
        return $"model '{source}' does not fit the model contract ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}): {numbered} " +
               "Fix: re-export the model with `predictor train` (or the training library's ONNX writer), which writes the contract (README, \"Writing ONNX models\").";
    }
}

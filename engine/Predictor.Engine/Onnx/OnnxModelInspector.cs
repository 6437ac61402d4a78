using Predictor.Engine.Onnx.Native;

namespace Predictor.Engine.Onnx;

/// <summary>A model as ONNX Runtime reads it, and how it fits the model contract.</summary>
/// <param name="Path">The file inspected (full path).</param>
/// <param name="Description">Inputs, outputs, metadata.</param>
/// <param name="Contract">The contract check: every problem, or the forecast shape.</param>
public sealed record ModelInspection(string Path, ModelDescription Description, ContractFit Contract);

/// <summary>Reads a model file's inputs, outputs and card with ONNX Runtime and checks it against the contract (<c>predictor models inspect</c>).</summary>
public static class OnnxModelInspector
{
    /// <summary>Loads <paramref name="path"/> in ONNX Runtime (nothing is run) and checks the contract.</summary>
    /// <exception cref="OnnxRuntimeException">ORT cannot load the file.</exception>
    /// <exception cref="OnnxRuntimeLibraryException">ONNX Runtime itself is missing.</exception>
    public static ModelInspection Inspect(string path, OnnxSessionOptions? options = null)
    {
        using var session = OnnxSession.Open(path, options ?? new OnnxSessionOptions());
        return new ModelInspection(session.Source, session.Description, ModelContractCheck.Check(session.Description));
    }

    /// <summary>The ONNX Runtime version in use (loads the library on first call).</summary>
    public static string RuntimeVersion => OrtApi.Instance.VersionString;
}

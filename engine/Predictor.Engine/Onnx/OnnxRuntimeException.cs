namespace Predictor.Engine.Onnx;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c> in onnxruntime_c_api.h).</summary>
public enum OnnxRuntimeErrorCode
{
    /// <summary>ORT_OK.</summary>
    Ok = 0,

    /// <summary>ORT_FAIL.</summary>
    Fail = 1,

    /// <summary>ORT_INVALID_ARGUMENT.</summary>
    InvalidArgument = 2,

    /// <summary>ORT_NO_SUCHFILE.</summary>
    NoSuchFile = 3,

    /// <summary>ORT_NO_MODEL.</summary>
    NoModel = 4,

    /// <summary>ORT_ENGINE_ERROR.</summary>
    EngineError = 5,

    /// <summary>ORT_RUNTIME_EXCEPTION.</summary>
    RuntimeException = 6,

    /// <summary>ORT_INVALID_PROTOBUF: the file is not a valid ONNX model.</summary>
    InvalidProtobuf = 7,

    /// <summary>ORT_MODEL_LOADED.</summary>
    ModelLoaded = 8,

    /// <summary>ORT_NOT_IMPLEMENTED.</summary>
    NotImplemented = 9,

    /// <summary>ORT_INVALID_GRAPH.</summary>
    InvalidGraph = 10,

    /// <summary>ORT_EP_FAIL.</summary>
    ExecutionProviderFail = 11,
}

/// <summary>
/// ONNX Runtime returned an error status. Carries ORT's code and ORT's own message; <see cref="Exception.Message"/>
/// adds what Predictor was doing and on which file.
/// </summary>
public sealed class OnnxRuntimeException : PredictorException
{
    /// <summary>Creates the error from ORT's code and message and what we were doing.</summary>
    public OnnxRuntimeException(OnnxRuntimeErrorCode errorCode, string runtimeMessage, string message)
        : base(message)
    {
        ErrorCode = errorCode;
        RuntimeMessage = runtimeMessage;
    }

    /// <summary>Creates an error with a message only (code <see cref="OnnxRuntimeErrorCode.Fail"/>).</summary>
    public OnnxRuntimeException(string message)
        : this(OnnxRuntimeErrorCode.Fail, message, message)
    {
    }

    /// <summary>Creates an error with a message and its cause (code <see cref="OnnxRuntimeErrorCode.Fail"/>).</summary>
    public OnnxRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCode = OnnxRuntimeErrorCode.Fail;
        RuntimeMessage = message;
    }

    /// <summary>Creates an error with no message; prefer the constructors that say what is wrong.</summary>
    public OnnxRuntimeException()
    {
        RuntimeMessage = string.Empty;
    }

    /// <summary>ORT's error code.</summary>
    public OnnxRuntimeErrorCode ErrorCode { get; }

    /// <summary>ORT's message, as ORT wrote it.</summary>
    public string RuntimeMessage { get; }
}

/// <summary>
/// ONNX Runtime's native library is missing, cannot be loaded, or is too old. The message names the file looked
/// for, every path tried with the loader's error, and how to fix it (rebuild, or set PREDICTOR_ONNXRUNTIME).
/// </summary>
public sealed class OnnxRuntimeLibraryException : PredictorException
{
    /// <summary>Creates the error with the paths tried.</summary>
    public OnnxRuntimeLibraryException(string message, IReadOnlyList<string> pathsTried)
        : base(message)
    {
        PathsTried = pathsTried;
    }

    /// <summary>Creates the error with a message only.</summary>
    public OnnxRuntimeLibraryException(string message)
        : this(message, [])
    {
    }

    /// <summary>Creates the error with a message and its cause.</summary>
    public OnnxRuntimeLibraryException(string message, Exception innerException)
        : base(message, innerException)
    {
        PathsTried = [];
    }

    /// <summary>Creates an error with no message; prefer the constructors that say what is wrong.</summary>
    public OnnxRuntimeLibraryException()
    {
        PathsTried = [];
    }

    /// <summary>Each candidate tried, with the reason it was not used.</summary>
    public IReadOnlyList<string> PathsTried { get; }
}

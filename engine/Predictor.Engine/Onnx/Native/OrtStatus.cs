using System.Runtime.InteropServices;

namespace Predictor.Engine.Onnx.Native;

/// <summary>The one place an <c>OrtStatus*</c> is looked at: null is success; anything else is read, released, and thrown.</summary>
internal static unsafe class OrtStatus
{
    /// <summary>Throws <see cref="OnnxRuntimeException"/> when <paramref name="status"/> is an error; releases it either way.</summary>
    /// <param name="api">The API table that produced the status.</param>
    /// <param name="status">What an ORT call returned.</param>
    /// <param name="doing">What we were doing, for the message (e.g. "loading model 'x.onnx'"). Only read on error.</param>
    public static void Check(OrtApi api, nint status, string? doing = null)
    {
        if (status == 0)
        {
            return;
        }

        Throw(api, status, doing);
    }

    private static void Throw(OrtApi api, nint status, string? doing)
    {
        OnnxRuntimeErrorCode code;
        string runtimeMessage;
        try
        {
            code = (OnnxRuntimeErrorCode)api.GetErrorCode(status);
            runtimeMessage = Marshal.PtrToStringUTF8((nint)api.GetErrorMessage(status)) ?? string.Empty;
        }
        finally
        {
            api.ReleaseStatus(status);
        }

        string what = doing is null ? "ONNX Runtime failed" : $"ONNX Runtime failed while {doing}";
        throw new OnnxRuntimeException(code, runtimeMessage, $"{what}: [{code}] {runtimeMessage.ReplaceLineEndings(" ").Trim()}");
    }
}

namespace Predictor.Engine.Onnx.Native;

/// <summary>
/// The process's one <c>OrtEnv</c> (ORT allows one per process), created on first use and kept until exit: sessions
/// refer to it, so releasing it while any session lives would be a use-after-free.
/// </summary>
internal static unsafe class OrtEnvironment
{
    // ORT_LOGGING_LEVEL_ERROR: warnings (e.g. unused initializers) would reach the CLI's stderr; errors still come back
    // to us as statuses, which is how we report them.
    private const int LoggingLevelError = 3;

    private static readonly Lazy<OrtEnvHandle> LazyEnv = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    public static OrtEnvHandle Handle => LazyEnv.Value;

    private static OrtEnvHandle Create()
    {
        var api = OrtApi.Instance;
        var env = new OrtEnvHandle(api);
        nint pointer;
        fixed (byte* logId = "predictor"u8)
        {
            OrtStatus.Check(api, api.CreateEnv(LoggingLevelError, logId, &pointer), "creating the ONNX Runtime environment");
        }

        env.Own(pointer);
        return env;
    }
}

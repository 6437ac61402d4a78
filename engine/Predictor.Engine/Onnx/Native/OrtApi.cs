using System.Runtime.InteropServices;

namespace Predictor.Engine.Onnx.Native;

/// <summary>
/// The entries of ONNX Runtime's C API table (<c>struct OrtApi</c> in <c>onnxruntime_c_api.h</c>) that the binding uses,
/// as unmanaged function pointers. The table is an array of pointers whose order never changes between releases
/// (new functions are appended), so an entry is read at its fixed index; the indexes below were counted from the 1.30.0
/// header (<c>ORT_API_VERSION 30</c>). A wrong index calls the wrong function: OrtApiTests calls entries spread over
/// the table (0, 1, 2, 3, 30, 36, 49, 69, 93, 111, 123, 130) so a mis-count fails there, not in production.
/// </summary>
/// <remarks>
/// Every function returning <c>OrtStatus*</c> returns null on success; a non-null status is turned into an
/// <see cref="OnnxRuntimeException"/> by <see cref="OrtStatus.Check"/> (the one status helper), which also releases it.
/// Opaque ORT objects travel as <see cref="nint"/> here and only inside the binding; callers see SafeHandles.
/// </remarks>
internal sealed unsafe class OrtApi
{
    /// <summary>The C API version the binding was written against (ORT_API_VERSION of ONNX Runtime 1.30.0).</summary>
    public const uint ApiVersion = 30;

    // Indexes into struct OrtApi, counted from onnxruntime_c_api.h 1.30.0 (0-based).
    internal const int CreateStatusIndex = 0;
    internal const int GetErrorCodeIndex = 1;
    internal const int GetErrorMessageIndex = 2;
    internal const int CreateEnvIndex = 3;
    internal const int CreateSessionIndex = 7;
    internal const int CreateSessionFromArrayIndex = 8;
    internal const int RunIndex = 9;
    internal const int CreateSessionOptionsIndex = 10;
    internal const int SetSessionExecutionModeIndex = 13;
    internal const int SetSessionGraphOptimizationLevelIndex = 23;
    internal const int SetIntraOpNumThreadsIndex = 24;
    internal const int SetInterOpNumThreadsIndex = 25;
    internal const int SessionGetInputCountIndex = 30;
    internal const int SessionGetOutputCountIndex = 31;
    internal const int SessionGetInputTypeInfoIndex = 33;
    internal const int SessionGetOutputTypeInfoIndex = 34;
    internal const int SessionGetInputNameIndex = 36;
    internal const int SessionGetOutputNameIndex = 37;
    internal const int CreateTensorWithDataAsOrtValueIndex = 49;
    internal const int CastTypeInfoToTensorInfoIndex = 55;
    internal const int GetOnnxTypeFromTypeInfoIndex = 56;
    internal const int GetTensorElementTypeIndex = 60;
    internal const int GetDimensionsCountIndex = 61;
    internal const int GetDimensionsIndex = 62;
    internal const int GetSymbolicDimensionsIndex = 63;
    internal const int CreateCpuMemoryInfoIndex = 69;
    internal const int AllocatorFreeIndex = 76;
    internal const int GetAllocatorWithDefaultOptionsIndex = 78;
    internal const int ReleaseEnvIndex = 92;
    internal const int ReleaseStatusIndex = 93;
    internal const int ReleaseMemoryInfoIndex = 94;
    internal const int ReleaseSessionIndex = 95;
    internal const int ReleaseValueIndex = 96;
    internal const int ReleaseTypeInfoIndex = 98;
    internal const int ReleaseSessionOptionsIndex = 100;
    internal const int SessionGetModelMetadataIndex = 111;
    internal const int ModelMetadataGetProducerNameIndex = 112;
    internal const int ModelMetadataGetGraphNameIndex = 113;
    internal const int ModelMetadataGetDescriptionIndex = 115;
    internal const int ModelMetadataLookupCustomMetadataMapIndex = 116;
    internal const int ModelMetadataGetVersionIndex = 117;
    internal const int ReleaseModelMetadataIndex = 118;
    internal const int ModelMetadataGetCustomMetadataMapKeysIndex = 123;
    internal const int AddSessionConfigEntryIndex = 130;

    /// <summary>The highest index read: the table of API version <see cref="ApiVersion"/> has far more entries.</summary>
    internal const int HighestIndexUsed = AddSessionConfigEntryIndex;

    private OrtApi(nint table, string versionString)
    {
        var entries = (nint*)table;
        VersionString = versionString;
        CreateStatus = (delegate* unmanaged<int, byte*, nint>)entries[CreateStatusIndex];
        GetErrorCode = (delegate* unmanaged<nint, int>)entries[GetErrorCodeIndex];
        GetErrorMessage = (delegate* unmanaged<nint, byte*>)entries[GetErrorMessageIndex];
        CreateEnv = (delegate* unmanaged<int, byte*, nint*, nint>)entries[CreateEnvIndex];
        CreateSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)entries[CreateSessionIndex];
        CreateSessionFromArray = (delegate* unmanaged<nint, void*, nuint, nint, nint*, nint>)entries[CreateSessionFromArrayIndex];
        Run = (delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)entries[RunIndex];
        CreateSessionOptions = (delegate* unmanaged<nint*, nint>)entries[CreateSessionOptionsIndex];
        SetSessionExecutionMode = (delegate* unmanaged<nint, int, nint>)entries[SetSessionExecutionModeIndex];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)entries[SetSessionGraphOptimizationLevelIndex];
        SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)entries[SetIntraOpNumThreadsIndex];
        SetInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)entries[SetInterOpNumThreadsIndex];
        AddSessionConfigEntry = (delegate* unmanaged<nint, byte*, byte*, nint>)entries[AddSessionConfigEntryIndex];
        SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)entries[SessionGetInputCountIndex];
        SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)entries[SessionGetOutputCountIndex];
        SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)entries[SessionGetInputTypeInfoIndex];
        SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)entries[SessionGetOutputTypeInfoIndex];
        SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)entries[SessionGetInputNameIndex];
        SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)entries[SessionGetOutputNameIndex];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)entries[CreateTensorWithDataAsOrtValueIndex];
        CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)entries[CastTypeInfoToTensorInfoIndex];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged<nint, int*, nint>)entries[GetOnnxTypeFromTypeInfoIndex];
        GetTensorElementType = (delegate* unmanaged<nint, int*, nint>)entries[GetTensorElementTypeIndex];
        GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)entries[GetDimensionsCountIndex];
        GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)entries[GetDimensionsIndex];
        GetSymbolicDimensions = (delegate* unmanaged<nint, byte**, nuint, nint>)entries[GetSymbolicDimensionsIndex];
        CreateCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)entries[CreateCpuMemoryInfoIndex];
        AllocatorFree = (delegate* unmanaged<nint, void*, nint>)entries[AllocatorFreeIndex];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)entries[GetAllocatorWithDefaultOptionsIndex];
        ReleaseEnv = (delegate* unmanaged<nint, void>)entries[ReleaseEnvIndex];
        ReleaseStatus = (delegate* unmanaged<nint, void>)entries[ReleaseStatusIndex];
        ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)entries[ReleaseMemoryInfoIndex];
        ReleaseSession = (delegate* unmanaged<nint, void>)entries[ReleaseSessionIndex];
        ReleaseValue = (delegate* unmanaged<nint, void>)entries[ReleaseValueIndex];
        ReleaseTypeInfo = (delegate* unmanaged<nint, void>)entries[ReleaseTypeInfoIndex];
        ReleaseSessionOptions = (delegate* unmanaged<nint, void>)entries[ReleaseSessionOptionsIndex];
        SessionGetModelMetadata = (delegate* unmanaged<nint, nint*, nint>)entries[SessionGetModelMetadataIndex];
        ModelMetadataGetProducerName = (delegate* unmanaged<nint, nint, byte**, nint>)entries[ModelMetadataGetProducerNameIndex];
        ModelMetadataGetGraphName = (delegate* unmanaged<nint, nint, byte**, nint>)entries[ModelMetadataGetGraphNameIndex];
        ModelMetadataGetDescription = (delegate* unmanaged<nint, nint, byte**, nint>)entries[ModelMetadataGetDescriptionIndex];
        ModelMetadataLookupCustomMetadataMap = (delegate* unmanaged<nint, nint, byte*, byte**, nint>)entries[ModelMetadataLookupCustomMetadataMapIndex];
        ModelMetadataGetVersion = (delegate* unmanaged<nint, long*, nint>)entries[ModelMetadataGetVersionIndex];
        ReleaseModelMetadata = (delegate* unmanaged<nint, void>)entries[ReleaseModelMetadataIndex];
        ModelMetadataGetCustomMetadataMapKeys = (delegate* unmanaged<nint, nint, byte***, long*, nint>)entries[ModelMetadataGetCustomMetadataMapKeysIndex];

        nint allocator;
        OrtStatus.Check(this, GetAllocatorWithDefaultOptions(&allocator));
        DefaultAllocator = allocator;
    }

    /// <summary>What <c>OrtGetApiBase()-&gt;GetVersionString()</c> returned, e.g. "1.30.0".</summary>
    public string VersionString { get; }

    /// <summary>ORT's default CPU allocator: owned by ORT, never released. Frees strings ORT returns to us.</summary>
    public nint DefaultAllocator { get; }

    public delegate* unmanaged<int, byte*, nint> CreateStatus { get; }

    public delegate* unmanaged<nint, int> GetErrorCode { get; }

    public delegate* unmanaged<nint, byte*> GetErrorMessage { get; }

    public delegate* unmanaged<int, byte*, nint*, nint> CreateEnv { get; }

    public delegate* unmanaged<nint, byte*, nint, nint*, nint> CreateSession { get; }

    public delegate* unmanaged<nint, void*, nuint, nint, nint*, nint> CreateSessionFromArray { get; }

    /// <summary>(session, run options or 0, input names, input values, input count, output names, output count, output values).</summary>
    public delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint> Run { get; }

    public delegate* unmanaged<nint*, nint> CreateSessionOptions { get; }

    public delegate* unmanaged<nint, int, nint> SetSessionExecutionMode { get; }

    public delegate* unmanaged<nint, int, nint> SetSessionGraphOptimizationLevel { get; }

    public delegate* unmanaged<nint, int, nint> SetIntraOpNumThreads { get; }

    public delegate* unmanaged<nint, int, nint> SetInterOpNumThreads { get; }

    public delegate* unmanaged<nint, byte*, byte*, nint> AddSessionConfigEntry { get; }

    public delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount { get; }

    public delegate* unmanaged<nint, nuint*, nint> SessionGetOutputCount { get; }

    public delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo { get; }

    public delegate* unmanaged<nint, nuint, nint*, nint> SessionGetOutputTypeInfo { get; }

    public delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetInputName { get; }

    public delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetOutputName { get; }

    /// <summary>(memory info, data, data length in bytes, shape, rank, element type, out value). ORT does not copy the data.</summary>
    public delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue { get; }

    /// <summary>The tensor info it returns belongs to the type info: never released on its own.</summary>
    public delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo { get; }

    public delegate* unmanaged<nint, int*, nint> GetOnnxTypeFromTypeInfo { get; }

    public delegate* unmanaged<nint, int*, nint> GetTensorElementType { get; }

    public delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount { get; }

    public delegate* unmanaged<nint, long*, nuint, nint> GetDimensions { get; }

    public delegate* unmanaged<nint, byte**, nuint, nint> GetSymbolicDimensions { get; }

    public delegate* unmanaged<int, int, nint*, nint> CreateCpuMemoryInfo { get; }

    public delegate* unmanaged<nint, void*, nint> AllocatorFree { get; }

    public delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions { get; }

    public delegate* unmanaged<nint, void> ReleaseEnv { get; }

    public delegate* unmanaged<nint, void> ReleaseStatus { get; }

    public delegate* unmanaged<nint, void> ReleaseMemoryInfo { get; }

    public delegate* unmanaged<nint, void> ReleaseSession { get; }

    public delegate* unmanaged<nint, void> ReleaseValue { get; }

    public delegate* unmanaged<nint, void> ReleaseTypeInfo { get; }

    public delegate* unmanaged<nint, void> ReleaseSessionOptions { get; }

    public delegate* unmanaged<nint, nint*, nint> SessionGetModelMetadata { get; }

    public delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetProducerName { get; }

    public delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetGraphName { get; }

    public delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetDescription { get; }

    public delegate* unmanaged<nint, nint, byte*, byte**, nint> ModelMetadataLookupCustomMetadataMap { get; }

    public delegate* unmanaged<nint, long*, nint> ModelMetadataGetVersion { get; }

    public delegate* unmanaged<nint, void> ReleaseModelMetadata { get; }

    /// <summary>(metadata, allocator, out keys, out key count): the key array and each key are freed with the allocator.</summary>
    public delegate* unmanaged<nint, nint, byte***, long*, nint> ModelMetadataGetCustomMetadataMapKeys { get; }

    /// <summary>
    /// The process-wide table, loaded on first use from the library <see cref="OrtLibrary"/> finds. Throws
    /// <see cref="OnnxRuntimeLibraryException"/> (every time it is asked, with the same message) when the library is
    /// missing, cannot be loaded, or does not provide <see cref="ApiVersion"/>.
    /// </summary>
    public static OrtApi Instance => LazyInstance.Value;

    private static readonly Lazy<OrtApi> LazyInstance = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private static OrtApi Load()
    {
        var library = OrtLibrary.Load();
        nint getApiBase = NativeLibrary.GetExport(library.Handle, "OrtGetApiBase");
        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
        var apiBase = (nint*)((delegate* unmanaged<nint>)getApiBase)();
        if (apiBase == null)
        {
            throw new OnnxRuntimeLibraryException(
                $"OrtGetApiBase() returned null in '{library.Path}'; the file is not a working ONNX Runtime. " +
                $"Rebuild to fetch ONNX Runtime {OrtLibrary.ExpectedVersion}, or set {OrtLibrary.EnvironmentVariable} to a working libonnxruntime.so.");
        }

        var getApi = (delegate* unmanaged<uint, nint>)apiBase[0];
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
        string version = Marshal.PtrToStringUTF8((nint)getVersionString()) ?? "(unknown)";
        nint table = getApi(ApiVersion);
        if (table == 0)
        {
            throw new OnnxRuntimeLibraryException(
                $"ONNX Runtime {version} loaded from '{library.Path}' does not provide C API version {ApiVersion}, which Predictor needs " +
                $"(ONNX Runtime {OrtLibrary.ExpectedVersion} or newer). Point {OrtLibrary.EnvironmentVariable} at ONNX Runtime {OrtLibrary.ExpectedVersion}+ " +
                $"or unset it to use the copy the build fetched.");
        }

        return new OrtApi(table, version);
    }
}

using System.Runtime.InteropServices;
using System.Text;

namespace Predictor.Engine.Onnx.Native;

/// <summary>
/// One ONNX Runtime inference session: created from a file or bytes, describes the model (inputs, outputs, metadata),
/// and runs through <see cref="OnnxBinding"/>s over pre-allocated tensors. Not thread-safe for Run (one binding is one
/// set of buffers); describing is done once, at creation.
/// </summary>
internal sealed unsafe class OnnxSession : IDisposable
{
    private readonly OrtApi _api;
    private readonly OrtSessionHandle _session;

    private OnnxSession(OrtApi api, OrtSessionHandle session, string source)
    {
        _api = api;
        _session = session;
        Source = source;
        Description = Describe();
    }

    /// <summary>Where the model came from, for messages: its path, or a name given for bytes.</summary>
    public string Source { get; }

    /// <summary>Inputs, outputs and metadata as ORT read them.</summary>
    public ModelDescription Description { get; }

    internal OrtApi Api => _api;

    internal OrtSessionHandle Handle => _session;

    /// <summary>Loads the model at <paramref name="path"/>. ORT errors (missing file, not ONNX, invalid graph) become <see cref="OnnxRuntimeException"/>.</summary>
    public static OnnxSession Open(string path, OnnxSessionOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            throw new PredictorException($"Model file '{fullPath}' is a directory. Give the path of an ONNX model inside it (e.g. models/naive.onnx).");
        }

        if (File.Exists(fullPath) && new FileInfo(fullPath).Length == 0)
        {
            // ORT would say "ModelProto does not have a graph" with its C++ signature; the cause is plainer.
            throw new PredictorException(
                $"Model file '{fullPath}' is empty (0 bytes), not an ONNX model; write it again with `predictor train` or `predictor models write-baseline`.");
        }

        if (!File.Exists(fullPath))
        {
            // Said here, in our words: ORT's own "[NoSuchFile] Load model ... failed" names the file but not the fix.
            throw new PredictorException(
                $"Model file '{fullPath}' does not exist. Give the path of an ONNX model (e.g. models/naive.onnx), " +
                "or write one with `predictor train` or `predictor models write-baseline`.");
        }

        var api = OrtApi.Instance;
        var env = OrtEnvironment.Handle;
        using var sessionOptions = CreateOptions(api, options);
        var session = new OrtSessionHandle(api);
        nint pointer = 0;
        byte[] utf8Path = NullTerminatedUtf8(fullPath);
        fixed (byte* p = utf8Path)
        {
            OrtStatus.Check(api, api.CreateSession(env.Pointer, p, sessionOptions.Pointer, &pointer), $"loading model '{fullPath}'");
        }

        session.Own(pointer);
        return Wrap(api, session, fullPath);
    }

    /// <summary>Loads a model from its serialized bytes (a ModelProto).</summary>
    public static OnnxSession FromBytes(ReadOnlySpan<byte> model, OnnxSessionOptions options, string sourceName = "(in-memory model)")
    {
        ArgumentNullException.ThrowIfNull(options);
        var api = OrtApi.Instance;
        var env = OrtEnvironment.Handle;
        using var sessionOptions = CreateOptions(api, options);
        var session = new OrtSessionHandle(api);
        nint pointer = 0;
        fixed (byte* p = model)
        {
            OrtStatus.Check(api, api.CreateSessionFromArray(env.Pointer, p, (nuint)model.Length, sessionOptions.Pointer, &pointer), $"loading model {sourceName}");
        }

        session.Own(pointer);
        return Wrap(api, session, sourceName);
    }

    /// <summary>
    /// Prepares a Run over the given tensors: names are converted to UTF-8 and the name and value pointer arrays are
    /// built once, so <see cref="OnnxBinding.Run"/> allocates nothing.
    /// </summary>
    public OnnxBinding Bind(IReadOnlyList<(string Name, FloatTensor Tensor)> inputs, IReadOnlyList<(string Name, FloatTensor Tensor)> outputs)
        => new(this, inputs, outputs);

    public void Dispose() => _session.Dispose();

    private static OnnxSession Wrap(OrtApi api, OrtSessionHandle session, string source)
    {
        try
        {
            return new OnnxSession(api, session, source);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static OrtSessionOptionsHandle CreateOptions(OrtApi api, OnnxSessionOptions options)
    {
        var handle = new OrtSessionOptionsHandle(api);
        nint pointer;
        OrtStatus.Check(api, api.CreateSessionOptions(&pointer), "creating session options");
        handle.Own(pointer);
        try
        {
            OrtStatus.Check(api, api.SetIntraOpNumThreads(pointer, options.IntraOpThreads), "setting the intra-op thread count");
            // Sequential execution (ORT_SEQUENTIAL, the default) with one inter-op thread: no second pool.
            OrtStatus.Check(api, api.SetSessionExecutionMode(pointer, 0), "setting sequential execution");
            OrtStatus.Check(api, api.SetInterOpNumThreads(pointer, 1), "setting the inter-op thread count");
            OrtStatus.Check(api, api.SetSessionGraphOptimizationLevel(pointer, (int)options.Optimization), "setting the graph optimisation level");
            if (!options.AllowSpinning)
            {
                fixed (byte* key = "session.intra_op.allow_spinning\0"u8, value = "0\0"u8)
                {
                    OrtStatus.Check(api, api.AddSessionConfigEntry(pointer, key, value), "turning intra-op spinning off");
                }
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        return handle;
    }

    internal static byte[] NullTerminatedUtf8(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    private ModelDescription Describe()
    {
        nint session = _session.Pointer;
        nuint inputCount;
        nuint outputCount;
        OrtStatus.Check(_api, _api.SessionGetInputCount(session, &inputCount), "counting the model's inputs");
        OrtStatus.Check(_api, _api.SessionGetOutputCount(session, &outputCount), "counting the model's outputs");

        var inputs = new List<TensorInfo>();
        for (nuint i = 0; i < inputCount; i++)
        {
            byte* name;
            OrtStatus.Check(_api, _api.SessionGetInputName(session, i, _api.DefaultAllocator, &name), "reading an input name");
            nint typeInfo;
            string inputName = TakeString(name);
            OrtStatus.Check(_api, _api.SessionGetInputTypeInfo(session, i, &typeInfo), $"reading the type of input '{inputName}'");
            inputs.Add(ReadTensorInfo(inputName, typeInfo));
        }

        var outputs = new List<TensorInfo>();
        for (nuint i = 0; i < outputCount; i++)
        {
            byte* name;
            OrtStatus.Check(_api, _api.SessionGetOutputName(session, i, _api.DefaultAllocator, &name), "reading an output name");
            nint typeInfo;
            string outputName = TakeString(name);
            OrtStatus.Check(_api, _api.SessionGetOutputTypeInfo(session, i, &typeInfo), $"reading the type of output '{outputName}'");
            outputs.Add(ReadTensorInfo(outputName, typeInfo));
        }

        using var metadata = new OrtModelMetadataHandle(_api);
        nint metadataPointer;
        OrtStatus.Check(_api, _api.SessionGetModelMetadata(session, &metadataPointer), "reading the model's metadata");
        metadata.Own(metadataPointer);

        var custom = new SortedDictionary<string, string>(StringComparer.Ordinal);
        byte** keys;
        long keyCount;
        OrtStatus.Check(_api, _api.ModelMetadataGetCustomMetadataMapKeys(metadataPointer, _api.DefaultAllocator, &keys, &keyCount), "listing the model's metadata_props");
        if (keys != null)
        {
            using var keyArray = new OrtAllocatedHandle(_api);
            keyArray.Own((nint)keys);
            for (long k = 0; k < keyCount; k++)
            {
                string key = TakeString(keys[k]);
                byte* value;
                fixed (byte* utf8Key = NullTerminatedUtf8(key))
                {
                    OrtStatus.Check(_api, _api.ModelMetadataLookupCustomMetadataMap(metadataPointer, _api.DefaultAllocator, utf8Key, &value), $"reading metadata_props['{key}']");
                }

                custom[key] = value == null ? string.Empty : TakeString(value);
            }
        }

        byte* producer;
        byte* graph;
        byte* description;
        long version;
        OrtStatus.Check(_api, _api.ModelMetadataGetProducerName(metadataPointer, _api.DefaultAllocator, &producer), "reading producer_name");
        string producerName = TakeString(producer);
        OrtStatus.Check(_api, _api.ModelMetadataGetGraphName(metadataPointer, _api.DefaultAllocator, &graph), "reading the graph name");
        string graphName = TakeString(graph);
        OrtStatus.Check(_api, _api.ModelMetadataGetDescription(metadataPointer, _api.DefaultAllocator, &description), "reading doc_string");
        string descriptionText = TakeString(description);
        OrtStatus.Check(_api, _api.ModelMetadataGetVersion(metadataPointer, &version), "reading model_version");

        return new ModelDescription(inputs, outputs, custom, producerName, graphName, descriptionText, version, _api.VersionString);
    }

    private TensorInfo ReadTensorInfo(string name, nint typeInfoPointer)
    {
        using var typeInfo = new OrtTypeInfoHandle(_api);
        typeInfo.Own(typeInfoPointer);
        int onnxType;
        OrtStatus.Check(_api, _api.GetOnnxTypeFromTypeInfo(typeInfoPointer, &onnxType), $"reading the kind of '{name}'");
        const int OnnxTypeTensor = 1;
        if (onnxType != OnnxTypeTensor)
        {
            return new TensorInfo(name, IsTensor: false, TensorElementType.Undefined, [], []);
        }

        // The tensor info belongs to the type info (released with it above).
        nint tensorInfo;
        OrtStatus.Check(_api, _api.CastTypeInfoToTensorInfo(typeInfoPointer, &tensorInfo), $"reading the tensor type of '{name}'");
        int elementType;
        nuint rank;
        OrtStatus.Check(_api, _api.GetTensorElementType(tensorInfo, &elementType), $"reading the element type of '{name}'");
        OrtStatus.Check(_api, _api.GetDimensionsCount(tensorInfo, &rank), $"reading the rank of '{name}'");
        var dims = new long[(int)rank];
        var symbolic = new nint[(int)rank];
        fixed (long* d = dims)
        fixed (nint* s = symbolic)
        {
            OrtStatus.Check(_api, _api.GetDimensions(tensorInfo, d, rank), $"reading the shape of '{name}'");
            OrtStatus.Check(_api, _api.GetSymbolicDimensions(tensorInfo, (byte**)s, rank), $"reading the dimension names of '{name}'");
        }

        // Symbolic names are owned by the tensor info: copied, not freed.
        var names = symbolic.Select(p => p == 0 ? string.Empty : Marshal.PtrToStringUTF8(p) ?? string.Empty).ToArray();
        var type = Enum.IsDefined((TensorElementType)elementType) ? (TensorElementType)elementType : TensorElementType.Undefined;
        return new TensorInfo(name, IsTensor: true, type, dims, names);
    }

    /// <summary>Copies a string ORT allocated with the default allocator, then frees it.</summary>
    private string TakeString(byte* text)
    {
        if (text == null)
        {
            return string.Empty;
        }

        using var owned = new OrtAllocatedHandle(_api);
        owned.Own((nint)text);
        return Marshal.PtrToStringUTF8((nint)text) ?? string.Empty;
    }
}

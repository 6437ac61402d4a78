namespace Predictor.Engine.Onnx.Native;

/// <summary>
/// A float32 tensor whose data lives in a managed array on the pinned object heap, wrapped by an OrtValue that points
/// at it (CreateTensorWithDataAsOrtValue: ORT reads and writes the array in place, no copy). The array never moves, so
/// no GCHandle is needed; this object keeps it alive as long as the OrtValue exists.
/// </summary>
internal sealed unsafe class FloatTensor : IDisposable
{
    private static readonly Lazy<OrtMemoryInfoHandle> CpuMemory = new(CreateCpuMemoryInfo, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly float[] _storage;
    private readonly long[] _shape;

    private FloatTensor(float[] storage, long[] shape, OrtValueHandle value)
    {
        _storage = storage;
        _shape = shape;
        Value = value;
    }

    /// <summary>The elements, row-major, sized to the shape (a view of the storage, which may be longer).</summary>
    public Span<float> Data => _storage.AsSpan(0, ElementCount);

    /// <summary>The tensor's dimensions.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    public int ElementCount { get; private init; }

    internal OrtValueHandle Value { get; }

    /// <summary>Allocates pinned storage for <paramref name="shape"/> and wraps it.</summary>
    public static FloatTensor Allocate(ReadOnlySpan<long> shape) => Over(NewStorage(Count(shape)), shape);

    /// <summary>A pinned array for tensors of up to <paramref name="elements"/> floats (see <see cref="Over"/>).</summary>
    public static float[] NewStorage(int elements) => GC.AllocateArray<float>(elements, pinned: true);

    /// <summary>
    /// Wraps the first prod(<paramref name="shape"/>) floats of <paramref name="storage"/>, which must come from
    /// <see cref="NewStorage"/> (pinned). Several tensors may share one storage, e.g. [1,W], [2,W] ... [N,W] over one
    /// array of N×W floats, so a batch of any size up to N runs without copying into a new buffer.
    /// </summary>
    public static FloatTensor Over(float[] storage, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(storage);
        int count = Count(shape);
        if (count > storage.Length)
        {
            throw new ArgumentException($"A tensor of {count} floats does not fit in storage of {storage.Length}.", nameof(shape));
        }

        var api = OrtApi.Instance;
        var memory = CpuMemory.Value;
        var value = new OrtValueHandle(api);
        long[] dims = shape.ToArray();
        nint pointer;
        fixed (float* data = storage)
        fixed (long* d = dims)
        {
            const int ElementTypeFloat = 1;
            OrtStatus.Check(
                api,
                api.CreateTensorWithDataAsOrtValue(memory.Pointer, data, (nuint)count * sizeof(float), d, (nuint)dims.Length, ElementTypeFloat, &pointer),
                $"creating a float32 tensor of shape [{string.Join(",", dims)}]");
        }

        value.Own(pointer);
        return new FloatTensor(storage, dims, value) { ElementCount = count };
    }

    public void Dispose() => Value.Dispose();

    private static int Count(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Tensor dimensions must be known and non-negative; got {d}.", nameof(shape));
            }

            count = checked(count * d);
        }

        return checked((int)count);
    }

    private static OrtMemoryInfoHandle CreateCpuMemoryInfo()
    {
        var api = OrtApi.Instance;
        var info = new OrtMemoryInfoHandle(api);
        nint pointer;
        const int OrtArenaAllocator = 1;
        const int OrtMemTypeDefault = 0;
        OrtStatus.Check(api, api.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &pointer), "creating CPU memory info");
        info.Own(pointer);
        return info;
    }
}

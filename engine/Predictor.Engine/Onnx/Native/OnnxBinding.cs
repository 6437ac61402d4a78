using System.Text;

namespace Predictor.Engine.Onnx.Native;

/// <summary>
/// A prepared Run: the session, its input and output names as null-terminated UTF-8, and the arrays of name and
/// OrtValue pointers ORT's Run takes, all built once in unmanaged memory. <see cref="Run"/> then passes those arrays
/// and allocates no managed memory: ORT reads the inputs and writes the outputs in place, in the tensors' pinned arrays.
/// </summary>
internal sealed unsafe class OnnxBinding : IDisposable
{
    private readonly OnnxSession _session;
    private readonly FloatTensor[] _tensors;
    private readonly NativeBufferHandle _names;
    private readonly NativeBufferHandle _pointers;
    private readonly nuint _inputCount;
    private readonly nuint _outputCount;
    private readonly string _describe;

    internal OnnxBinding(OnnxSession session, IReadOnlyList<(string Name, FloatTensor Tensor)> inputs, IReadOnlyList<(string Name, FloatTensor Tensor)> outputs)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        _session = session;
        _inputCount = (nuint)inputs.Count;
        _outputCount = (nuint)outputs.Count;
        var all = inputs.Concat(outputs).ToArray();
        _tensors = all.Select(x => x.Tensor).ToArray();
        _describe = $"running model {session.Source} (inputs {string.Join(", ", inputs.Select(Shape))}; outputs {string.Join(", ", outputs.Select(Shape))})";

        int nameBytes = all.Sum(x => Encoding.UTF8.GetByteCount(x.Name) + 1);
        _names = new NativeBufferHandle((nuint)nameBytes);
        // Layout of _pointers: [input names][input values][output names][output values].
        _pointers = new NativeBufferHandle((nuint)(2 * all.Length * sizeof(nint)));

        byte* nameCursor = (byte*)_names.Pointer;
        var table = (nint*)_pointers.Pointer;
        for (int i = 0; i < all.Length; i++)
        {
            bool isInput = i < inputs.Count;
            int slot = isInput ? i : i - inputs.Count;
            nint* names = isInput ? table : table + (2 * inputs.Count);
            nint* values = names + (isInput ? inputs.Count : outputs.Count);
            int written = Encoding.UTF8.GetBytes(all[i].Name, new Span<byte>(nameCursor, nameBytes - (int)(nameCursor - (byte*)_names.Pointer)));
            nameCursor[written] = 0;
            names[slot] = (nint)nameCursor;
            values[slot] = all[i].Tensor.Value.Pointer;
            nameCursor += written + 1;
        }
    }

    /// <summary>Runs the model once: reads the input tensors' arrays, writes the output tensors' arrays.</summary>
    /// <exception cref="OnnxRuntimeException">ORT refused the run (e.g. a shape that does not fit the graph).</exception>
    public void Run()
    {
        bool addedSession = false;
        try
        {
            // Keeps the session alive across the native call even if another thread disposes it.
            _session.Handle.DangerousAddRef(ref addedSession);
            var table = (nint*)_pointers.Pointer;
            nint* inputNames = table;
            nint* inputValues = table + _inputCount;
            nint* outputNames = table + (2 * _inputCount);
            nint* outputValues = outputNames + _outputCount;
            var api = _session.Api;
            nint status = api.Run(_session.Handle.Pointer, 0, inputNames, inputValues, _inputCount, outputNames, _outputCount, outputValues);
            if (status != 0)
            {
                OrtStatus.Check(api, status, _describe);
            }
        }
        finally
        {
            if (addedSession)
            {
                _session.Handle.DangerousRelease();
            }
        }
    }

    /// <summary>Releases the name and pointer arrays. The tensors belong to whoever created them.</summary>
    public void Dispose()
    {
        _names.Dispose();
        _pointers.Dispose();
        GC.KeepAlive(_tensors);
    }

    private static string Shape((string Name, FloatTensor Tensor) x) => $"{x.Name}[{string.Join(",", x.Tensor.Shape.ToArray())}]";
}

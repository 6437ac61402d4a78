using System.Buffers.Binary;
using Google.Protobuf;
using Predictor.Training.Onnx.Proto;

namespace Predictor.Training.Onnx;

/// <summary>
/// A small, general ONNX graph builder over the generated protobuf messages: inputs, outputs, initializers and
/// nodes in the order they are added, plus the operator sets they need. It knows nothing of forecasting; the model
/// contract (<see cref="ContractModelBuilder"/>) is built on top of it, and so is any other exporter (e.g. a
/// boosted-tree model adds an <c>ai.onnx.ml</c> TreeEnsembleRegressor node with <see cref="AddNode"/> after
/// <see cref="UseOpset"/>(<see cref="MlDomain"/>, 3)).
/// </summary>
/// <remarks>
/// Bytes are deterministic: everything is emitted in insertion order (metadata in the order given), tensors are
/// stored as little-endian <c>raw_data</c>, and nothing time- or machine-dependent is written, so the same model
/// built twice serializes to identical bytes.
/// </remarks>
internal sealed class GraphBuilder
{
    /// <summary>The default ONNX operator set domain (written as the empty string).</summary>
    public const string OnnxDomain = "";

    /// <summary>The classical-ML operator set (TreeEnsembleRegressor, ...).</summary>
    public const string MlDomain = "ai.onnx.ml";

    /// <summary>
    /// IR version 8 (ONNX 1.10+). Opset 17 needs IR ≥ 8; Debian's python3-onnx 1.12 checks up to IR 8, and every
    /// ONNX Runtime since 1.10 loads it.
    /// </summary>
    public const long IrVersion = 8;

    /// <summary>The ai.onnx opset the writer targets (the contract requires ≥ 13).</summary>
    public const int DefaultOnnxOpset = 17;

    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _opsets = new(StringComparer.Ordinal);

    /// <summary>Creates an empty graph that imports ai.onnx at <see cref="DefaultOnnxOpset"/>.</summary>
    public GraphBuilder(string graphName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        _graph = new GraphProto { Name = graphName };
        _opsets[OnnxDomain] = DefaultOnnxOpset;
    }

    /// <summary>Declares that nodes of <paramref name="domain"/> are used at (at least) <paramref name="version"/>.</summary>
    public GraphBuilder UseOpset(string domain, int version)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        _opsets[domain] = _opsets.TryGetValue(domain, out long v) ? Math.Max(v, version) : version;
        return this;
    }

    /// <summary>Adds a float32 graph input; a null dimension is the symbolic batch dimension <c>N</c>.</summary>
    public string AddInput(string name, params long?[] dims)
    {
        Claim(name);
        _graph.Input.Add(ValueInfo(name, TensorProto.Types.DataType.Float, dims));
        return name;
    }

    /// <summary>Adds a float32 graph output; a null dimension is the symbolic batch dimension <c>N</c>.</summary>
    public string AddOutput(string name, params long?[] dims)
    {
        // A graph output is a name some node (or an input) produces; it is declared here and claimed by its producer.
        if (_graph.Output.Any(o => o.Name == name))
        {
            throw new InvalidOperationException($"Output '{name}' is already declared in graph '{_graph.Name}'.");
        }

        _graph.Output.Add(ValueInfo(name, TensorProto.Types.DataType.Float, dims));
        return name;
    }

    /// <summary>Adds a float32 constant tensor of shape <paramref name="dims"/> (row-major values).</summary>
    public string AddInitializer(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        CheckElementCount(name, values.Length, dims);
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return AddTensor(name, TensorProto.Types.DataType.Float, bytes, dims);
    }

    /// <summary>Adds an int64 constant tensor (indices, shapes, axes) of shape <paramref name="dims"/>.</summary>
    public string AddInitializer(string name, ReadOnlySpan<long> values, params long[] dims)
    {
        CheckElementCount(name, values.Length, dims);
        var bytes = new byte[values.Length * sizeof(long)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
        }

        return AddTensor(name, TensorProto.Types.DataType.Int64, bytes, dims);
    }

    /// <summary>
    /// Adds a node. Nodes must be added in topological order (ONNX requires it; the checker verifies it).
    /// </summary>
    /// <param name="opType">Operator, e.g. <c>MatMul</c>.</param>
    /// <param name="inputs">Names of the tensors it reads.</param>
    /// <param name="outputs">Names of the tensors it writes; each must be new.</param>
    /// <param name="domain">Operator set domain; <see cref="OnnxDomain"/> for standard operators.</param>
    /// <param name="attributes">Attributes, built with <see cref="OnnxAttributes"/>.</param>
    public GraphBuilder AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string domain = OnnxDomain, params AttributeProto[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (!_opsets.ContainsKey(domain))
        {
            throw new InvalidOperationException($"Node {opType} uses operator set domain '{domain}', which is not imported; call UseOpset(\"{domain}\", version) first.");
        }

        foreach (string output in outputs)
        {
            Claim(output);
        }

        var node = new NodeProto { OpType = opType, Domain = domain, Name = $"{opType}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return this;
    }

    /// <summary>Builds the model: IR version, operator sets (sorted by domain), the graph and the metadata, in the given order.</summary>
    public ModelProto Build(IEnumerable<KeyValuePair<string, string>> metadata, string docString = "")
    {
        ArgumentNullException.ThrowIfNull(metadata);
        foreach (var output in _graph.Output)
        {
            if (!_names.Contains(output.Name))
            {
                throw new InvalidOperationException($"Output '{output.Name}' of graph '{_graph.Name}' is produced by no node, input or initializer.");
            }
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Predictor",
            ProducerVersion = $"training-schema-{Predictor.Engine.Onnx.ModelContract.SchemaVersion}",
            DocString = docString,
            Graph = _graph.Clone(),
        };
        foreach (var (domain, version) in _opsets)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            if (!seen.Add(key))
            {
                throw new ArgumentException($"Metadata key '{key}' appears twice; ONNX metadata keys must be distinct.", nameof(metadata));
            }

            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    /// <summary>Serializes a model. Google.Protobuf writes fields in field-number order and we use no maps, so equal models give equal bytes.</summary>
    public static byte[] Serialize(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.ToByteArray();
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long?[] dims)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var shape = new TensorShapeProto();
        foreach (long? d in dims)
        {
            shape.Dim.Add(d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private string AddTensor(string name, TensorProto.Types.DataType type, byte[] raw, long[] dims)
    {
        Claim(name);
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        return name;
    }

    private void Claim(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"Tensor name '{name}' is already defined in graph '{_graph.Name}'; ONNX graphs are in SSA form.");
        }
    }

    private static void CheckElementCount(string name, int count, long[] dims)
    {
        long expected = 1;
        foreach (long d in dims)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d);
            expected *= d;
        }

        if (expected != count)
        {
            throw new ArgumentException($"Initializer '{name}' has {count} values but shape [{string.Join(", ", dims)}] holds {expected}.", nameof(dims));
        }
    }
}

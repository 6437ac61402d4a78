namespace Predictor.Engine.Onnx;

/// <summary>Element types of ONNX tensors (values of ONNX's TensorProto.DataType).</summary>
public enum TensorElementType
{
    /// <summary>Not a known type.</summary>
    Undefined = 0,

    /// <summary>float32.</summary>
    Float = 1,

    /// <summary>uint8.</summary>
    UInt8 = 2,

    /// <summary>int8.</summary>
    Int8 = 3,

    /// <summary>uint16.</summary>
    UInt16 = 4,

    /// <summary>int16.</summary>
    Int16 = 5,

    /// <summary>int32.</summary>
    Int32 = 6,

    /// <summary>int64.</summary>
    Int64 = 7,

    /// <summary>string.</summary>
    String = 8,

    /// <summary>bool.</summary>
    Bool = 9,

    /// <summary>float16.</summary>
    Float16 = 10,

    /// <summary>float64.</summary>
    Double = 11,

    /// <summary>uint32.</summary>
    UInt32 = 12,

    /// <summary>uint64.</summary>
    UInt64 = 13,

    /// <summary>complex64.</summary>
    Complex64 = 14,

    /// <summary>complex128.</summary>
    Complex128 = 15,

    /// <summary>bfloat16.</summary>
    BFloat16 = 16,
}

/// <summary>One input or output of a model, as ONNX Runtime reports it.</summary>
/// <param name="Name">The graph name (e.g. <c>window</c>).</param>
/// <param name="IsTensor">False for sequences, maps and other non-tensor values (their type and shape are not read).</param>
/// <param name="ElementType">The element type of a tensor.</param>
/// <param name="Shape">Dimensions; -1 marks a dynamic one (e.g. the batch N).</param>
/// <param name="DimensionNames">The symbolic name of each dimension ("" when it has none), e.g. "N".</param>
public sealed record TensorInfo(
    string Name, bool IsTensor, TensorElementType ElementType, IReadOnlyList<long> Shape, IReadOnlyList<string> DimensionNames)
{
    /// <summary>Type and shape as text, e.g. <c>float32[N,48]</c>.</summary>
    public string Describe()
    {
        if (!IsTensor)
        {
            return "(not a tensor)";
        }

        var dims = Shape.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : DimensionNames[i].Length > 0 ? DimensionNames[i] : "?");
        return $"{TypeName(ElementType)}[{string.Join(",", dims)}]";
    }

    /// <summary>ONNX's lower-case name of an element type (float32, int64, ...).</summary>
    public static string TypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Double => "float64",
        TensorElementType.Float16 => "float16",
        TensorElementType.BFloat16 => "bfloat16",
        _ => type.ToString().ToLowerInvariant(),
    };
}

/// <summary>What ONNX Runtime reads from a model file: inputs, outputs and metadata, including the model card.</summary>
/// <param name="Inputs">Graph inputs, in graph order.</param>
/// <param name="Outputs">Graph outputs, in graph order.</param>
/// <param name="CustomMetadata">The model's <c>metadata_props</c> (the card of the model contract), sorted by key.</param>
/// <param name="ProducerName">ModelProto.producer_name.</param>
/// <param name="GraphName">GraphProto.name.</param>
/// <param name="Description">ModelProto.doc_string.</param>
/// <param name="ModelVersion">ModelProto.model_version.</param>
/// <param name="RuntimeVersion">The version of the ONNX Runtime library that read it.</param>
public sealed record ModelDescription(
    IReadOnlyList<TensorInfo> Inputs,
    IReadOnlyList<TensorInfo> Outputs,
    IReadOnlyDictionary<string, string> CustomMetadata,
    string ProducerName,
    string GraphName,
    string Description,
    long ModelVersion,
    string RuntimeVersion);

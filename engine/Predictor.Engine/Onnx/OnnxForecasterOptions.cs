namespace Predictor.Engine.Onnx;

/// <summary>Options of an ONNX forecaster. Validated when set.</summary>
public sealed class OnnxForecasterOptions
{
    private int _maxBatch = 64;
    private OnnxSessionOptions _session = new();

    /// <summary>
    /// The largest N (series per call) the forecaster accepts. Input and output buffers for N rows are allocated
    /// once, up front (W + C + 2H floats per row); each distinct N used gets its bound tensors on first use.
    /// A graph with a static batch dimension caps this at that size.
    /// </summary>
    /// <value>The default value is 64.</value>
    public int MaxBatch
    {
        get => _maxBatch;
        set
        {
            if (value is < 1 or > 65_536)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "MaxBatch must be between 1 and 65536 series per call.");
            }

            _maxBatch = value;
        }
    }

    /// <summary>How ONNX Runtime runs the model (threads, graph optimisation).</summary>
    /// <value>The default value is a new <see cref="OnnxSessionOptions"/>: one intra-op thread, all optimisations.</value>
    public OnnxSessionOptions Session
    {
        get => _session;
        set => _session = value ?? throw new ArgumentNullException(nameof(value), "Session options cannot be null; use new OnnxSessionOptions() for the defaults.");
    }
}

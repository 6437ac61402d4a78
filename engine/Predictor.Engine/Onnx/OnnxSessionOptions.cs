namespace Predictor.Engine.Onnx;

/// <summary>Graph optimisation levels of ONNX Runtime (<c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimization
{
    /// <summary>No graph optimisation.</summary>
    Disabled = 0,

    /// <summary>Constant folding and redundant-node elimination.</summary>
    Basic = 1,

    /// <summary>Basic plus node fusions.</summary>
    Extended = 2,

    /// <summary>Everything, including layout optimisations.</summary>
    All = 99,
}

/// <summary>How ONNX Runtime runs a model. Validated when set.</summary>
public sealed class OnnxSessionOptions
{
    private int _intraOpThreads = 1;
    private GraphOptimization _optimization = GraphOptimization.All;

    /// <summary>
    /// Threads one Run may use. The control loop shares a small machine with the workloads it balances, so inference
    /// stays on the calling thread by default (1: ORT creates no thread pool). 0 lets ORT use one thread per core.
    /// </summary>
    /// <value>The default value is 1.</value>
    public int IntraOpThreads
    {
        get => _intraOpThreads;
        set
        {
            if (value is < 0 or > 256)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "IntraOpThreads must be between 0 (ORT's default: one per core) and 256.");
            }

            _intraOpThreads = value;
        }
    }

    /// <summary>
    /// Whether ONNX Runtime's intra-op threads spin (busy-wait) between parallel sections instead of sleeping: ORT's
    /// default, which trades a core's idle time for a few microseconds of wake-up. Only matters with more than one
    /// intra-op thread. Off (config entry <c>session.intra_op.allow_spinning</c> = 0), a thread sleeps as soon as its
    /// share is done.
    /// </summary>
    /// <value>The default value is true (ONNX Runtime's default).</value>
    public bool AllowSpinning { get; set; } = true;

    /// <summary>Graph optimisation applied when the session is created.</summary>
    /// <value>The default value is <see cref="GraphOptimization.All"/>.</value>
    public GraphOptimization Optimization
    {
        get => _optimization;
        set
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Optimization must be Disabled, Basic, Extended or All.");
            }

            _optimization = value;
        }
    }
}

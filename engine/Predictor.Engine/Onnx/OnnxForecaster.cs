using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx.Native;

namespace Predictor.Engine.Onnx;

/// <summary>
/// Runs a contract model (DESIGN.md) on ONNX Runtime. Input and output arrays for <see cref="OnnxForecasterOptions.MaxBatch"/>
/// rows are pinned once; for each batch size N the first call binds tensors of shape [N,W], [N,C], [N,H] over the
/// front of those arrays and caches the binding, so later calls with the same N copy the rows in, run, copy the rows
/// out, and allocate nothing. A graph with a static batch S is always fed S rows; only the first N are read back.
/// One call at a time: a lock (which does not allocate) serialises concurrent callers.
/// </summary>
internal sealed class OnnxForecaster : IForecaster
{
    private readonly OnnxSession _session;
    private readonly int _maxBatch;
    private readonly long? _staticBatch;
    private readonly float[] _window;
    private readonly float[] _calendar;
    private readonly float[] _forecast;
    private readonly float[] _upper;
    private readonly OnnxBinding?[] _bindings;
    private readonly List<FloatTensor> _tensors = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    private OnnxForecaster(OnnxSession session, ContractFit fit, OnnxForecasterOptions options)
    {
        _session = session;
        Shape = fit.Shape!.Value;
        _staticBatch = fit.StaticBatch;
        _maxBatch = _staticBatch is { } s ? (int)Math.Min(s, options.MaxBatch) : options.MaxBatch;
        int rows = _staticBatch is { } fixedRows ? (int)fixedRows : _maxBatch;
        _window = FloatTensor.NewStorage(rows * Shape.Window);
        _calendar = FloatTensor.NewStorage(rows * Math.Max(Shape.CalendarWidth, 1));
        _forecast = FloatTensor.NewStorage(rows * Shape.Horizon);
        _upper = FloatTensor.NewStorage(rows * Shape.Horizon);
        _bindings = new OnnxBinding?[_maxBatch + 1];
    }

    public ForecastShape Shape { get; }

    /// <inheritdoc/>
    public int MaxSeriesPerCall => _maxBatch;

    /// <summary>The model's inputs, outputs and card.</summary>
    public ModelDescription Description => _session.Description;

    /// <summary>
    /// Loads <paramref name="path"/> and checks it against the contract.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">ORT cannot load the file (missing, not ONNX, invalid graph).</exception>
    /// <exception cref="ModelContractException">It loads but does not fit the contract; lists every problem.</exception>
    /// <exception cref="OnnxRuntimeLibraryException">ONNX Runtime itself is missing.</exception>
    public static OnnxForecaster Open(string path, OnnxForecasterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var session = OnnxSession.Open(path, options.Session);
        var fit = ModelContractCheck.Check(session.Description);
        if (!fit.Fits)
        {
            session.Dispose();
            throw new ModelContractException(session.Source, fit.Problems);
        }

        return new OnnxForecaster(session, fit, options);
    }

    public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> calendar, int seriesCount, Span<float> forecast, Span<float> upper)
    {
        var shape = Shape;
        if (seriesCount < 1 || seriesCount > _maxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(seriesCount), seriesCount, $"This forecaster takes 1 to {_maxBatch} series per call (OnnxForecasterOptions.MaxBatch).");
        }

        int n = seriesCount;
        if (window.Length != n * shape.Window)
        {
            throw new ArgumentException($"window holds {window.Length} floats; {n} series × W={shape.Window} need {n * shape.Window}.", nameof(window));
        }

        if (calendar.Length != n * shape.CalendarWidth)
        {
            throw new ArgumentException($"calendar holds {calendar.Length} floats; {n} series × C={shape.CalendarWidth} need {n * shape.CalendarWidth}.", nameof(calendar));
        }

        if (forecast.Length < n * shape.Horizon || upper.Length < n * shape.Horizon)
        {
            throw new ArgumentException($"forecast and upper must hold at least {n} series × H={shape.Horizon} = {n * shape.Horizon} floats (got {forecast.Length} and {upper.Length}).", nameof(forecast));
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var binding = _bindings[n] ?? Bind(n);
            window.CopyTo(_window);
            calendar.CopyTo(_calendar);
            binding.Run();
            _forecast.AsSpan(0, n * shape.Horizon).CopyTo(forecast);
            _upper.AsSpan(0, n * shape.Horizon).CopyTo(upper);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var binding in _bindings)
            {
                binding?.Dispose();
            }

            foreach (var tensor in _tensors)
            {
                tensor.Dispose();
            }

            _session.Dispose();
        }
    }

    /// <summary>First call with <paramref name="n"/> rows: binds tensors over the shared arrays (allocates once per N).</summary>
    private OnnxBinding Bind(int n)
    {
        // A static batch is always fed whole; rows past n hold whatever an earlier, larger call left there, and their
        // results are never read.
        long rows = _staticBatch ?? n;
        var shape = Shape;
        var inputs = new List<(string, FloatTensor)> { (ModelContract.WindowInput, Track(FloatTensor.Over(_window, [rows, shape.Window]))) };
        if (shape.CalendarWidth > 0)
        {
            inputs.Add((ModelContract.CalendarInput, Track(FloatTensor.Over(_calendar, [rows, shape.CalendarWidth]))));
        }

        var outputs = new List<(string, FloatTensor)>
        {
            (ModelContract.ForecastOutput, Track(FloatTensor.Over(_forecast, [rows, shape.Horizon]))),
            (ModelContract.UpperOutput, Track(FloatTensor.Over(_upper, [rows, shape.Horizon]))),
        };
        var binding = _session.Bind(inputs, outputs);
        _bindings[n] = binding;
        return binding;
    }

    private FloatTensor Track(FloatTensor tensor)
    {
        _tensors.Add(tensor);
        return tensor;
    }
}

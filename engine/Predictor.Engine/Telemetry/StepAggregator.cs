using Predictor.Engine.Storage;

namespace Predictor.Engine.Telemetry;

/// <summary>
/// Folds samples, given in time order, into one value per epoch-aligned step (see <see cref="StepGrid"/>): the mean
/// (or max, min) of the step's samples, NaN samples left out, stamped with the step's start; a step with no sample, or
/// only NaN, is absent. The one definition behind <see cref="RecordedSeries.Downsample"/> and the store's streaming
/// <see cref="TimeSeriesStore.Downsample"/>, so averaging in memory and averaging while reading agree to the bit.
/// </summary>
internal sealed class StepAggregator
{
    private readonly TimeSpan _stepSpan;
    private readonly long _stepMs;
    private readonly Aggregation _aggregation;
    private readonly List<long> _timestamps = [];
    private readonly List<double> _values = [];
    private long _step = long.MinValue;
    private double _acc;
    private int _n;
    private bool _open;

    public StepAggregator(TimeSpan step, Aggregation aggregation)
    {
        _stepMs = (long)step.TotalMilliseconds;
        if (_stepMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be at least 1 ms.");
        }

        _stepSpan = step;
        _aggregation = aggregation;
    }

    /// <summary>Adds samples that follow every sample added before.</summary>
    public void Add(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
    {
        for (var i = 0; i < timestamps.Length; i++)
        {
            var k = StepGrid.Index(timestamps[i], _stepMs);
            if (!_open || k != _step)
            {
                Close();
                _step = k;
                _open = true;
                _n = 0;
                _acc = _aggregation switch
                {
                    Aggregation.Max => double.NegativeInfinity,
                    Aggregation.Min => double.PositiveInfinity,
                    _ => 0,
                };
            }

            var v = values[i];
            if (double.IsNaN(v))
            {
                continue;
            }

            _n++;
            _acc = _aggregation switch
            {
                Aggregation.Max => Math.Max(_acc, v),
                Aggregation.Min => Math.Min(_acc, v),
                _ => _acc + v,
            };
        }
    }

    /// <summary>Closes the last step and returns every step, as a series of <paramref name="info"/>'s name and unit at this step. Call it once, at the end.</summary>
    public RecordedSeries ToSeries(SeriesInfo info)
    {
        Close();
        return new RecordedSeries(info with { Step = _stepSpan }, [.. _timestamps], [.. _values]);
    }

    private void Close()
    {
        if (_open && _n > 0)
        {
            _timestamps.Add(_step * _stepMs);
            _values.Add(_aggregation == Aggregation.Mean ? _acc / _n : _acc);
            _n = 0;
        }
    }
}

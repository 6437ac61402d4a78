using System.Threading.Channels;

namespace Predictor.Engine.Control;

/// <summary>
/// The bounded hand-off between the tick and the store: the tick copies its samples into one of a fixed set of
/// pre-allocated slots and posts the slot's number on a bounded channel; a reader drains slots into the store and
/// returns them. When every slot is taken (the store is behind), <see cref="TryWrite"/> drops the sample and returns
/// false instead of blocking the tick (DESIGN.md: never block the tick on disk). No allocation per sample.
/// </summary>
public sealed class SampleChannel : ISampleSink
{
    private readonly double[][] _slots;
    private readonly long[] _timestamps;
    private readonly Channel<int> _filled;
    private readonly Channel<int> _free;

    /// <summary>Creates <paramref name="capacity"/> slots of <paramref name="seriesCount"/> values.</summary>
    public SampleChannel(int seriesCount, int capacity = 256)
    {
        if (seriesCount < 1 || capacity < 1)
        {
            throw new PredictorException($"SampleChannel needs ≥ 1 series and ≥ 1 slot (got {seriesCount} series, {capacity} slots).");
        }

        _slots = new double[capacity][];
        _timestamps = new long[capacity];
        var options = new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true };
        _filled = Channel.CreateBounded<int>(options);
        _free = Channel.CreateBounded<int>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait });
        for (var i = 0; i < capacity; i++)
        {
            _slots[i] = new double[seriesCount];
            _free.Writer.TryWrite(i);
        }
    }

    /// <summary>Samples dropped because every slot was taken.</summary>
    public long Dropped { get; private set; }

    /// <inheritdoc/>
    public bool TryWrite(long timestampMs, ReadOnlySpan<double> values)
    {
        if (!_free.Reader.TryRead(out var slot))
        {
            Dropped++;
            return false;
        }

        values.CopyTo(_slots[slot]);
        _timestamps[slot] = timestampMs;
        _filled.Writer.TryWrite(slot);
        return true;
    }

    /// <summary>Hands every waiting sample to <paramref name="handler"/>, oldest first; returns how many.</summary>
    public int Drain(SampleHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var count = 0;
        while (_filled.Reader.TryRead(out var slot))
        {
            try
            {
                handler(_timestamps[slot], _slots[slot]);
            }
            finally
            {
                _free.Writer.TryWrite(slot);
            }

            count++;
        }

        return count;
    }

    /// <summary>Waits until a sample is waiting (or <paramref name="cancellationToken"/> fires).</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => _filled.Reader.WaitToReadAsync(cancellationToken);
}

using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Engine.Telemetry;

/// <summary>What a recording did.</summary>
/// <param name="Ticks">Collection ticks run.</param>
/// <param name="Samples">Samples accepted by the store.</param>
/// <param name="Dropped">Samples the store refused because its channel was full.</param>
public sealed record RecordingStats(long Ticks, long Samples, long Dropped);

/// <summary>
/// Records a collector into the store every interval on the injected clock (what <c>predictor collect</c> runs). A tick
/// reads the collector and queues the samples with <see cref="TimeSeriesStore.TryAppend(int, long, double)"/>: it never
/// waits for the disk. When stopped (duration reached or cancelled) it flushes, so everything collected is committed.
/// </summary>
public static class TelemetryRecorder
{
    /// <summary>
    /// Runs until <paramref name="duration"/> elapses or <paramref name="maxTicks"/> ticks have run, whichever is first
    /// (both null: until cancelled), then flushes the store.
    /// </summary>
    public static async Task<RecordingStats> RunAsync(
        ITelemetryCollector collector,
        TimeSeriesStore store,
        TimeProvider timeProvider,
        TimeSpan interval,
        TimeSpan? duration,
        long? maxTicks,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collector);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.FromMilliseconds(1));
        if (maxTicks is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTicks), maxTicks, "Give at least one tick, or null for no limit.");
        }

        var buffer = new SampleBuffer();
        long ticks = 0, samples = 0, dropped = 0;
        var start = timeProvider.GetTimestamp();
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            do
            {
                var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
                buffer.Clear();
                collector.Collect(buffer);
                var ids = buffer.SeriesIds;
                var values = buffer.Values;
                for (var i = 0; i < ids.Length; i++)
                {
                    if (store.TryAppend(ids[i], now, values[i]))
                    {
                        samples++;
                    }
                    else
                    {
                        dropped++;
                    }
                }

                ticks++;
                if ((duration is { } d && timeProvider.GetElapsedTime(start) >= d) || ticks == maxTicks)
                {
                    break;
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: stop collecting and fall through to the flush.
        }

        await store.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return new RecordingStats(ticks, samples, dropped);
    }
}

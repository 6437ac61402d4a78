namespace Predictor.Engine.Storage;

/// <summary>
/// Keeps a store to a window of time: each pass deletes the chunks and decision-log records older than
/// <see cref="Retention"/> (<see cref="TimeSeriesStore.DropOlderThanAsync"/>, on the store's writer, in order with the
/// appends). Used by the hosted loop (<c>PredictorOptions.StoreRetention</c>) and by <c>predictor collect --retention</c>.
/// A pass that fails is reported and tried again at the next one: retention never stops a recording.
/// </summary>
public sealed class StoreRetention
{
    /// <summary>The shortest retention accepted: one second.</summary>
    public static readonly TimeSpan Minimum = TimeSpan.FromSeconds(1);

    private readonly TimeSeriesStore _store;
    private readonly TimeProvider _time;
    private readonly Action<int> _deleted;
    private readonly Action<Exception> _failed;
    private long _deletedChunks;

    /// <param name="store">The store to keep.</param>
    /// <param name="retention">How long to keep what is recorded; at least <see cref="Minimum"/>.</param>
    /// <param name="time">The clock "older than" is measured on.</param>
    /// <param name="deleted">Told the chunks each pass deleted (also when none).</param>
    /// <param name="failed">Told why a pass failed; the next pass tries again.</param>
    public StoreRetention(TimeSeriesStore store, TimeSpan retention, TimeProvider time, Action<int> deleted, Action<Exception> failed)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(deleted);
        ArgumentNullException.ThrowIfNull(failed);
        if (retention < Minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(retention), retention, "A retention must be at least 1 s.");
        }

        _store = store;
        Retention = retention;
        _time = time;
        _deleted = deleted;
        _failed = failed;
    }

    /// <summary>How long what is recorded is kept.</summary>
    public TimeSpan Retention { get; }

    /// <summary>Time between two passes of <see cref="RunAsync"/>: a quarter of the retention, at least 1 s and at most 1 h, so
    /// that the store holds at most a quarter more than the retention (an hour more for retentions over 4 h).</summary>
    public TimeSpan Every => PassInterval(Retention);

    /// <summary>Chunks deleted by every pass so far.</summary>
    public long DeletedChunks => Interlocked.Read(ref _deletedChunks);

    /// <summary>The time between passes for <paramref name="retention"/> (see <see cref="Every"/>).</summary>
    public static TimeSpan PassInterval(TimeSpan retention) =>
        TimeSpan.FromTicks(Math.Clamp(retention.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerHour));

    /// <summary>One pass: deletes what is older than now − <see cref="Retention"/>. Failures go to the failure callback; only
    /// cancellation is thrown.</summary>
    public async Task PassAsync(CancellationToken cancellationToken)
    {
        try
        {
            var cutoff = (_time.GetUtcNow() - Retention).ToUnixTimeMilliseconds();
            var deleted = await _store.DropOlderThanAsync(cutoff, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _deletedChunks, deleted);
            _deleted(deleted);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            _failed(ex);
        }
    }

    /// <summary>A pass every <see cref="Every"/>, the first one <see cref="Every"/> from now, until
    /// <paramref name="cancellationToken"/> is cancelled; then it ends quietly.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Every, _time, cancellationToken).ConfigureAwait(false);
                await PassAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}

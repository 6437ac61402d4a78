using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Hosting;

/// <summary>
/// The drain side of the hosted loop's sample channel into the SQLite store: each drained tick goes to
/// <see cref="TimeSeriesStore.TryAppend(int, long, double)"/> (the store's own bounded channel; full = dropped and
/// counted in <see cref="TimeSeriesStore.DroppedSamples"/>, never a wait). NaN (not read this tick) is not stored: a gap
/// is a missing timestamp. <see cref="Flush"/> waits until everything queued, decisions included, is committed.
/// </summary>
internal sealed class SqliteSampleStore : ISampleStore
{
    private readonly TimeSeriesStore _store;
    private readonly StoreSampleSink _sink;

    public SqliteSampleStore(TimeSeriesStore store, IReadOnlyList<SeriesInfo> series)
    {
        _store = store;
        _sink = new StoreSampleSink(store, series);
    }

    public void Append(long timestampMs, ReadOnlySpan<double> values) => _sink.TryWrite(timestampMs, values);

    public void Flush() => _store.FlushAsync().GetAwaiter().GetResult();
}

/// <summary>Hands each decision to two logs (the console or logger, and the store's decision log), in that order.</summary>
internal sealed class TeeDecisionLog(IDecisionLog first, IDecisionLog second) : IDecisionLog
{
    public void Append(long timestampMs, Decision decision, in BackendReport report)
    {
        first.Append(timestampMs, decision, report);
        second.Append(timestampMs, decision, report);
    }
}

using System.Globalization;
using Predictor.Engine.Backends;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Engine.Control;

/// <summary>
/// The loop's <see cref="ISampleSource"/> over the telemetry collectors: each tick, the collectors add (series id,
/// value) pairs to a pre-allocated buffer and this maps ids to the loop's series order (names matched once, at
/// construction). A loop series no collector produced this tick reads NaN, so the loop fails closed. No allocation
/// per tick.
/// </summary>
public sealed class CollectorSource : ISampleSource
{
    private readonly ITelemetryCollector _collector;
    private readonly SampleBuffer _buffer;
    private readonly int[] _indexOfId; // collector series id → loop index, -1 when the loop does not use it

    /// <summary>
    /// Maps the series registered in <paramref name="catalog"/> (by the collectors, before this call) onto
    /// <paramref name="loopSeries"/>; throws naming a loop series that no collector registered.
    /// </summary>
    public CollectorSource(ITelemetryCollector collector, SeriesCatalog catalog, IReadOnlyList<string> loopSeries, int bufferCapacity = 1024)
    {
        ArgumentNullException.ThrowIfNull(collector);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(loopSeries);
        _collector = collector;
        _buffer = new SampleBuffer(bufferCapacity);
        _indexOfId = new int[catalog.Count + 1];
        Array.Fill(_indexOfId, -1);
        var found = new bool[loopSeries.Count];
        for (var id = 1; id <= catalog.Count; id++)
        {
            var index = IndexOf(loopSeries, catalog[id].Name);
            _indexOfId[id] = index;
            if (index >= 0)
            {
                found[index] = true;
            }
        }

        var missing = Array.IndexOf(found, false);
        if (missing >= 0)
        {
            throw new PredictorException(
                $"Loop series '{loopSeries[missing]}' is not produced by any collector (they register {catalog.Count} series, e.g. host/cpu/user, host/mem/used); fix the name or enable its collector.");
        }
    }

    /// <inheritdoc/>
    public void Read(long timestampMs, Span<double> values)
    {
        values.Fill(double.NaN);
        _buffer.Clear();
        _collector.Collect(_buffer);
        var ids = _buffer.SeriesIds;
        var read = _buffer.Values;
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i];
            if ((uint)id < (uint)_indexOfId.Length && _indexOfId[id] >= 0)
            {
                values[_indexOfId[id]] = read[i];
            }
        }
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// The loop's <see cref="ISampleSink"/> over the SQLite store: <see cref="TimeSeriesStore.TryAppend(int, long, double)"/>
/// queues without blocking (its own bounded queue), so the tick never waits on disk. NaN (missing) values are not
/// stored: a gap is a missing timestamp. Returns false when the store dropped any value of the tick.
/// </summary>
public sealed class StoreSampleSink : ISampleSink
{
    private readonly TimeSeriesStore _store;
    private readonly int[] _ids;

    /// <summary>Registers the loop's series (in order) in <paramref name="store"/>.</summary>
    public StoreSampleSink(TimeSeriesStore store, IReadOnlyList<SeriesInfo> series)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(series);
        _store = store;
        _ids = [.. series.Select(store.Register)];
    }

    /// <inheritdoc/>
    public bool TryWrite(long timestampMs, ReadOnlySpan<double> values)
    {
        var all = true;
        for (var i = 0; i < _ids.Length && i < values.Length; i++)
        {
            if (!double.IsNaN(values[i]))
            {
                all &= _store.TryAppend(_ids[i], timestampMs, values[i]);
            }
        }

        return all;
    }
}

/// <summary>
/// The decision log in the SQLite store: one record per resource whose split changed or was held (kind
/// <c>partition</c>, subject <c>partition/memory</c> or <c>partition/cpu</c>, action <c>resize</c> or <c>hold</c>), and
/// one per migration (kind <c>placement</c>, subject <c>module/&lt;name&gt;</c>, action <c>migrate</c>), with the reasons
/// and the numbers behind them. Steady ticks write nothing; allocates only when it writes.
/// </summary>
public sealed class StoreDecisionLog : IDecisionLog
{
    private readonly TimeSeriesStore _store;
    private readonly IReadOnlyList<string> _moduleNames;
    private readonly IReadOnlyList<string> _locationIds;
    private readonly PartitionSplit?[] _last = new PartitionSplit?[2];

    /// <summary>Logs into <paramref name="store"/>; names of modules and locations make migrations readable.</summary>
    public StoreDecisionLog(TimeSeriesStore store, IReadOnlyList<string>? moduleNames = null, IReadOnlyList<string>? locationIds = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _moduleNames = moduleNames ?? [];
        _locationIds = locationIds ?? [];
    }

    /// <summary>Records the store refused because its queue was full.</summary>
    public long Dropped { get; private set; }

    /// <inheritdoc/>
    public void Append(long timestampMs, Decision decision, in BackendReport report)
    {
        ArgumentNullException.ThrowIfNull(decision);
        foreach (var resource in (ReadOnlySpan<ResourceKind>)[ResourceKind.Memory, ResourceKind.Cpu])
        {
            var split = decision[resource];
            if (!decision.Held && _last[(int)resource] == split)
            {
                continue;
            }

            _last[(int)resource] = split;
            var subject = resource == ResourceKind.Memory ? "partition/memory" : "partition/cpu";
            var reason = decision.Detail ?? decision.Reasons.ToString();
            Write(new Storage.DecisionRecord(timestampMs, "partition", subject, decision.Held ? "hold" : "resize", reason,
                new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    ["user"] = split.User,
                    ["system"] = split.System,
                    ["pool"] = split.Pool,
                    ["total"] = split.Total,
                    ["backend_failures"] = report.Failures,
                }));
        }

        foreach (var m in decision.Migrations)
        {
            Write(new Storage.DecisionRecord(timestampMs, "placement", $"module/{Name(_moduleNames, m.Module)}", "migrate",
                string.Create(CultureInfo.InvariantCulture, $"predicted overload or requirement: {Name(_locationIds, m.From)} -> {Name(_locationIds, m.To)}"),
                new Dictionary<string, double>(StringComparer.Ordinal) { ["from"] = m.From, ["to"] = m.To, ["cost_seconds"] = m.CostSeconds }));
        }
    }

    private void Write(Storage.DecisionRecord record)
    {
        if (!_store.TryLogDecision(record))
        {
            Dropped++;
        }
    }

    private static string Name(IReadOnlyList<string> names, int index) =>
        (uint)index < (uint)names.Count ? names[index] : index.ToString(CultureInfo.InvariantCulture);
}

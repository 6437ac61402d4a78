using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Hosting;

/// <summary>Units and steps of a setup's series, for registering them in a store (the hosted service asks its source).</summary>
internal interface ISeriesDescriptions
{
    /// <summary>The series the source writes at <paramref name="index"/> of the loop's values.</summary>
    SeriesInfo Describe(int index);
}

/// <summary>
/// The hosted loop's source: the engine's telemetry collectors (<see cref="HostTelemetry"/>: /proc/stat, /proc/meminfo,
/// /proc/pressure, the module processes, the partitions' cgroups) read into the loop's values through
/// <see cref="CollectorSource"/>. The loop's series are every series the collectors registered, in registration order,
/// so everything collected goes through the loop's sample channel to the store. A value the collectors could not
/// read this tick is NaN: when it feeds a policy or a model the loop holds the last safe state (fail closed).
/// With the simulated backend, the partitions' and modules' live values also become the simulated machine's demand.
/// After construction a tick allocates nothing.
/// </summary>
internal sealed class HostCollectorSource : ISampleSource, ISeriesDescriptions, IDisposable
{
    private readonly HostTelemetry _telemetry;
    private readonly SeriesCatalog _catalog;
    private readonly CollectorSource _source;
    private readonly string[] _series;
    private SimulatedFeed? _feed;

    public HostCollectorSource(HostTelemetryOptions options, TimeProvider time)
    {
        _catalog = new SeriesCatalog();
        _telemetry = new HostTelemetry(options, _catalog, time);
        _series = new string[_catalog.Count];
        for (var id = 1; id <= _catalog.Count; id++)
        {
            _series[id - 1] = _catalog[id].Name;
        }

        _source = new CollectorSource(_telemetry, _catalog, _series, Math.Max(256, _series.Length * 2));
    }

    /// <summary>Names of the loop's series (every collector series), in the order <see cref="Read"/> writes them.</summary>
    public IReadOnlyList<string> Series => _series;

    /// <summary>Index of <paramref name="name"/> among <see cref="Series"/>; throws naming it when no collector makes it.</summary>
    public int IndexOf(string name)
    {
        var index = Array.IndexOf(_series, name);
        return index >= 0
            ? index
            : throw new Engine.PredictorException($"No collector produces the series '{name}' (they make {_series.Length} series, e.g. host/cpu/user); the hosted setup cannot bind it.");
    }

    /// <summary>Feeds the simulated backend from each tick's values (set once, before the first tick).</summary>
    public void FeedSimulated(SimulatedBackend backend, PartitionBinding memory, PartitionBinding cpu, IReadOnlyList<int> moduleSeries) =>
        _feed = new SimulatedFeed(backend, memory, cpu, [.. moduleSeries]);

    public SeriesInfo Describe(int index) => _catalog[index + 1];

    public void Read(long timestampMs, Span<double> values)
    {
        _source.Read(timestampMs, values);
        if (_feed is { } feed)
        {
            Feed(feed.Backend, feed.Memory, values);
            Feed(feed.Backend, feed.Cpu, values);
            for (var m = 0; m < feed.ModuleSeries.Length; m++)
            {
                var cores = values[feed.ModuleSeries[m]];
                if (!double.IsNaN(cores))
                {
                    feed.Backend.SetModuleLoad(m, cores);
                }
            }
        }
    }

    public void Dispose() => _telemetry.Dispose();

    private static void Feed(SimulatedBackend backend, PartitionBinding binding, ReadOnlySpan<double> values)
    {
        var user = values[binding.UserSeries];
        var system = values[binding.SystemSeries];

        // A missing reading leaves the simulated demand as it was: the loop holds on it anyway.
        if (!double.IsNaN(user) && !double.IsNaN(system))
        {
            backend.SetPartitionDemand(binding.Resource, user * binding.Scale, system * binding.Scale);
        }
    }

    private sealed record SimulatedFeed(SimulatedBackend Backend, PartitionBinding Memory, PartitionBinding Cpu, int[] ModuleSeries);
}

namespace Predictor.Engine.Telemetry.Collectors;

/// <summary>
/// Every collector of this host in one: /proc/stat, /proc/meminfo, /proc/pressure, module processes, cgroup partitions.
/// Series are registered once at construction (strings allocated then, never per tick); <see cref="Collect"/> reads
/// each source into pre-allocated buffers. A source that cannot be read is reported once and the others go on.
/// </summary>
public sealed class HostTelemetry : ITelemetryCollector, IDisposable
{
    private readonly ITelemetryCollector[] _collectors;

    /// <summary>Builds the collectors and registers their series in <paramref name="registry"/>.</summary>
    public HostTelemetry(HostTelemetryOptions options, ISeriesRegistry registry, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var problems = new ProblemReporter(options.OnProblem);
        _collectors =
        [
            new ProcStatCollector(options, registry, problems),
            new MeminfoCollector(options, registry, problems),
            new PressureCollector(options, registry, problems, timeProvider),
            new ProcessCollector(options, registry, problems, timeProvider),
            new CgroupCollector(options, registry, problems, timeProvider),
        ];
    }

    /// <inheritdoc />
    public void Collect(SampleBuffer output)
    {
        foreach (var c in _collectors)
        {
            c.Collect(output);
        }
    }

    /// <summary>Closes the kernel files.</summary>
    public void Dispose()
    {
        foreach (var c in _collectors)
        {
            (c as IDisposable)?.Dispose();
        }
    }
}

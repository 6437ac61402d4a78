namespace Predictor.Engine.Telemetry;

/// <summary>
/// One series held in memory: what importers return, what range reads of the store return, what training reads.
/// Timestamps are milliseconds since the Unix epoch (UTC), strictly increasing; gaps are missing timestamps, not NaN.
/// </summary>
public sealed class RecordedSeries
{
    /// <summary>Creates a series; <paramref name="timestamps"/> and <paramref name="values"/> have equal length.</summary>
    public RecordedSeries(SeriesInfo info, long[] timestamps, double[] values)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(timestamps);
        ArgumentNullException.ThrowIfNull(values);
        if (timestamps.Length != values.Length)
        {
            throw new ArgumentException(
                $"Series '{info.Name}' has {timestamps.Length} timestamps but {values.Length} values; they must pair up.", nameof(values));
        }

        Info = info;
        Timestamps = timestamps;
        Values = values;
    }

    /// <summary>Name, unit and nominal step.</summary>
    public SeriesInfo Info { get; }

    /// <summary>Milliseconds since the Unix epoch (UTC), strictly increasing.</summary>
    public long[] Timestamps { get; }

    /// <summary>Values in the series' unit.</summary>
    public double[] Values { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Values.Length;

    /// <summary>
    /// One value per step of <paramref name="step"/> (aligned on the epoch, see <see cref="StepGrid"/>), stamped with the
    /// step's start: the mean (or max, min) of the step's samples, NaN samples left out, as the control loop averages the
    /// ticks of a model step. A step with no sample, or only NaN, is absent: a gap stays a gap.
    /// </summary>
    public RecordedSeries Downsample(TimeSpan step, Storage.Aggregation aggregation = Storage.Aggregation.Mean)
    {
        var steps = new StepAggregator(step, aggregation);
        steps.Add(Timestamps, Values);
        return steps.ToSeries(Info);
    }
}

/// <summary>What a series is: its stable hierarchical name (e.g. <c>host/cpu/user</c>), unit and nominal step.</summary>
/// <param name="Name">Hierarchical, '/'-separated, e.g. <c>host/mem/user</c>, <c>module/web/cpu</c>, <c>nab/ec2_cpu_utilization_24ae8d</c>.</param>
/// <param name="Unit">Unit of the values, e.g. <c>percent</c>, <c>bytes</c>, <c>cores</c>.</param>
/// <param name="Step">Nominal time between two samples.</param>
public sealed record SeriesInfo(string Name, string Unit, TimeSpan Step);

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
        var stepMs = (long)step.TotalMilliseconds;
        if (stepMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be at least 1 ms.");
        }

        var ts = new List<long>();
        var vs = new List<double>();
        var i = 0;
        while (i < Count)
        {
            var k = StepGrid.Index(Timestamps[i], stepMs);
            double acc = aggregation switch
            {
                Storage.Aggregation.Max => double.NegativeInfinity,
                Storage.Aggregation.Min => double.PositiveInfinity,
                _ => 0,
            };
            var n = 0;
            for (; i < Count && StepGrid.Index(Timestamps[i], stepMs) == k; i++)
            {
                var v = Values[i];
                if (double.IsNaN(v))
                {
                    continue;
                }

                n++;
                acc = aggregation switch
                {
                    Storage.Aggregation.Max => Math.Max(acc, v),
                    Storage.Aggregation.Min => Math.Min(acc, v),
                    _ => acc + v,
                };
            }

            if (n > 0)
            {
                ts.Add(k * stepMs);
                vs.Add(aggregation == Storage.Aggregation.Mean ? acc / n : acc);
            }
        }

        return new RecordedSeries(Info with { Step = step }, [.. ts], [.. vs]);
    }
}

/// <summary>What a series is: its stable hierarchical name (e.g. <c>host/cpu/user</c>), unit and nominal step.</summary>
/// <param name="Name">Hierarchical, '/'-separated, e.g. <c>host/mem/user</c>, <c>module/web/cpu</c>, <c>nab/ec2_cpu_utilization_24ae8d</c>.</param>
/// <param name="Unit">Unit of the values, e.g. <c>percent</c>, <c>bytes</c>, <c>cores</c>.</param>
/// <param name="Step">Nominal time between two samples.</param>
public sealed record SeriesInfo(string Name, string Unit, TimeSpan Step);

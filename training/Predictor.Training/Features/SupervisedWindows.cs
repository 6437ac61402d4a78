using Predictor.Engine.Forecasting;

namespace Predictor.Training.Features;

/// <summary>
/// The one definition of a training example, shared by every regressor (ridge, boosted trees) and mirrored exactly
/// by the ONNX graphs they export: the feature row of an origin t is
/// <c>[x(t−W+1) … x(t), calendar(t)]</c> — the model input <c>window</c> (oldest first) followed by the model input
/// <c>calendar</c> (<see cref="CalendarFeatures"/> of the origin's timestamp) when the model takes one.
/// The graph builds the same row with <c>Concat(window, calendar)</c>, so training and engine can never compute a
/// feature differently. The targets of origin t are <c>x(t+1) … x(t+H)</c>.
/// </summary>
public sealed class SupervisedWindows
{
    private SupervisedWindows(float[] features, float[] targets, long[] origins, int width, int horizon)
    {
        Features = features;
        Targets = targets;
        OriginTimestamps = origins;
        FeatureWidth = width;
        Horizon = horizon;
    }

    /// <summary>Row-major [Rows, FeatureWidth]: window (oldest first) then calendar.</summary>
    public float[] Features { get; }

    /// <summary>Row-major [Rows, Horizon]: the next H values after each origin.</summary>
    public float[] Targets { get; }

    /// <summary>Unix-ms timestamp of each row's origin (its last observation).</summary>
    public long[] OriginTimestamps { get; }

    /// <summary>W + C.</summary>
    public int FeatureWidth { get; }

    /// <summary>H.</summary>
    public int Horizon { get; }

    /// <summary>Number of examples.</summary>
    public int Rows => OriginTimestamps.Length;

    /// <summary>
    /// Builds every example whose window and targets lie inside <paramref name="values"/>, for origins
    /// <c>firstOrigin ≤ t ≤ lastOrigin</c> (clamped to what the data allows), every <paramref name="stride"/> steps.
    /// </summary>
    /// <param name="values">The series on a regular grid (no gaps; fill them before).</param>
    /// <param name="timestamps">Unix-ms timestamps of <paramref name="values"/>.</param>
    /// <param name="window">W ≥ 1.</param>
    /// <param name="horizon">H ≥ 1.</param>
    /// <param name="withCalendar">Append <see cref="CalendarFeatures.Width"/> calendar features.</param>
    /// <param name="firstOrigin">First origin index to consider (default: the first possible, W − 1).</param>
    /// <param name="lastOrigin">Last origin index to consider (default: the last possible, n − H − 1).</param>
    /// <param name="stride">Take every stride-th origin (≥ 1).</param>
    public static SupervisedWindows Build(
        ReadOnlySpan<double> values,
        ReadOnlySpan<long> timestamps,
        int window,
        int horizon,
        bool withCalendar,
        int firstOrigin = 0,
        int lastOrigin = int.MaxValue,
        int stride = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        if (timestamps.Length != values.Length)
        {
            throw new ArgumentException($"{values.Length} values but {timestamps.Length} timestamps; they must pair up.", nameof(timestamps));
        }

        int first = Math.Max(firstOrigin, window - 1);
        int last = Math.Min(lastOrigin, values.Length - horizon - 1);
        int rows = last < first ? 0 : ((last - first) / stride) + 1;
        int width = window + (withCalendar ? CalendarFeatures.Width : 0);
        var features = new float[rows * width];
        var targets = new float[rows * horizon];
        var origins = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            int t = first + (r * stride);
            var row = features.AsSpan(r * width, width);
            for (int k = 0; k < window; k++)
            {
                row[k] = (float)values[t - window + 1 + k];
            }

            if (withCalendar)
            {
                CalendarFeatures.Compute(timestamps[t], row[window..]);
            }

            for (int h = 0; h < horizon; h++)
            {
                targets[(r * horizon) + h] = (float)values[t + 1 + h];
            }

            origins[r] = timestamps[t];
        }

        return new SupervisedWindows(features, targets, origins, width, horizon);
    }
}

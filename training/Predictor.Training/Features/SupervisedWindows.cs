using Predictor.Engine.Forecasting;

namespace Predictor.Training.Features;

/// <summary>
/// The one definition of a training example, shared by every regressor (ridge, boosted trees) and mirrored exactly
/// by the ONNX graphs they export: the feature row of an origin t is
/// <c>[x(t−W+1) … x(t), calendar(t)]</c> — the model input <c>window</c> (oldest first) followed by the model input
/// <c>calendar</c> (<see cref="CalendarFeatures"/> of the origin's timestamp) when the model takes one.
/// The graph builds the same row with <c>Concat(window, calendar)</c>, so training and engine can never compute a
/// feature differently. Boosted trees may read their window through <see cref="TreeFeatures"/> (season moves, then
/// the last lags), which the graph mirrors with Gather and Sub. The targets of origin t are <c>x(t+1) … x(t+H)</c>.
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

    /// <summary>Row-major [Rows, FeatureWidth]: window (oldest first; or the <see cref="TreeFeatures"/> made from it) then calendar.</summary>
    public float[] Features { get; }

    /// <summary>Row-major [Rows, Horizon]: the next H values after each origin.</summary>
    public float[] Targets { get; }

    /// <summary>Unix-ms timestamp of each row's origin (its last observation).</summary>
    public long[] OriginTimestamps { get; }

    /// <summary>W + C (<see cref="TreeFeatures.Width"/> + C when built from tree features).</summary>
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
        return Build(values, timestamps, TreeFeatures.Plain(window), horizon, withCalendar, firstOrigin, lastOrigin, stride);
    }

    /// <summary>
    /// As <see cref="Build(ReadOnlySpan{double}, ReadOnlySpan{long}, int, int, bool, int, int, int)"/>, with the row's
    /// window part made by <paramref name="features"/> from the W = <see cref="TreeFeatures.Window"/> values ending at
    /// the origin (season moves, then lags), so that part is <see cref="TreeFeatures.Width"/> wide and ends with x(t).
    /// </summary>
    public static SupervisedWindows Build(
        ReadOnlySpan<double> values,
        ReadOnlySpan<long> timestamps,
        TreeFeatures features,
        int horizon,
        bool withCalendar,
        int firstOrigin = 0,
        int lastOrigin = int.MaxValue,
        int stride = 1)
    {
        ArgumentNullException.ThrowIfNull(features);
        features.Validate();
        int window = features.Window;
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        if (timestamps.Length != values.Length)
        {
            throw new ArgumentException($"{values.Length} values but {timestamps.Length} timestamps; they must pair up.", nameof(timestamps));
        }

        int first = Math.Max(firstOrigin, window - 1);
        int last = Math.Min(lastOrigin, values.Length - horizon - 1);
        int rows = last < first ? 0 : ((last - first) / stride) + 1;
        int width = features.Width + (withCalendar ? CalendarFeatures.Width : 0);
        var rowData = new float[rows * width];
        var targets = new float[rows * horizon];
        var origins = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            int t = first + (r * stride);
            var row = rowData.AsSpan(r * width, width);
            features.Fill(values.Slice(t - window + 1, window), row);
            if (withCalendar)
            {
                CalendarFeatures.Compute(timestamps[t], row[features.Width..]);
            }

            for (int h = 0; h < horizon; h++)
            {
                targets[(r * horizon) + h] = (float)values[t + 1 + h];
            }

            origins[r] = timestamps[t];
        }

        return new SupervisedWindows(rowData, targets, origins, width, horizon);
    }
}

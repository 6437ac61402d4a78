namespace Predictor.Engine.Replay;

/// <summary>
/// The clock of a replay: time is the recorded time of the tick being replayed, set by the replay before each tick, so
/// the loop runs as fast as the CPU allows while every decision sees the time it would have seen live. It never moves
/// by itself: step durations measured with it are zero (replay timing is measured by the benchmark, not by the loop).
/// </summary>
public sealed class RecordedClock : TimeProvider
{
    private long _nowUnixMs;

    /// <summary>Creates the clock at <paramref name="startUnixMs"/>.</summary>
    public RecordedClock(long startUnixMs)
    {
        _nowUnixMs = startUnixMs;
    }

    /// <summary>The current recorded time, Unix milliseconds.</summary>
    public long NowUnixMs => Volatile.Read(ref _nowUnixMs);

    /// <inheritdoc/>
    public override long TimestampFrequency => 1000;

    /// <summary>Moves the clock to a recorded time; it may not go backwards (a replay reads its trace in order).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A time before the current one.</exception>
    public void Set(long unixMs)
    {
        if (unixMs < NowUnixMs)
        {
            throw new ArgumentOutOfRangeException(nameof(unixMs), unixMs, $"A recorded clock does not go back: it is at {NowUnixMs} ms.");
        }

        Volatile.Write(ref _nowUnixMs, unixMs);
    }

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(NowUnixMs);

    /// <inheritdoc/>
    public override long GetTimestamp() => NowUnixMs;

    /// <inheritdoc/>
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}

namespace Predictor.Engine.Tests.Telemetry;

/// <summary>A clock the test moves by hand (Microsoft.Extensions.TimeProvider.Testing is not served here).</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks + 1;

    public override DateTimeOffset GetUtcNow() => start + TimeSpan.FromTicks(_ticks);

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}

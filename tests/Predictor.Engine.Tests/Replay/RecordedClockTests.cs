using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

public sealed class RecordedClockTests
{
    [Fact]
    public void Set_ForwardTime_UtcNowAndTimestampFollow()
    {
        var clock = new RecordedClock(1_392_388_200_000);

        clock.Set(1_392_388_500_000);

        Assert.Equal(new DateTimeOffset(2014, 2, 14, 14, 35, 0, TimeSpan.Zero), clock.GetUtcNow());
        Assert.Equal(TimeSpan.FromMinutes(5), clock.GetElapsedTime(1_392_388_200_000));
    }

    [Fact]
    public void Set_BackwardTime_Throws()
    {
        var clock = new RecordedClock(1000);

        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Set(999));
    }
}

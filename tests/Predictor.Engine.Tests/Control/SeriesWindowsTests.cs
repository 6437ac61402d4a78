using Predictor.Engine.Control;

namespace Predictor.Engine.Tests.Control;

public sealed class SeriesWindowsTests
{
    [Fact]
    public void Add_TicksFasterThanStep_AveragesEachStep()
    {
        var windows = new SeriesWindows(1, 3, TimeSpan.FromSeconds(1));
        double[] values = [0];
        for (var ms = 0; ms < 3000; ms += 100)
        {
            values[0] = ms / 1000; // 0 for ten ticks, then 1, then 2
            windows.Add(ms, values);
        }

        windows.Add(3000, values); // closes the third step
        var window = new float[3];
        windows.CopyWindow(3, window);
        Assert.Equal([0f, 1f, 2f], window);
    }

    [Fact]
    public void Add_MissingValues_RepeatLastAndCountStaleSteps()
    {
        var windows = new SeriesWindows(2, 4, TimeSpan.FromMilliseconds(100));
        windows.Add(0, [5, 7]);
        windows.Add(100, [double.NaN, 8]);
        windows.Add(200, [double.NaN, 9]);
        windows.Add(300, [1, 1]);
        Assert.Equal(2, windows.StaleSteps(0));
        Assert.Equal(0, windows.StaleSteps(1));
        var window = new float[6];
        windows.CopyWindow(3, window);
        Assert.Equal([5f, 5f, 5f, 7f, 8f, 9f], window);
    }
}

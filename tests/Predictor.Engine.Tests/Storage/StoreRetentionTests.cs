using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Engine.Tests.Storage;

/// <summary><see cref="StoreRetention"/>: what a pass deletes and keeps, and that a pass that fails is reported, not thrown.</summary>
public sealed class StoreRetentionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-store-retention-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task PassAsync_DeletesWhatIsOlderThanTheRetentionAndKeepsTheRest()
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        using var store = TimeSeriesStore.Open(Path.Combine(_dir, "s.db"));
        var old = store.Register(new SeriesInfo("old", "value", TimeSpan.FromSeconds(1)));
        var recent = store.Register(new SeriesInfo("recent", "value", TimeSpan.FromSeconds(1)));
        await store.AppendAsync(old, [now - (2 * 86_400_000L)], [1.0]);
        await store.AppendAsync(recent, [now - 60_000L], [2.0]);
        await store.FlushAsync();
        var told = new List<int>();
        var retention = new StoreRetention(store, TimeSpan.FromDays(1), TimeProvider.System, told.Add, ex => Assert.Fail(ex.ToString()));

        await retention.PassAsync(CancellationToken.None);

        Assert.Equal(0, store.ReadRange("old", long.MinValue, long.MaxValue).Count);
        Assert.Equal([2.0], store.ReadRange("recent", long.MinValue, long.MaxValue).Values);
        Assert.Equal([1], told);
        Assert.Equal(1, retention.DeletedChunks);
    }

    [Fact]
    public async Task PassAsync_StoreThatFails_ReportsTheFailureAndDoesNotThrow()
    {
        var store = TimeSeriesStore.Open(Path.Combine(_dir, "s.db"));
        store.Dispose();   // every pass on it now fails
        var failures = new List<Exception>();
        var retention = new StoreRetention(store, TimeSpan.FromDays(1), TimeProvider.System, _ => Assert.Fail("nothing can be deleted"), failures.Add);

        await retention.PassAsync(CancellationToken.None);

        Assert.Single(failures);
        Assert.Equal(0, retention.DeletedChunks);
    }

    [Fact]
    public void Constructor_RetentionUnderASecond_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            using var store = TimeSeriesStore.Open(Path.Combine(_dir, "s.db"));
            _ = new StoreRetention(store, TimeSpan.FromMilliseconds(999), TimeProvider.System, _ => { }, _ => { });
        });
}

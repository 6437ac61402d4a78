using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Hosting.Tests;

/// <summary>
/// <see cref="PredictorOptions.StoreRetention"/> on a live hosted loop over this machine's /proc: what the store holds
/// from before the retention is deleted at the start and then every pass, what is recent stays, and the run's own
/// recording goes on. Waits poll with a generous bound; nothing asserts on wall-clock speed.
/// </summary>
public sealed class StoreRetentionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-retention-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly long Now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();

    // Series the collectors do not record, written before the start: ten samples each ending at endMs; and one decision.
    private async Task<string> StoreWith(params (string Name, long EndMs)[] series)
    {
        var path = Path.Combine(_dir, "kept.db");
        using var store = TimeSeriesStore.Open(path);
        foreach (var (name, end) in series)
        {
            var id = store.Register(new SeriesInfo(name, "value", TimeSpan.FromMilliseconds(100)));
            await store.AppendAsync(id, [.. Enumerable.Range(0, 10).Select(i => end - ((9 - i) * 100L))], [.. Enumerable.Range(0, 10).Select(i => (double)i)]);
        }

        Assert.True(store.TryLogDecision(new DecisionRecord(Now - (3 * 86_400_000L), "partition", "partition/user", "resize", "three days ago", new Dictionary<string, double>())));
        await store.FlushAsync();
        return path;
    }

    private static IHost Build(string path, TimeSpan retention)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddPredictor(o =>
        {
            o.TickInterval = TimeSpan.FromMilliseconds(20);
            o.Policy = PolicyKind.Threshold;
            o.StorePath = path;
            o.StoreRetention = retention;
        });
        return builder.Build();
    }

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        for (var i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), $"{what} not reached within 30 s");
    }

    [Fact]
    public async Task Start_DeletesWhatIsOlderThanTheRetention_AndKeepsWhatIsRecent()
    {
        var path = await StoreWith(("archive/old", Now - (3 * 86_400_000L)), ("archive/recent", Now - 3_600_000L));
        using var host = Build(path, TimeSpan.FromDays(1));

        await host.StartAsync();
        var service = host.Services.GetRequiredService<PredictorService>();
        Assert.Equal(1, service.RetentionDeletedChunks); // before the first tick: the next pass is an hour away
        await WaitFor(() => service.Loop!.Ticks >= 5, "5 ticks");
        await host.StopAsync();

        using var store = TimeSeriesStore.Open(path);
        Assert.Equal(0, store.ReadRange("archive/old", long.MinValue, long.MaxValue).Count);
        Assert.Equal(10, store.ReadRange("archive/recent", long.MinValue, long.MaxValue).Count);
        Assert.True(store.ReadRange("host/mem/total", long.MinValue, long.MaxValue).Count >= 5);
        var decisions = store.ReadDecisions(long.MinValue, long.MaxValue);
        Assert.DoesNotContain(decisions, d => d.Reason == "three days ago");
        Assert.NotEmpty(decisions); // this run's
        Assert.Equal("ok", store.CheckIntegrity());
    }

    [Fact]
    public async Task Running_DeletesWhatAgesPastTheRetention_AtEachPass()
    {
        // Retention 3 s, so a pass every second: "archive/aging" ends 1 s before the start, outlives the first pass, and
        // goes at a later one, while the loop records on.
        // (This test's own clock, not the class's Now: earlier tests may have taken seconds.)
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var path = await StoreWith(("archive/old", now - (3 * 86_400_000L)), ("archive/aging", now - 1_000L));
        using var host = Build(path, TimeSpan.FromSeconds(3));

        await host.StartAsync();
        var service = host.Services.GetRequiredService<PredictorService>();
        await WaitFor(() => service.RetentionDeletedChunks == 2, "both archive series deleted");
        // The loop records on: a few ticks after the deletion are in the store when it closes.
        var ticks = service.Loop!.Ticks;
        await WaitFor(() => service.Loop!.Ticks >= ticks + 5, "5 more ticks");
        await host.StopAsync();

        using var store = TimeSeriesStore.Open(path);
        Assert.Equal(0, store.ReadRange("archive/aging", long.MinValue, long.MaxValue).Count);
        Assert.True(store.ReadRange("host/mem/total", long.MinValue, long.MaxValue).Count > 0);
        Assert.Equal("ok", store.CheckIntegrity());
    }

    [Theory]
    [InlineData(0.5, "kept.db", "too short: give at least 1 s")]
    [InlineData(86_400.0, null, "Predictor:StorePath is not")]
    public void Options_BadRetention_FailsTheStartSayingWhy(double seconds, string? store, string expected)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddPredictor(o =>
        {
            o.StorePath = store is null ? null : Path.Combine(_dir, store);
            o.StoreRetention = TimeSpan.FromSeconds(seconds);
        });
        using var host = builder.Build();

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<PredictorOptions>>().Value);

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "kept.db")));
    }

    [Theory]
    [InlineData(1, 1)]              // at least every second
    [InlineData(20, 5)]             // a quarter of a short retention
    [InlineData(86_400 * 14, 3600)] // at most every hour
    public void RetentionPass_IsAQuarterOfTheRetention_BetweenASecondAndAnHour(int retentionSeconds, int passSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(passSeconds), StoreRetention.PassInterval(TimeSpan.FromSeconds(retentionSeconds)));
}

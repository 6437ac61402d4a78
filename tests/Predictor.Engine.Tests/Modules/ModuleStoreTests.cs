using Predictor.Engine.Modules;
using Predictor.Engine.Modules.Packaging;
using Predictor.Engine.Modules.Slots;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Tests.Modules;

public class ModuleStoreTests
{
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Install_TwoVersions_AlternatesSlotsAndKeepsPrevious()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        var r1 = store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        var r2 = store.Install(ModuleTestKit.Package("1.1.0"), "v2.tar");
        Assert.Equal(("a", "b"), (r1.Slot, r2.Slot));
        var m = Assert.Single(store.List());
        Assert.Equal(("b", "1.1.0", "1.0.0", "1.1.0"), (m.ActiveSlot, m.ActiveVersion, m.OtherSlotVersion, m.CommittedVersion));
        ModuleTestKit.AssertTreeIs("1.1.0", ModuleTestKit.ActiveTree(store));
        Assert.True((File.GetUnixFileMode(Path.Combine(store.ActiveFilesDirectory("counter")!, "bin/run.sh")) & UnixFileMode.UserExecute) != 0);
        Assert.Equal(["install", "commit", "install", "commit"], MeasuredLog.Verify(store.Log.Path).Entries.Select(e => e.Event));
    }

    [Fact]
    public void Install_HealthCheckFails_SwitchesBackAndLogsIt()
    {
        using var root = ModuleTestKit.NewRoot();
        var health = new SwitchableHealth();
        var store = ModuleTestKit.Store(root, health);
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        health.Healthy = false;

        var result = store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");

        Assert.False(result.Committed);
        var m = Assert.Single(store.List());
        Assert.Equal(("a", "1.0.0", "2.0.0", "1.0.0"), (m.ActiveSlot, m.ActiveVersion, m.OtherSlotVersion, m.CommittedVersion));
        ModuleTestKit.AssertTreeIs("1.0.0", ModuleTestKit.ActiveTree(store));
        var last = MeasuredLog.Verify(store.Log.Path).Entries[^1];
        Assert.Equal("auto-rollback", last.Event);
        Assert.Contains("refused", last.Detail, StringComparison.Ordinal);

        // The failed version was never committed, so a fixed build of it may be installed.
        health.Healthy = true;
        Assert.True(store.Install(ModuleTestKit.Package("2.0.0"), "v2-fixed.tar").Committed);
    }

    [Fact]
    public void Install_HealthCommandTimesOut_SwitchesBack()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(ModuleTestKit.Package("1.0.0", new ModuleHealthCheckSpec(["sh", "-c", "exit 0"], 5000)), "v1.tar");

        var result = store.Install(ModuleTestKit.Package("2.0.0", new ModuleHealthCheckSpec(["sh", "-c", "sleep 30"], 300)), "v2.tar");

        Assert.False(result.Committed);
        Assert.Contains("timed out after 300 ms", result.Health.Detail, StringComparison.Ordinal);
        Assert.Equal("1.0.0", Assert.Single(store.List()).ActiveVersion);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Install_InProcessCheckTooSlow_TimesOutAndSwitchesBack(bool honoursCancellation)
    {
        using var root = ModuleTestKit.NewRoot();
        var health = new SlowHealth(honoursCancellation);
        var store = new ModuleStore(new ModuleStoreOptions { Root = root.Path, Durable = false, HealthCheck = health, HealthCheckTimeout = TimeSpan.FromMilliseconds(200) });
        health.DelayMs = 0;
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        health.DelayMs = 10_000;

        var result = store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");

        Assert.False(result.Committed);
        Assert.Contains("timed out", result.Health.Detail, StringComparison.Ordinal);
        Assert.Equal("1.0.0", Assert.Single(store.List()).ActiveVersion);
    }

    [Fact]
    public void Install_CheckSeesOurTimeoutAsCancellation_ReportedAsTimeout()
    {
        // The race CI once lost: the store's bound fires before the check's own timer, the check says
        // "cancelled", and the install must still say it timed out.
        using var root = ModuleTestKit.NewRoot();
        var health = new CancelledWhenAsked();
        var store = new ModuleStore(new ModuleStoreOptions { Root = root.Path, Durable = false, HealthCheck = health, HealthCheckTimeout = TimeSpan.FromMilliseconds(150) });
        health.Wait = false;
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        health.Wait = true;

        var result = store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");

        Assert.False(result.Committed);
        Assert.Equal("health check timed out after 150 ms", result.Health.Detail);
        Assert.Equal("1.0.0", Assert.Single(store.List()).ActiveVersion);
    }

    [Fact]
    public void Install_HealthCommandFromPackage_RunsInSlot()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        var ok = store.Install(ModuleTestKit.Package("1.0.0", new ModuleHealthCheckSpec(["./bin/run.sh"], 5000)), "v1.tar");
        var bad = store.Install(ModuleTestKit.Package("2.0.0", new ModuleHealthCheckSpec(["sh", "-c", "test -f config/missing.json"], 5000)), "v2.tar");
        Assert.True(ok.Committed, ok.Health.Detail);
        Assert.False(bad.Committed);
        Assert.Contains("exited 1", bad.Health.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Rollback_Explicit_SwitchesToOtherSlotAndFloorStays()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");

        var m = store.Rollback("counter");

        Assert.Equal(("a", "1.0.0"), (m.ActiveSlot, m.ActiveVersion));
        ModuleTestKit.AssertTreeIs("1.0.0", ModuleTestKit.ActiveTree(store));

        // A restart (new store object) keeps both the rollback and the anti-rollback floor.
        var reopened = ModuleTestKit.Store(root);
        Assert.Equal(("1.0.0", "2.0.0"), (Assert.Single(reopened.List()).ActiveVersion, Assert.Single(reopened.List()).CommittedVersion));
        Assert.Equal(ModuleRejection.Downgrade, Assert.Throws<ModulePackageException>(() => reopened.Install(ModuleTestKit.Package("1.5.0"), "v15.tar")).Reason);
        Assert.Equal("rollback", MeasuredLog.Verify(store.Log.Path).Entries[^1].Event);
    }

    [Fact]
    public void Rollback_OtherSlotTampered_Refused()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");
        File.AppendAllText(Path.Combine(root.Path, "modules/counter/slot-a/files/config/settings.json"), " ");

        var ex = Assert.Throws<ModuleOperationException>(() => store.Rollback("counter"));

        Assert.Contains("slot a no longer matches its manifest", ex.Message, StringComparison.Ordinal);
        Assert.Equal("2.0.0", Assert.Single(store.List()).ActiveVersion);
    }

    [Fact]
    public void Install_CrashAtEachStep_PreviousSlotActiveAfterRecovery()
    {
        // In-process stand-in for the CLI kill test: an exception thrown after a step leaves the files exactly as
        // a SIGKILL would (nothing below runs); the next operation must recover.
        foreach (var step in Enum.GetValues<InstallStep>())
        {
            using var root = ModuleTestKit.NewRoot();
            ModuleTestKit.Store(root).Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
            var crashing = new ModuleStore(new ModuleStoreOptions { Root = root.Path, Durable = false, AfterStep = s => { if (s == step) { throw new CrashException(); } } });
            Assert.Throws<CrashException>(() => crashing.Install(ModuleTestKit.Package("2.0.0"), "v2.tar"));

            var store = ModuleTestKit.Store(root);
            var m = Assert.Single(store.List());
            var expected = step == InstallStep.Committed ? "2.0.0" : "1.0.0";
            Assert.True(m.ActiveVersion == expected, $"after a crash at {step}: active {m.ActiveVersion}, expected {expected}");
            Assert.True(m.ActiveIntact);
            ModuleTestKit.AssertTreeIs(expected, ModuleTestKit.ActiveTree(store));
            Assert.True(MeasuredLog.Verify(store.Log.Path).Intact);
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(root.Path, "modules", "counter"), ".*"));
        }
    }

    private sealed class CrashException : Exception
    {
    }

    private sealed class SlowHealth(bool honoursCancellation) : IModuleHealthCheck
    {
        public int DelayMs { get; set; }

        public async Task<ModuleHealth> CheckAsync(InstalledSlot slot, CancellationToken cancellationToken)
        {
            await Task.Delay(DelayMs, honoursCancellation ? cancellationToken : CancellationToken.None);
            return new ModuleHealth(true, "slow but fine");
        }
    }

    private sealed class CancelledWhenAsked : IModuleHealthCheck
    {
        public bool Wait { get; set; }

        public async Task<ModuleHealth> CheckAsync(InstalledSlot slot, CancellationToken cancellationToken)
        {
            if (!Wait)
            {
                return new ModuleHealth(true, "fine");
            }

            var stopped = new TaskCompletionSource();
            using (cancellationToken.Register(() => stopped.TrySetResult()))
            {
                await stopped.Task;
            }

            return new ModuleHealth(false, "health check cancelled");
        }
    }

    private sealed class SwitchableHealth : IModuleHealthCheck
    {
        public bool Healthy { get; set; } = true;

        public Task<ModuleHealth> CheckAsync(InstalledSlot slot, CancellationToken cancellationToken) =>
            Task.FromResult(new ModuleHealth(Healthy, Healthy ? "fine" : "refused by test"));
    }
}

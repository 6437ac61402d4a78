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

    [Theory]
    [InlineData("install", "edited")]
    [InlineData("install", "directory")]
    [InlineData("rollback", "edited")]
    [InlineData("rollback", "directory")]
    public void InstallOrRollback_MeasuredLogCannotBeExtended_NothingChanges(string operation, string how)
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");
        BreakLog(store.Log.Path, how);
        var before = Snapshot(root.Path);

        var ex = Assert.Throws<ModuleOperationException>(() =>
        {
            if (operation == "install")
            {
                store.Install(ModuleTestKit.Package("2.3.0"), "v23.tar");
            }
            else
            {
                store.Rollback("counter");
            }
        });

        Assert.Contains(how == "edited" ? "is broken at line 2" : "is a directory", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(root.Path));
    }

    [Fact]
    public void Install_LogAppendFailsAfterSlotReplaced_OldSlotPutBack()
    {
        using var root = ModuleTestKit.NewRoot();
        ModuleTestKit.Store(root).Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        ModuleTestKit.Store(root).Install(ModuleTestKit.Package("2.0.0"), "v2.tar");
        var log = Path.Combine(root.Path, "measured.log");
        var before = Snapshot(root.Path);

        // The log passes the check before staging and breaks just before the install entry is appended.
        var store = new ModuleStore(new ModuleStoreOptions { Root = root.Path, Durable = false, AfterStep = s => { if (s == InstallStep.SlotReady) { BreakLog(log, "edited"); } } });
        Assert.Throws<ModuleOperationException>(() => store.Install(ModuleTestKit.Package("2.3.0"), "v23.tar"));

        var after = Snapshot(root.Path);
        after.Remove("measured.log");
        before.Remove("measured.log");
        Assert.Equal(before, after);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(root.Path, "modules", "counter"), ".*"));
    }

    [Fact]
    public void Recover_MeasuredLogBroken_StatePendingUntilLogRepaired()
    {
        using var root = ModuleTestKit.NewRoot();
        ModuleTestKit.Store(root).Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        var crashing = new ModuleStore(new ModuleStoreOptions { Root = root.Path, Durable = false, AfterStep = s => { if (s == InstallStep.Switched) { throw new CrashException(); } } });
        Assert.Throws<CrashException>(() => crashing.Install(ModuleTestKit.Package("2.0.0"), "v2.tar"));
        var log = Path.Combine(root.Path, "measured.log");
        var intact = File.ReadAllBytes(log);
        BreakLog(log, "edited");
        var before = Snapshot(root.Path);
        var store = ModuleTestKit.Store(root);

        var ex = Assert.Throws<ModuleOperationException>(() => store.List());

        Assert.Contains("must be switched back to slot a, but the switch cannot be recorded", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(root.Path));

        File.WriteAllBytes(log, intact);
        Assert.Equal("1.0.0", Assert.Single(store.List()).ActiveVersion);
        Assert.Equal("recovered", MeasuredLog.Verify(log).Entries[^1].Event);
    }

    [Fact]
    public void Install_StateFileDeletedWithSlotsPresent_RefusedAndFloorKept()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");
        File.Delete(Path.Combine(root.Path, "modules/counter/state.json"));
        var before = Snapshot(root.Path);

        var ex = Assert.Throws<ModuleOperationException>(() => store.Install(ModuleTestKit.Package("1.5.0"), "v15.tar"));

        Assert.Contains("state file", ex.Message, StringComparison.Ordinal);
        Assert.Contains("is missing, but slot-a and slot-b exist and measured log", ex.Message, StringComparison.Ordinal);
        Assert.Contains("shows 2.0.0 committed", ex.Message, StringComparison.Ordinal);
        Assert.Contains("\"active\": \"b\"", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(root.Path));
        Assert.Throws<ModuleOperationException>(() => store.List());
    }

    [Fact]
    public void Install_ModuleDirectoryDeletedButLogShowsCommit_Refused()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");
        Directory.Delete(Path.Combine(root.Path, "modules/counter"), recursive: true);

        var ex = Assert.Throws<ModuleOperationException>(() => store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar"));

        Assert.Contains("shows 2.0.0 committed", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root.Path, "modules/counter/slot-a")));
    }

    [Theory]
    [InlineData("{\"active\":\"c\",\"previous\":\"a\",\"pending\":false,\"committedVersion\":\"2.0.0\"}", "names slot 'c'")]
    [InlineData("{\"active\":\"b\",\"previous\":\"../x\",\"pending\":false,\"committedVersion\":\"2.0.0\"}", "names slot '../x'")]
    [InlineData("{\"active\":\"b\",\"previous\":\"a\",\"pending\":false,\"committedVersion\":\"two\"}", "committedVersion 'two' is not a version")]
    public void List_StateFileWithBadValue_Refused(string json, string expected)
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");
        File.WriteAllText(Path.Combine(root.Path, "modules/counter/state.json"), json);

        var ex = Assert.Throws<ModuleOperationException>(() => store.List());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Throws<ModuleOperationException>(() => store.Install(ModuleTestKit.Package("3.0.0"), "v3.tar"));
    }

    [Fact]
    public void FirstInstall_CrashAtEachStep_RecoversToNoActiveSlot()
    {
        // A first install that dies after its slot exists must not look like a lost state.json.
        foreach (var step in Enum.GetValues<InstallStep>())
        {
            using var root = ModuleTestKit.NewRoot();
            var crashing = new ModuleStore(new ModuleStoreOptions { Root = root.Path, Durable = false, AfterStep = s => { if (s == step) { throw new CrashException(); } } });
            Assert.Throws<CrashException>(() => crashing.Install(ModuleTestKit.Package("1.0.0"), "v1.tar"));

            var store = ModuleTestKit.Store(root);
            var listed = store.List();
            var expected = step == InstallStep.Committed ? "1.0.0" : null;
            Assert.True(listed.SingleOrDefault()?.ActiveVersion == expected, $"after a crash at {step}: active {listed.SingleOrDefault()?.ActiveVersion}, expected {expected}");
            Assert.True(store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar").Committed, $"install after a crash at {step}");
        }
    }

    [Fact]
    public void ListAndRollback_RootMissing_RefusedAndNothingCreated()
    {
        using var parent = new TempRoot();
        var missing = Path.Combine(parent.Path, "typo-root");
        var store = new ModuleStore(new ModuleStoreOptions { Root = missing, Durable = false });

        Assert.Contains($"module root '{missing}' does not exist", Assert.Throws<ModuleOperationException>(() => store.List()).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ModuleOperationException>(() => store.Rollback("counter")).Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    private static void BreakLog(string log, string how)
    {
        if (how == "edited")
        {
            var lines = File.ReadAllLines(log);
            lines[1] = lines[1].Replace("\"commit\"", "\"commit \"", StringComparison.Ordinal);
            File.WriteAllLines(log, lines);
        }
        else
        {
            File.Delete(log);
            Directory.CreateDirectory(log);
        }
    }

    /// <summary>Every file under the root (path → bytes) and every directory, except the lock file.</summary>
    private static SortedDictionary<string, string> Snapshot(string root)
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, entry);
            if (relative != ".lock")
            {
                all[relative] = Directory.Exists(entry) ? "dir" : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(entry)));
            }
        }

        return all;
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

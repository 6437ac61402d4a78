using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Predictor.Engine.Modules.Packaging;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Modules.Slots;

/// <summary>What an install did.</summary>
/// <param name="Module">Module name.</param>
/// <param name="Version">Version installed.</param>
/// <param name="Slot">Slot it went to.</param>
/// <param name="Digest">Package digest (SHA-256 of the manifest).</param>
/// <param name="Committed">True when healthy and now active; false when the health check failed and the previous slot is active again.</param>
/// <param name="Health">The health check's verdict.</param>
public sealed record InstallResult(string Module, string Version, string Slot, string Digest, bool Committed, ModuleHealth Health);

/// <summary>One module as <c>modules list</c> shows it.</summary>
/// <param name="Module">Name.</param>
/// <param name="ActiveSlot">a, b, or null when nothing is active.</param>
/// <param name="ActiveVersion">Version in the active slot.</param>
/// <param name="OtherSlotVersion">Version in the other slot, if any.</param>
/// <param name="CommittedVersion">Anti-rollback floor: installs must be strictly newer.</param>
/// <param name="ActiveIntact">True when every active file still matches its manifest hash.</param>
public sealed record InstalledModule(string Module, string? ActiveSlot, string? ActiveVersion, string? OtherSlotVersion, string? CommittedVersion, bool ActiveIntact);

/// <summary>
/// A/B slots per module, an atomic active pointer, persistent anti-rollback, and the measured log.
/// Layout under <see cref="ModuleStoreOptions.Root"/>: <c>modules/NAME/slot-a</c>, <c>slot-b</c> (each: manifest.json,
/// manifest.sig, files/), <c>modules/NAME/state.json</c> (active slot, previous slot, pending flag, committed
/// version; replaced by write-temp + fsync + rename + fsync-directory), <c>measured.log</c>, <c>.lock</c>.
/// An install writes only the inactive slot; the switch is one rename of state.json with <c>pending: true</c>; only
/// a passed health check clears pending and raises the floor. Every operation first recovers: a state still
/// pending (the process died between switch and commit) is switched back to the previous slot.
/// </summary>
public sealed class ModuleStore
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly ModuleStoreOptions _options;
    private readonly IModuleHealthCheck _health;

    /// <summary>Opens a store; the root is created by the first install (the other operations need it to exist).</summary>
    public ModuleStore(ModuleStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Root))
        {
            throw new ArgumentException("ModuleStoreOptions.Root is required", nameof(options));
        }

        _options = options;
        _health = options.HealthCheck ?? new CommandHealthCheck(options.Time);
        Log = new MeasuredLog(Path.Combine(options.Root, "measured.log"), options.Time, options.Pcr, options.Durable);
    }

    /// <summary>The measured log of this store.</summary>
    public MeasuredLog Log { get; }

    /// <summary>Verifies and installs the package at <paramref name="packagePath"/>.</summary>
    public InstallResult Install(string packagePath)
    {
        using var guard = Lock(create: true);
        Recover();
        var trust = TrustStore.Load(_options.ResolvedTrustStorePath);
        var package = ModulePackageReader.ReadFile(packagePath, trust, _options.Limits);
        return InstallVerified(package, packagePath);
    }

    /// <summary>Verifies and installs a package held in memory; <paramref name="where"/> names it in errors.</summary>
    public InstallResult Install(byte[] archive, string where)
    {
        using var guard = Lock(create: true);
        Recover();
        var trust = TrustStore.Load(_options.ResolvedTrustStorePath);
        var package = ModulePackageReader.Read(archive, trust, where, _options.Limits);
        return InstallVerified(package, where);
    }

    /// <summary>Lists installed modules, after recovering any interrupted install.</summary>
    public IReadOnlyList<InstalledModule> List()
    {
        using var guard = Lock(create: false);
        Recover();
        var result = new List<InstalledModule>();
        var modules = Path.Combine(_options.Root, "modules");
        if (!Directory.Exists(modules))
        {
            return result;
        }

        foreach (var dir in Directory.EnumerateDirectories(modules).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            var state = ReadState(dir);
            var active = state.Active is null ? null : TryReadSlotManifest(dir, state.Active);
            var other = state.Active is null ? null : TryReadSlotManifest(dir, Other(state.Active));
            var intact = state.Active is not null && active is not null && SlotIntact(dir, state.Active, active);
            result.Add(new InstalledModule(name, state.Active, active?.Version, other?.Version, state.CommittedVersion, intact));
        }

        return result;
    }

    /// <summary>Switches <paramref name="module"/> to its other slot, which must hold an intact package signed by a trusted key.</summary>
    public InstalledModule Rollback(string module)
    {
        using var guard = Lock(create: false);
        Recover();
        var dir = ModuleDirectory(module);
        var state = ReadState(dir);
        if (state.Active is null)
        {
            throw new ModuleOperationException($"module '{module}' has no active slot under '{_options.Root}'; nothing to roll back");
        }

        var target = Other(state.Active);
        var manifest = TryReadSlotManifest(dir, target)
            ?? throw new ModuleOperationException($"module '{module}': slot {target} is empty; there is no previous version to roll back to");
        var trust = TrustStore.Load(_options.ResolvedTrustStorePath);
        var slotDir = SlotDirectory(dir, target);
        var sig = DetachedSignature.Read(File.ReadAllBytes(Path.Combine(slotDir, ModulePackageWriter.SignatureEntry)), $"slot {target}");
        trust.Verify(sig.KeyId, File.ReadAllBytes(Path.Combine(slotDir, ModulePackageWriter.ManifestEntry)), sig.Signature, $"module '{module}' slot {target}");
        if (!SlotIntact(dir, target, manifest))
        {
            throw new ModuleOperationException($"module '{module}': slot {target} no longer matches its manifest (a file was changed or removed); reinstall instead of rolling back");
        }

        // Measured before the switch: a log that cannot take the entry refuses the rollback with nothing changed.
        Log.Append("rollback", module, manifest.Version, DigestOf(dir, target), manifest.KeyId, target, $"explicit rollback from slot {state.Active}");
        WriteState(dir, state with { Active = target, Previous = state.Active, Pending = false });
        return new InstalledModule(module, target, manifest.Version, TryReadSlotManifest(dir, state.Active)?.Version, state.CommittedVersion, true);
    }

    /// <summary>The directory of the active slot's files, or null when the module has none.</summary>
    public string? ActiveFilesDirectory(string module)
    {
        var dir = ModuleDirectory(module);
        var state = ReadState(dir);
        return state.Active is null ? null : Path.Combine(SlotDirectory(dir, state.Active), "files");
    }

    private InstallResult InstallVerified(VerifiedPackage package, string where)
    {
        var manifest = package.Manifest;
        var dir = ModuleDirectory(manifest.Name);
        var state = ReadState(dir);
        if (state.CommittedVersion is not null && !(manifest.ParsedVersion > ModuleVersion.Parse(state.CommittedVersion)))
        {
            throw new ModulePackageException(ModuleRejection.Downgrade,
                $"{where}: version {manifest.Version} of '{manifest.Name}' is not newer than the committed {state.CommittedVersion}; anti-rollback refuses it (bump the version; use `predictor modules rollback` to return to the previous slot)");
        }

        // The install entry must be appendable before any slot changes: a broken log refuses with nothing changed.
        Log.CheckAppendable();
        Step(InstallStep.Verified);
        Directory.CreateDirectory(dir);
        if (!File.Exists(StatePath(dir)))
        {
            // A new module gets its (empty) state before any slot exists, so slots without a state.json always
            // mean the state was lost, never an install that died half-way (ReadState refuses that case).
            WriteState(dir, state);
        }

        var target = state.Active is null ? "a" : Other(state.Active);
        var staging = Path.Combine(dir, $".staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        foreach (var (entry, content) in package.Files)
        {
            var path = Path.Combine(staging, "files", entry.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var stream = DurableFiles.CreateNew(path, entry.Executable
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            stream.Write(content);
        }

        Directory.CreateDirectory(Path.Combine(staging, "files"));
        File.WriteAllBytes(Path.Combine(staging, ModulePackageWriter.ManifestEntry), package.ManifestBytes);
        File.WriteAllBytes(Path.Combine(staging, ModulePackageWriter.SignatureEntry), package.SignatureBytes);
        Step(InstallStep.Staged);
        if (_options.Durable)
        {
            DurableFiles.SyncTree(staging);
        }

        Step(InstallStep.Synced);
        var slotDir = SlotDirectory(dir, target);
        string? trash = null;
        if (Directory.Exists(slotDir))
        {
            trash = Path.Combine(dir, $".trash-{Guid.NewGuid():N}");
            Directory.Move(slotDir, trash);
        }

        Step(InstallStep.OldSlotMoved);
        Directory.Move(staging, slotDir);
        if (_options.Durable)
        {
            DurableFiles.SyncDirectory(dir);
        }

        Step(InstallStep.SlotReady);

        // Measure before the switch, as measured boot measures before it executes. If the append fails after all
        // (the log changed under us, a write error), the old slot goes back so the refused install changed nothing.
        try
        {
            Log.Append("install", manifest.Name, manifest.Version, package.Digest, manifest.KeyId, target, $"from {Path.GetFileName(where)}");
        }
        catch (Exception ex) when (ex is ModuleOperationException or IOException or UnauthorizedAccessException)
        {
            PutOldSlotBack(dir, slotDir, trash);
            throw;
        }

        if (trash is not null)
        {
            DurableFiles.DeleteTree(trash);
        }

        Step(InstallStep.Measured);
        var previous = state.Active;
        WriteState(dir, state with { Active = target, Previous = previous, Pending = true });
        Step(InstallStep.Switched);

        var health = RunHealthCheck(new InstalledSlot(manifest, Path.Combine(slotDir, "files")));
        Step(InstallStep.HealthChecked);
        if (health.Healthy)
        {
            WriteState(dir, new SlotState(target, previous, false, manifest.Version));
            Log.Append("commit", manifest.Name, manifest.Version, package.Digest, manifest.KeyId, target, health.Detail);
            Step(InstallStep.Committed);
            return new InstallResult(manifest.Name, manifest.Version, target, package.Digest, true, health);
        }

        WriteState(dir, state with { Active = previous, Previous = target, Pending = false });
        Log.Append("auto-rollback", manifest.Name, manifest.Version, package.Digest, manifest.KeyId, previous ?? "-", $"health check failed: {health.Detail}");
        return new InstallResult(manifest.Name, manifest.Version, target, package.Digest, false, health);
    }

    private TimeSpan HealthTimeout(InstalledSlot slot) =>
        slot.Manifest.HealthCheck is { } spec ? TimeSpan.FromMilliseconds(spec.TimeoutMs) : _options.HealthCheckTimeout;

    private ModuleHealth TimedOut(InstalledSlot slot) =>
        new(false, $"health check timed out after {HealthTimeout(slot).TotalMilliseconds:0} ms");

    private ModuleHealth RunHealthCheck(InstalledSlot slot)
    {
        try
        {
            // The default check enforces the manifest's timeout itself; an injected one gets the same bound here.
            // The token asks a cooperative check to stop; the wait bounds one that ignores it (it keeps running
            // detached, but the install no longer waits for it and switches back).
            using var cts = new CancellationTokenSource(HealthTimeout(slot), _options.Time);
            var result = _health.CheckAsync(slot, cts.Token).WaitAsync(HealthTimeout(slot) + TimeSpan.FromSeconds(1), _options.Time).GetAwaiter().GetResult();

            // When this bound fired, a failed check failed because of it (the check may have seen our token before
            // its own timer and called it "cancelled"): report the timeout, whichever timer won the race.
            return !result.Healthy && cts.IsCancellationRequested ? TimedOut(slot) : result;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Same words as the check's own timeout: which of the two bounds fires first depends on scheduling.
            return TimedOut(slot);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new ModuleHealth(false, $"health check threw {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Undoes what a crashed install left: pending switches go back, staging and trash directories go away.</summary>
    private void Recover()
    {
        var modules = Path.Combine(_options.Root, "modules");
        if (!Directory.Exists(modules))
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(modules))
        {
            var state = ReadState(dir);
            if (state.Pending)
            {
                // Logged before the switch back, like every switch: if the log cannot take the entry, the state
                // stays pending and every operation refuses until the log is repaired.
                var failed = state.Active is null ? null : TryReadSlotManifest(dir, state.Active);
                try
                {
                    Log.Append("recovered", Path.GetFileName(dir), failed?.Version ?? "-", state.Active is null ? "-" : DigestOf(dir, state.Active), failed?.KeyId ?? "-",
                        state.Previous ?? "-", "an install died between switch and commit; switched back to the previous slot");
                }
                catch (ModuleOperationException ex)
                {
                    throw new ModuleOperationException($"module '{Path.GetFileName(dir)}': an install died between switch and commit and must be switched back to slot {state.Previous ?? "-"}, but the switch cannot be recorded: {ex.Message}", ex);
                }

                WriteState(dir, state with { Active = state.Previous, Previous = state.Active, Pending = false });
            }

            foreach (var leftover in Directory.EnumerateDirectories(dir, ".*"))
            {
                DurableFiles.DeleteTree(leftover);
            }
        }
    }

    /// <summary>Takes the store lock; only an install (<paramref name="create"/>) may create the root.</summary>
    private FileStream Lock(bool create)
    {
        if (File.Exists(_options.Root))
        {
            throw new ModuleOperationException($"module root '{_options.Root}' is a file, not a directory; give --root the directory that holds measured.log and modules/");
        }

        if (create)
        {
            Directory.CreateDirectory(_options.Root);
        }
        else if (!Directory.Exists(_options.Root))
        {
            throw new ModuleOperationException($"module root '{_options.Root}' does not exist; check --root (the first `predictor modules install` creates it)");
        }

        var path = Path.Combine(_options.Root, ".lock");
        var start = _options.Time.GetTimestamp();
        while (true)
        {
            try
            {
                // FileShare.None takes an advisory flock on Unix; the kernel drops it if the process dies.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (_options.Time.GetElapsedTime(start) < _options.LockTimeout)
            {
                Thread.Sleep(50);
            }
            catch (IOException ex)
            {
                throw new ModuleOperationException($"module root '{_options.Root}' is locked by another predictor process; wait for it to finish", ex);
            }
        }
    }

    private void Step(InstallStep step) => _options.AfterStep?.Invoke(step);

    private string ModuleDirectory(string module)
    {
        if (!ModuleManifest.IsValidName(module))
        {
            throw new PredictorException($"'{module}' is not a module name (a-z, 0-9, '-', '_', '.')");
        }

        return Path.Combine(_options.Root, "modules", module);
    }

    private static string SlotDirectory(string moduleDir, string slot) => Path.Combine(moduleDir, "slot-" + slot);

    private static string Other(string slot) => slot == "a" ? "b" : "a";

    private static ModuleManifest? TryReadSlotManifest(string moduleDir, string slot)
    {
        var path = Path.Combine(SlotDirectory(moduleDir, slot), ModulePackageWriter.ManifestEntry);
        return File.Exists(path) ? ModuleManifest.Parse(File.ReadAllBytes(path), path) : null;
    }

    private static string DigestOf(string moduleDir, string slot)
    {
        var path = Path.Combine(SlotDirectory(moduleDir, slot), ModulePackageWriter.ManifestEntry);
        return File.Exists(path) ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : "-";
    }

    private static bool SlotIntact(string moduleDir, string slot, ModuleManifest manifest)
    {
        var files = Path.Combine(SlotDirectory(moduleDir, slot), "files");
        foreach (var entry in manifest.Files)
        {
            var path = Path.Combine(files, entry.Path);
            if (!File.Exists(path) || Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) != entry.Sha256)
            {
                return false;
            }
        }

        return true;
    }

    private static string StatePath(string moduleDir) => Path.Combine(moduleDir, "state.json");

    private SlotState ReadState(string moduleDir)
    {
        var path = StatePath(moduleDir);
        if (!File.Exists(path))
        {
            RefuseLostState(moduleDir, path);
            return new SlotState(null, null, false, null);
        }

        SlotState state;
        try
        {
            state = JsonSerializer.Deserialize<SlotState>(File.ReadAllBytes(path), JsonOptions)
                ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new ModuleOperationException($"slot state '{path}' is not valid ({ex.Message.Split('\n')[0]}); it is only ever replaced atomically, so the disk or an editor damaged it", ex);
        }

        if (state.Active is not (null or "a" or "b") || state.Previous is not (null or "a" or "b"))
        {
            throw new ModuleOperationException($"slot state '{path}' names slot '{(state.Active is not (null or "a" or "b") ? state.Active : state.Previous)}'; active and previous are \"a\", \"b\" or absent. It is only ever replaced atomically, so the disk or an editor damaged it");
        }

        if (state.CommittedVersion is not null && !ModuleVersion.TryParse(state.CommittedVersion, out _, out var error))
        {
            throw new ModuleOperationException($"slot state '{path}': committedVersion '{state.CommittedVersion}' is not a version ({error}); it is only ever replaced atomically, so the disk or an editor damaged it");
        }

        return state;
    }

    /// <summary>
    /// A missing state.json is a new module only when nothing says otherwise. Slots on disk or a commit in the log
    /// mean the state (with the anti-rollback floor) was lost: starting afresh would accept any older version.
    /// </summary>
    private void RefuseLostState(string moduleDir, string path)
    {
        var module = Path.GetFileName(moduleDir);
        var evidence = new List<string>();
        var slots = new[] { "a", "b" }.Where(s => Directory.Exists(SlotDirectory(moduleDir, s))).Select(s => "slot-" + s).ToList();
        if (slots.Count > 0)
        {
            evidence.Add($"{string.Join(" and ", slots)} {(slots.Count == 1 ? "exists" : "exist")}");
        }

        var entries = File.Exists(Log.Path) ? MeasuredLog.Verify(Log.Path).Entries.Where(e => e.Module == module).ToList() : [];
        var committed = entries
            .Where(e => e.Event == "commit")
            .Select(e => ModuleVersion.TryParse(e.Version, out var v, out _) ? v : null)
            .OfType<ModuleVersion>()
            .Max();
        if (committed is not null)
        {
            evidence.Add($"measured log '{Log.Path}' shows {committed} committed");
        }

        if (evidence.Count == 0)
        {
            return;
        }

        // The slot each switching event left active, from the last such entry.
        var active = entries.LastOrDefault(e => e.Event is "commit" or "rollback" or "auto-rollback" or "recovered" && e.Slot is "a" or "b")?.Slot;
        throw new ModuleOperationException(
            $"module '{module}': state file '{path}' is missing, but {string.Join(" and ", evidence)}; refusing to treat it as a new module, which would drop the anti-rollback floor. " +
            $"Restore state.json from a backup, or write it by hand as {{\"active\": \"{active ?? "a or b"}\", \"pending\": false, \"committedVersion\": \"{committed?.ToString() ?? "the highest version ever committed"}\"}}");
    }

    private void WriteState(string moduleDir, SlotState state) =>
        DurableFiles.WriteAtomic(StatePath(moduleDir), JsonSerializer.SerializeToUtf8Bytes(state, JsonOptions), _options.Durable);

    /// <summary>Undoes steps 3 and 4 of an install: the new slot goes away and the old one (if any) comes back.</summary>
    private void PutOldSlotBack(string moduleDir, string slotDir, string? trash)
    {
        try
        {
            var refused = Path.Combine(moduleDir, $".trash-{Guid.NewGuid():N}");
            Directory.Move(slotDir, refused);
            if (trash is not null)
            {
                Directory.Move(trash, slotDir);
            }

            if (_options.Durable)
            {
                DurableFiles.SyncDirectory(moduleDir);
            }

            DurableFiles.DeleteTree(refused);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The caller's error is the one to report; what is left here is not active, and the next operation's
            // recovery removes any trash directory.
        }
    }

    /// <summary>The active pointer and the anti-rollback floor, in one file so one rename updates both.</summary>
    private sealed record SlotState(string? Active, string? Previous, bool Pending, string? CommittedVersion);
}

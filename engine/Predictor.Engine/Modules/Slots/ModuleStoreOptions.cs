using Predictor.Engine.Modules.Packaging;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Modules.Slots;

/// <summary>The steps of an install, in order; a crash after any of them leaves the previous slot active.</summary>
public enum InstallStep
{
    /// <summary>Signature, key, file hashes and version checked; nothing written yet.</summary>
    Verified,

    /// <summary>Files extracted to a staging directory.</summary>
    Staged,

    /// <summary>Staging directory fsynced.</summary>
    Synced,

    /// <summary>The old inactive slot moved aside.</summary>
    OldSlotMoved,

    /// <summary>Staging renamed into the inactive slot.</summary>
    SlotReady,

    /// <summary>The install measured into the log (and the PCR).</summary>
    Measured,

    /// <summary>The active pointer switched to the new slot, marked pending until healthy.</summary>
    Switched,

    /// <summary>The health check ran (not yet committed).</summary>
    HealthChecked,

    /// <summary>Committed: pending cleared, anti-rollback floor raised.</summary>
    Committed,
}

/// <summary>Where and how modules are installed.</summary>
public sealed class ModuleStoreOptions
{
    private string _root = string.Empty;
    private TimeSpan _lockTimeout = TimeSpan.FromSeconds(10);
    private TimeSpan _healthCheckTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Directory holding the modules, the measured log and, by default, the trust store. Required.</summary>
    public string Root
    {
        get => _root;
        set => _root = !string.IsNullOrWhiteSpace(value) ? value : throw new ArgumentException("the module root must be a directory path", nameof(value));
    }

    /// <summary>Trust-store file.</summary>
    /// <value>The default value is null, meaning <c>Root/trust.json</c>.</value>
    public string? TrustStorePath { get; set; }

    /// <summary>fsync files and directories so a power cut cannot undo a committed step.</summary>
    /// <value>The default value is true. Set false only for throw-away directories (tests).</value>
    public bool Durable { get; set; } = true;

    /// <summary>Size limits for packages.</summary>
    /// <value>The default value is <see cref="ModulePackageLimits"/>'s defaults.</value>
    public ModulePackageLimits Limits { get; set; } = new();

    /// <summary>Health check run after each switch.</summary>
    /// <value>The default value is null, meaning the manifest's command (or entry-point presence).</value>
    public IModuleHealthCheck? HealthCheck { get; set; }

    /// <summary>Time allowed to a health check when the manifest declares none (in-process checks, entry-point check).</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan HealthCheckTimeout
    {
        get => _healthCheckTimeout;
        set => _healthCheckTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be positive");
    }

    /// <summary>A PCR extended with every measured-log entry.</summary>
    /// <value>The default value is null (no TPM).</value>
    public IPcrExtender? Pcr { get; set; }

    /// <summary>Clock for the measured log and health-check timeouts.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>How long to wait for another process holding the store lock.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan LockTimeout
    {
        get => _lockTimeout;
        set => _lockTimeout = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must not be negative");
    }

    /// <summary>Called after each install step; the CLI's crash test kills the process here.</summary>
    public Action<InstallStep>? AfterStep { get; set; }

    internal string ResolvedTrustStorePath => TrustStorePath ?? Path.Combine(Root, "trust.json");
}

using System.Globalization;
using Predictor.Engine.Control;
using Predictor.Engine.Modules.Hosting;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Backends;

/// <summary>Builds the backend that carries out placement decisions for modules hosted in-process.</summary>
public static class HostedModules
{
    /// <summary>
    /// Wraps <paramref name="inner"/> so that each migration of a module registered with <paramref name="migrator"/>
    /// (matched by <see cref="ModuleSpec.Name"/> = host id) is a live move with state through
    /// <see cref="ModuleMigrator.Migrate"/>; the inner backend gets the partitions and the other modules' migrations.
    /// <paramref name="modules"/> and <paramref name="locations"/> are the loop's lists (the decision's indices point
    /// into them). The returned backend owns <paramref name="inner"/> (disposes it), not the module hosts.
    /// </summary>
    /// <param name="inner">The backend for partitions and non-hosted modules (simulated, dry-run or Linux).</param>
    /// <param name="migrator">The registry of hosted modules.</param>
    /// <param name="modules">The loop's modules, as in <see cref="ControlLoopSetup.Modules"/>.</param>
    /// <param name="locations">The loop's locations, as in <see cref="ControlLoopSetup.Locations"/>.</param>
    /// <param name="log">Gets one line per hosted move done or refused; null for none.</param>
    public static IExecutionBackend Wrap(IExecutionBackend inner, ModuleMigrator migrator, IReadOnlyList<ModuleSpec> modules, IReadOnlyList<HardwareLocation> locations, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(migrator);
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(locations);
        return new HostedModuleBackend(inner, migrator, modules, locations, log);
    }
}

/// <summary>
/// Drives in-process live migrations from the loop's decisions. For each migration of a hosted module it moves the
/// module (the move blocks the tick until the module's next safe point, at most <see cref="ModuleMigrator.Timeout"/>),
/// then hands the decision without the hosted moves to the inner backend, so each move is carried out once. Fail
/// closed: a refused move (missing capability, module not at the decision's From, hash mismatch, timeout) leaves the
/// module where it was (the host guarantees it), is counted in the report and logged, and is removed from the
/// decision, so the loop does not believe the module moved. If the inner backend throws, its migrations are removed
/// too (as the loop does when a backend throws) and the hosted moves that happened stay listed. After Apply the
/// decision lists, in their order, exactly the migrations carried out. No allocation unless a hosted move happens.
/// </summary>
internal sealed class HostedModuleBackend : IExecutionBackend
{
    private const byte Inner = 0, Done = 1, Refused = 2;
    private readonly IExecutionBackend _inner;
    private readonly ModuleMigrator _migrator;
    private readonly IReadOnlyList<ModuleSpec> _modules;
    private readonly IReadOnlyList<HardwareLocation> _locations;
    private readonly TextWriter? _log;
    private Migration[] _original = new Migration[16];
    private byte[] _status = new byte[16];

    public HostedModuleBackend(IExecutionBackend inner, ModuleMigrator migrator, IReadOnlyList<ModuleSpec> modules, IReadOnlyList<HardwareLocation> locations, TextWriter? log)
    {
        _inner = inner;
        _migrator = migrator;
        _modules = modules;
        _locations = locations;
        _log = log;
    }

    public BackendReport Apply(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var count = decision.MigrationCount;
        if (_original.Length < decision.MigrationBuffer.Length)
        {
            _original = new Migration[decision.MigrationBuffer.Length];
            _status = new byte[decision.MigrationBuffer.Length];
        }

        decision.Migrations.CopyTo(_original);
        var buffer = decision.MigrationBuffer;
        var toInner = 0;
        var moved = 0;
        var refused = 0;
        string? first = null;
        for (var i = 0; i < count; i++)
        {
            var m = _original[i];
            if ((uint)m.Module >= (uint)_modules.Count || !_migrator.TryGetLocation(_modules[m.Module].Name, out var current))
            {
                _status[i] = Inner;
                buffer[toInner++] = m;
                continue;
            }

            var why = Move(m, current);
            if (why is null)
            {
                _status[i] = Done;
                moved++;
            }
            else
            {
                _status[i] = Refused;
                refused++;
                first ??= why;
                _log?.WriteLine(why);
            }
        }

        decision.SetMigrationCount(toInner);
        BackendReport report;
        var innerFailed = false;
        try
        {
            report = _inner.Apply(decision);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            innerFailed = true;
            report = new BackendReport(0, 0, 0, 0, 1, $"backend {_inner.GetType().Name} failed: {ex.Message}");
        }

        var kept = 0;
        for (var i = 0; i < count; i++)
        {
            if (_status[i] == Done || (_status[i] == Inner && !innerFailed))
            {
                buffer[kept++] = _original[i];
            }
        }

        decision.SetMigrationCount(kept);
        if (refused > 0)
        {
            decision.Reasons |= DecisionReasons.MigrationRefused;
        }

        return report with
        {
            MigrationsApplied = report.MigrationsApplied + moved,
            Failures = report.Failures + refused,
            FirstFailure = first ?? report.FirstFailure,
        };
    }

    public void Dispose() => _inner.Dispose();

    /// <summary>Moves one hosted module; returns null when done, else why it was refused.</summary>
    private string? Move(Migration m, HardwareLocation current)
    {
        var name = _modules[m.Module].Name;
        if ((uint)m.From >= (uint)_locations.Count || (uint)m.To >= (uint)_locations.Count)
        {
            return string.Create(CultureInfo.InvariantCulture, $"hosted module '{name}': migration {m.From} -> {m.To} names a location outside 0..{_locations.Count - 1}; move refused, module stays at '{current.Id}'");
        }

        var from = _locations[m.From];
        if (!string.Equals(current.Id, from.Id, StringComparison.Ordinal))
        {
            // The loop's idea of placement and reality differ: moving anyway would hide that; refuse and say so.
            return $"hosted module '{name}' runs at '{current.Id}', not at '{from.Id}' as the decision assumes; move to '{_locations[m.To].Id}' refused";
        }

        try
        {
            var record = _migrator.Migrate(name, _locations[m.To]);
            _log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hosted module '{name}' moved {record.From} -> {record.To}: cpu {record.ObservedCpu}, state {record.SnapshotBytes} B sha256 {record.StateSha256} verified, paused {record.Paused.TotalMilliseconds:0.###} ms"));
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // ModuleOperationException in the ordinary cases; anything else the module threw while being moved.
            return $"hosted module '{name}' move '{from.Id}' -> '{_locations[m.To].Id}' refused, module stays at '{from.Id}': {ex.Message}";
        }
    }
}

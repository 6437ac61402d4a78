using System.Globalization;
using Predictor.Engine.Control;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Backends;

/// <summary>
/// Logs what it would do and does nothing: one line per changed split and per migration (unchanged state writes
/// nothing, so a steady loop is quiet). For trying a policy on a live machine without touching it.
/// </summary>
public sealed class DryRunBackend : IExecutionBackend
{
    private readonly TextWriter _log;
    private readonly IReadOnlyList<ModuleSpec> _modules;
    private readonly IReadOnlyList<HardwareLocation> _locations;
    private readonly PartitionSplit?[] _last = new PartitionSplit?[2];

    /// <summary>Writes to <paramref name="log"/>; module and location names come from the lists.</summary>
    public DryRunBackend(TextWriter log, IReadOnlyList<ModuleSpec> modules, IReadOnlyList<HardwareLocation> locations)
    {
        ArgumentNullException.ThrowIfNull(log);
        _log = log;
        _modules = modules ?? [];
        _locations = locations ?? [];
    }

    /// <inheritdoc/>
    public BackendReport Apply(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        foreach (var resource in (ReadOnlySpan<ResourceKind>)[ResourceKind.Memory, ResourceKind.Cpu])
        {
            var split = decision[resource];
            if (_last[(int)resource] != split)
            {
                _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"dry-run: would set {(resource == ResourceKind.Memory ? "memory" : "cpu")} {split}{Unit(resource)}"));
                _last[(int)resource] = split;
            }
        }

        foreach (ref readonly var m in decision.Migrations)
        {
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dry-run: would migrate {Name(m.Module)} {Location(m.From)} -> {Location(m.To)} (cost {m.CostSeconds:0.###} s)"));
        }

        if (decision.Detail is { } detail)
        {
            _log.WriteLine($"dry-run: {detail}");
        }

        return new BackendReport(0, 0, 0, decision.MigrationCount, 0, null);
    }

    /// <inheritdoc/>
    public void Dispose() => _log.Flush();

    private static string Unit(ResourceKind resource) => resource == ResourceKind.Memory ? " (bytes)" : " (millicores)";

    private string Name(int module) => (uint)module < (uint)_modules.Count ? _modules[module].Name : $"module#{module}";

    private string Location(int location) => (uint)location < (uint)_locations.Count ? _locations[location].Id : $"location#{location}";
}

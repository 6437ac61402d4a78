using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Modules.Hosting;

/// <summary>Moves a hosted module to a location (one verb). Execution backends call this for placement decisions.</summary>
public interface IModuleMigrator
{
    /// <summary>Moves module <paramref name="moduleId"/> to <paramref name="target"/>, state preserved and verified.</summary>
    MigrationRecord Migrate(string moduleId, HardwareLocation target, CancellationToken cancellationToken = default);
}

/// <summary>
/// The entry point placement uses to move hosted modules: register each <see cref="ModuleHost"/>, then
/// <see cref="Migrate"/> by module id. A move to the location the module already occupies is a no-op that still
/// reports the state hash. A move that does not finish within <see cref="Timeout"/> (a Step that never returns)
/// fails with <see cref="ModuleOperationException"/>; the module then moves when it next reaches a safe point.
/// </summary>
public sealed class ModuleMigrator : IModuleMigrator
{
    private readonly ConcurrentDictionary<string, ModuleHost> _hosts = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates a migrator using <paramref name="time"/> for timeouts.</summary>
    public ModuleMigrator(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>How long a move may wait for the module's safe point.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Ids of registered modules.</summary>
    public IReadOnlyCollection<string> Modules => _hosts.Keys.ToArray();

    /// <summary>Registers a host; its id must be unique.</summary>
    public void Register(ModuleHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (!_hosts.TryAdd(host.Id, host))
        {
            throw new ModuleOperationException($"a module with id '{host.Id}' is already registered; module ids are unique");
        }
    }

    /// <summary>Forgets a host (it keeps running).</summary>
    public bool Unregister(string moduleId) => _hosts.TryRemove(moduleId, out _);

    /// <summary>Where a registered module runs now.</summary>
    public HardwareLocation LocationOf(string moduleId) => Find(moduleId).Location;

    /// <summary>True, with where it runs now, when <paramref name="moduleId"/> is registered (no exception, no allocation).</summary>
    public bool TryGetLocation(string moduleId, [NotNullWhen(true)] out HardwareLocation? location)
    {
        location = _hosts.TryGetValue(moduleId, out var host) ? host.Location : null;
        return location is not null;
    }

    /// <inheritdoc/>
    public MigrationRecord Migrate(string moduleId, HardwareLocation target, CancellationToken cancellationToken = default)
    {
        var host = Find(moduleId);
        try
        {
            return host.MoveAsync(target).WaitAsync(Timeout, _time, cancellationToken).GetAwaiter().GetResult();
        }
        catch (TimeoutException ex)
        {
            throw new ModuleOperationException($"module '{moduleId}' did not reach a safe point within {Timeout.TotalMilliseconds} ms to move to '{target.Id}'; its Step runs too long", ex);
        }
    }

    private ModuleHost Find(string moduleId) =>
        _hosts.TryGetValue(moduleId, out var host)
            ? host
            : throw new ModuleOperationException($"no hosted module with id '{moduleId}'; registered: {string.Join(", ", _hosts.Keys.Order(StringComparer.Ordinal))}");
}

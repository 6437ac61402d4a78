namespace Predictor.Engine.Modules.Hosting;

/// <summary>
/// A module hosted in-process on its own thread. The host calls <see cref="Step"/> in a loop; between two steps the
/// module is at a safe point, where the host may snapshot it and rebuild it elsewhere. All three members are called
/// on the module's thread only, so the module needs no locks for its state.
/// </summary>
public interface IStatefulModule
{
    /// <summary>Does one bounded unit of work at <paramref name="location"/>; returns false when there was nothing to do.</summary>
    bool Step(ILocationView location);

    /// <summary>Serialises the whole state deterministically (equal states give equal bytes: the hash is compared).</summary>
    byte[] Snapshot();

    /// <summary>Builds a new instance from <paramref name="snapshot"/>. Called after the thread moved, so the new state's memory is first touched on the target.</summary>
    IStatefulModule Restore(ReadOnlySpan<byte> snapshot);
}

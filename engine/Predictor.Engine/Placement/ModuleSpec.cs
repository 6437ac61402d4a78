namespace Predictor.Engine.Placement;

/// <summary>
/// A module as placement sees it: a workload with state that runs on one <see cref="HardwareLocation"/> at a time.
/// </summary>
/// <param name="Name">Stable, unique name, e.g. <c>web</c>.</param>
/// <param name="DemandSeries">The series whose forecast is this module's CPU load in cores, e.g. <c>module/web/cpu</c>.</param>
/// <param name="CpuFootprint">CPU in cores the module needs when its forecast is missing (its reservation).</param>
/// <param name="MemoryFootprintBytes">Memory it holds wherever it runs.</param>
/// <param name="StateSizeBytes">State to copy when it moves; the migration cost is StateSizeBytes / bandwidth.</param>
/// <param name="Requirements">Capabilities a location must offer, e.g. <c>accelerator:gpu</c>; empty for none.</param>
public sealed record ModuleSpec(
    string Name,
    string DemandSeries,
    double CpuFootprint,
    long MemoryFootprintBytes,
    long StateSizeBytes,
    IReadOnlySet<string> Requirements)
{
    /// <summary>Capabilities the module prefers but can do without (used to choose among locations that fit).</summary>
    public IReadOnlySet<string> Preferences { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}

/// <summary>A proposed or applied move of one module.</summary>
/// <param name="Module">Index of the module in the module list.</param>
/// <param name="From">Index of the location it leaves.</param>
/// <param name="To">Index of the location it moves to.</param>
/// <param name="CostSeconds">Estimated transfer time of its state (state size / bandwidth).</param>
public readonly record struct Migration(int Module, int From, int To, double CostSeconds);

/// <summary>
/// Proposes migrations from the current placement and the predicted load of each module (max over the horizon of
/// the forecast's upper bound, in cores; NaN when there is none, then the module's footprint counts).
/// </summary>
public interface IPlacementPolicy
{
    /// <summary>Writes proposed migrations into <paramref name="migrations"/> and returns how many.</summary>
    int Plan(ReadOnlySpan<int> assignment, ReadOnlySpan<double> predictedCpu, Span<Migration> migrations);
}

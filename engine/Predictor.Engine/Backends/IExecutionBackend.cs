using Predictor.Engine.Control;

namespace Predictor.Engine.Backends;

/// <summary>
/// Carries out a decision that passed safety: partition sizes and module migrations. Simulated, dry-run and Linux
/// backends share this one verb, so replay and live runs share every decision above it.
/// </summary>
public interface IExecutionBackend : IDisposable
{
    /// <summary>
    /// Applies <paramref name="decision"/> and says what did not work or did not fit. A backend may remove from
    /// <see cref="Decision.Migrations"/> the migrations it did not carry out: the loop updates the placement it
    /// believes in from the migrations left after Apply, so a refused move must not stay listed.
    /// </summary>
    BackendReport Apply(Decision decision);
}

/// <summary>What a backend reports after applying a decision.</summary>
/// <param name="UnmetMemoryBytes">Demand (simulated backend) that exceeded the partitions' allocations, bytes.</param>
/// <param name="UnmetCpuMillicores">Demand that exceeded the partitions' CPU allocations, millicores.</param>
/// <param name="OverloadedLocations">Locations whose actual module load exceeds their capacity.</param>
/// <param name="MigrationsApplied">Migrations carried out.</param>
/// <param name="Failures">Actions the host refused (e.g. a memory limit below current usage); see <paramref name="FirstFailure"/>.</param>
/// <param name="FirstFailure">What the first refused action was and why; null when none.</param>
public readonly record struct BackendReport(
    long UnmetMemoryBytes,
    long UnmetCpuMillicores,
    int OverloadedLocations,
    int MigrationsApplied,
    int Failures,
    string? FirstFailure);

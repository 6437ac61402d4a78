using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Control;

/// <summary>Why a decision is what it is. Flags, so a tick's reasons combine without allocating strings.</summary>
[Flags]
public enum DecisionReasons
{
    /// <summary>Nothing to say: the policies proposed, safety left it as is.</summary>
    None = 0,

    /// <summary>The bounds step clamped a partition into its bounds or fitted user + system into the total.</summary>
    ClampedToBounds = 1 << 0,

    /// <summary>A partition change smaller than the minimum change was dropped (the last split was kept).</summary>
    BelowMinimumChange = 1 << 1,

    /// <summary>One or more migrations were dropped because the migration budget of the window was spent.</summary>
    MigrationBudgetExhausted = 1 << 2,

    /// <summary>Data was missing or NaN: the last safe state was held (see <see cref="Decision.Detail"/>).</summary>
    HeldMissingData = 1 << 3,

    /// <summary>A policy or step failed: the last safe state was held (see <see cref="Decision.Detail"/>).</summary>
    HeldError = 1 << 4,

    /// <summary>A migration was dropped because it named a module or location that does not exist.</summary>
    InvalidMigrationDropped = 1 << 5,

    /// <summary>The backend refused one or more migrations and removed them: those modules stay where they were (see the backend report).</summary>
    MigrationRefused = 1 << 6,
}

/// <summary>
/// What one tick decides: the split of each resource and the migrations to make. One instance is owned by the loop
/// and reused every tick (no allocation); safety steps adjust it in place and return it, or return the last safe state.
/// </summary>
public sealed class Decision
{
    private readonly PartitionSplit[] _splits = new PartitionSplit[2];
    private readonly Migration[] _migrations;

    /// <summary>Creates a decision with room for <paramref name="migrationCapacity"/> migrations.</summary>
    public Decision(PartitionSplit memory, PartitionSplit cpu, int migrationCapacity = 16)
    {
        _splits[(int)ResourceKind.Memory] = memory;
        _splits[(int)ResourceKind.Cpu] = cpu;
        _migrations = new Migration[Math.Max(0, migrationCapacity)];
    }

    /// <summary>The split of one resource.</summary>
    public PartitionSplit this[ResourceKind resource]
    {
        get => _splits[(int)resource];
        set => _splits[(int)resource] = value;
    }

    /// <summary>The migrations to make, in order.</summary>
    public ReadOnlySpan<Migration> Migrations => _migrations.AsSpan(0, MigrationCount);

    /// <summary>Number of migrations.</summary>
    public int MigrationCount { get; private set; }

    /// <summary>Room for migrations (what a placement policy may write).</summary>
    public Span<Migration> MigrationBuffer => _migrations;

    /// <summary>Why the decision is what it is.</summary>
    public DecisionReasons Reasons { get; set; }

    /// <summary>A sentence on why the last safe state was held; null when nothing was held (set only off the hot path).</summary>
    public string? Detail { get; set; }

    /// <summary>True when this tick held the last safe state instead of the proposal.</summary>
    public bool Held => (Reasons & (DecisionReasons.HeldError | DecisionReasons.HeldMissingData)) != 0;

    /// <summary>Sets how many entries of <see cref="MigrationBuffer"/> are migrations.</summary>
    public void SetMigrationCount(int count) => MigrationCount = Math.Clamp(count, 0, _migrations.Length);

    /// <summary>Removes the migration at <paramref name="index"/>, keeping the order of the others.</summary>
    public void RemoveMigrationAt(int index)
    {
        Array.Copy(_migrations, index + 1, _migrations, index, MigrationCount - index - 1);
        MigrationCount--;
    }

    /// <summary>Clears migrations, reasons and detail before a new tick.</summary>
    public void Reset()
    {
        MigrationCount = 0;
        Reasons = DecisionReasons.None;
        Detail = null;
    }

    /// <summary>Copies the splits of <paramref name="other"/> (not its migrations, reasons or detail).</summary>
    public void CopySplitsFrom(Decision other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _splits[0] = other._splits[0];
        _splits[1] = other._splits[1];
    }
}

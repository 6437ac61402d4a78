using System.Globalization;

namespace Predictor.Engine.Partitioning;

/// <summary>The resources a partition budget is kept for.</summary>
public enum ResourceKind
{
    /// <summary>Memory, in bytes.</summary>
    Memory = 0,

    /// <summary>CPU, in millicores (1000 = one core), so that quotas and cpusets divide the budget exactly.</summary>
    Cpu = 1,
}

/// <summary>The two partitions a budget is split into (the free pool is what is left).</summary>
public enum PartitionId
{
    /// <summary>The user partition (like systemd's user.slice).</summary>
    User = 0,

    /// <summary>The system partition (like systemd's system.slice).</summary>
    System = 1,
}

/// <summary>
/// How one resource's total budget is split: a user partition, a system partition and the free pool from which
/// temporary Fast partitions are carved. Amounts are integers in the resource's unit (bytes, millicores), and the
/// pool is defined as <c>Total − User − System</c>, so <c>User + System + Pool == Total</c> holds exactly, always;
/// the constructor refuses a split whose pool would be negative.
/// </summary>
public readonly record struct PartitionSplit
{
    /// <summary>Creates a split; throws when an amount is negative or user + system exceeds the total.</summary>
    public PartitionSplit(long total, long user, long system)
    {
        if (total <= 0 || user < 0 || system < 0 || user > total - system)
        {
            throw new PredictorException(
                $"Partition split user={user.ToString(CultureInfo.InvariantCulture)} system={system.ToString(CultureInfo.InvariantCulture)} " +
                $"total={total.ToString(CultureInfo.InvariantCulture)} is impossible: the total must be positive, each partition ≥ 0, " +
                "and user + system ≤ total (the rest is the free pool).");
        }

        Total = total;
        User = user;
        System = system;
    }

    /// <summary>The whole budget of the resource, in its unit.</summary>
    public long Total { get; }

    /// <summary>The user partition's allocation.</summary>
    public long User { get; }

    /// <summary>The system partition's allocation.</summary>
    public long System { get; }

    /// <summary>The free pool: what neither partition holds. Fast partitions are carved from it.</summary>
    public long Pool => Total - User - System;

    /// <summary>The allocation of one partition.</summary>
    public long this[PartitionId id] => id == PartitionId.User ? User : System;

    /// <summary>Splits the whole budget evenly between user and system (the seed's starting point), pool empty.</summary>
    public static PartitionSplit Even(long total) => new(total, total / 2, total - (total / 2));

    /// <summary>Returns this split with one partition's allocation replaced.</summary>
    public PartitionSplit With(PartitionId id, long amount) =>
        id == PartitionId.User ? new PartitionSplit(Total, amount, System) : new PartitionSplit(Total, User, amount);

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"user={User} system={System} pool={Pool} total={Total}");
}

/// <summary>
/// The share of the total each of user and system must keep, and may not exceed (DESIGN.md: default 20–80 %).
/// </summary>
public sealed class PartitionBounds
{
    private double _minShare = 0.2;
    private double _maxShare = 0.8;

    /// <summary>Smallest share of the total a partition keeps.</summary>
    /// <value>The default value is 0.2.</value>
    public double MinShare
    {
        get => _minShare;
        set
        {
            if (!(value >= 0 && value <= 0.5))
            {
                throw new PredictorException(
                    $"PartitionBounds.MinShare = {value.ToString(CultureInfo.InvariantCulture)} is out of range: use a share in [0, 0.5] so both partitions' minimums fit in the total (e.g. 0.2).");
            }

            _minShare = value;
        }
    }

    /// <summary>Largest share of the total a partition may hold.</summary>
    /// <value>The default value is 0.8.</value>
    public double MaxShare
    {
        get => _maxShare;
        set
        {
            if (!(value > 0 && value <= 1))
            {
                throw new PredictorException(
                    $"PartitionBounds.MaxShare = {value.ToString(CultureInfo.InvariantCulture)} is out of range: use a share in (0, 1] (e.g. 0.8).");
            }

            _maxShare = value;
        }
    }

    /// <summary>Smallest allocation in units: ⌈total × MinShare⌉.</summary>
    public long Min(long total) => (long)Math.Ceiling(total * _minShare);

    /// <summary>Largest allocation in units: ⌊total × MaxShare⌋, never below <see cref="Min"/>.</summary>
    public long Max(long total) => Math.Max(Min(total), (long)Math.Floor(total * _maxShare));

    /// <summary>Clamps an allocation into [Min, Max].</summary>
    public long Clamp(long amount, long total) => Math.Clamp(amount, Min(total), Max(total));

    /// <summary>Throws when MinShare exceeds MaxShare (each setter checks only its own value).</summary>
    public void Validate()
    {
        if (_minShare > _maxShare)
        {
            throw new PredictorException(
                $"PartitionBounds: MinShare {_minShare.ToString(CultureInfo.InvariantCulture)} exceeds MaxShare {_maxShare.ToString(CultureInfo.InvariantCulture)}; set MinShare ≤ MaxShare.");
        }
    }
}

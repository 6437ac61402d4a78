using System.Globalization;
using Predictor.Engine.Backends;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Control;

/// <summary>One logged decision.</summary>
/// <param name="TimestampMs">The tick, Unix milliseconds.</param>
/// <param name="Memory">Memory split decided.</param>
/// <param name="Cpu">CPU split decided.</param>
/// <param name="Migrations">Number of migrations.</param>
/// <param name="FirstMigration">The first migration, when any.</param>
/// <param name="Reasons">Why the decision is what it is.</param>
/// <param name="Detail">Why the last safe state was held, when it was.</param>
/// <param name="Report">What the backend reported.</param>
public readonly record struct DecisionRecord(
    long TimestampMs,
    PartitionSplit Memory,
    PartitionSplit Cpu,
    int Migrations,
    Migration FirstMigration,
    DecisionReasons Reasons,
    string? Detail,
    BackendReport Report);

/// <summary>The last N decisions in memory (a ring): for tests, replay and `predictor run` summaries. No allocation per append.</summary>
public sealed class DecisionLogBuffer : IDecisionLog
{
    private readonly DecisionRecord[] _ring;
    private int _next;

    /// <summary>Keeps the last <paramref name="capacity"/> decisions.</summary>
    public DecisionLogBuffer(int capacity = 1024) => _ring = new DecisionRecord[Math.Max(1, capacity)];

    /// <summary>Decisions appended in total.</summary>
    public long Count { get; private set; }

    /// <inheritdoc/>
    public void Append(long timestampMs, Decision decision, in BackendReport report)
    {
        ArgumentNullException.ThrowIfNull(decision);
        _ring[_next] = Record(timestampMs, decision, report);
        _next = (_next + 1) % _ring.Length;
        Count++;
    }

    /// <summary>The kept decisions, oldest first (allocates: for inspection, not the tick).</summary>
    public IReadOnlyList<DecisionRecord> Snapshot()
    {
        var kept = (int)Math.Min(Count, _ring.Length);
        var result = new DecisionRecord[kept];
        for (var i = 0; i < kept; i++)
        {
            result[i] = _ring[((_next - kept + i) % _ring.Length + _ring.Length) % _ring.Length];
        }

        return result;
    }

    internal static DecisionRecord Record(long timestampMs, Decision decision, in BackendReport report) =>
        new(timestampMs, decision[ResourceKind.Memory], decision[ResourceKind.Cpu], decision.MigrationCount,
            decision.MigrationCount > 0 ? decision.Migrations[0] : default, decision.Reasons, decision.Detail, report);
}

/// <summary>
/// Writes a line per decision that did something or held (a changed split, a migration, a hold, a backend failure);
/// a steady loop writes nothing. Allocates only when it writes.
/// </summary>
public sealed class TextDecisionLog : IDecisionLog
{
    private readonly TextWriter _writer;
    private PartitionSplit _memory;
    private PartitionSplit _cpu;

    /// <summary>Writes to <paramref name="writer"/>.</summary>
    public TextDecisionLog(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
    }

    /// <inheritdoc/>
    public void Append(long timestampMs, Decision decision, in BackendReport report)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var memory = decision[ResourceKind.Memory];
        var cpu = decision[ResourceKind.Cpu];
        var changed = memory != _memory || cpu != _cpu;
        if (!changed && decision.MigrationCount == 0 && !decision.Held && report.Failures == 0 && decision.Reasons == DecisionReasons.None)
        {
            return;
        }

        _memory = memory;
        _cpu = cpu;
        var time = DateTimeOffset.FromUnixTimeMilliseconds(timestampMs).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var why = decision.Detail is null ? string.Empty : $" why=\"{decision.Detail}\"";
        var failures = report.Failures == 0
            ? string.Empty
            : string.Create(CultureInfo.InvariantCulture, $" backend_failures={report.Failures} first=\"{report.FirstFailure}\"");
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{time} memory[{memory}] cpu[{cpu}] migrations={decision.MigrationCount} reasons={decision.Reasons}{why}{failures}"));
    }
}

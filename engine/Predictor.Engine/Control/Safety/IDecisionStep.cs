using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Control.Safety;

/// <summary>One safety post-processor: takes a proposed decision and returns the decision to pass on.</summary>
public interface IDecisionStep
{
    /// <summary>Adjusts (in place) or replaces the proposal.</summary>
    Decision Apply(Decision proposed, SafetyContext context);
}

/// <summary>
/// What the safety steps know beyond the proposal: the time, the last decision that passed safety (what "hold"
/// returns to), missing data or an error reported by the loop this tick, and the migrations spent in the window.
/// </summary>
public sealed class SafetyContext
{
    private readonly long[] _spentAt;
    private readonly double[] _spentCost;
    private int _spentStart;
    private int _spentCount;

    /// <summary>Creates a context whose last safe state is <paramref name="initial"/>'s splits.</summary>
    public SafetyContext(PartitionSplit initialMemory, PartitionSplit initialCpu, int ledgerCapacity = 1024)
    {
        LastSafe = new Decision(initialMemory, initialCpu, 0);
        _spentAt = new long[Math.Max(1, ledgerCapacity)];
        _spentCost = new double[_spentAt.Length];
    }

    /// <summary>The tick's time, Unix milliseconds.</summary>
    public long NowMs { get; set; }

    /// <summary>The splits of the last decision that passed every step (what fail closed holds).</summary>
    public Decision LastSafe { get; }

    /// <summary>Set by the loop when an input was missing or NaN this tick; null otherwise.</summary>
    public string? MissingData { get; set; }

    /// <summary>Set when a policy or step threw this tick; null otherwise.</summary>
    public Exception? Error { get; set; }

    /// <summary>Number of modules, to check migrations against; 0 skips the check.</summary>
    public int ModuleCount { get; set; }

    /// <summary>Number of locations, to check migrations against; 0 skips the check.</summary>
    public int LocationCount { get; set; }

    /// <summary>Clears this tick's missing data and error.</summary>
    public void BeginTick(long nowMs)
    {
        NowMs = nowMs;
        MissingData = null;
        Error = null;
    }

    /// <summary>Records a missing input (first one wins, so the reason names the first gap found).</summary>
    public void ReportMissing(string what) => MissingData ??= what;

    /// <summary>Migration cost (seconds of transfer) spent in the <paramref name="window"/> ending now.</summary>
    public double SpentWithin(TimeSpan window)
    {
        var from = NowMs - (long)window.TotalMilliseconds;
        while (_spentCount > 0 && _spentAt[_spentStart] <= from)
        {
            _spentStart = (_spentStart + 1) % _spentAt.Length;
            _spentCount--;
        }

        var sum = 0.0;
        for (var i = 0; i < _spentCount; i++)
        {
            sum += _spentCost[(_spentStart + i) % _spentAt.Length];
        }

        return sum;
    }

    /// <summary>Makes <paramref name="decision"/> the last safe state and records its migrations in the ledger.</summary>
    public void Commit(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Held)
        {
            return;
        }

        LastSafe.CopySplitsFrom(decision);
        foreach (ref readonly var m in decision.Migrations)
        {
            Spend(m);
        }
    }

    private void Spend(in Migration migration)
    {
        if (_spentCount == _spentAt.Length)
        {
            // Full ledger: merge the oldest entry into the next so the window's total is kept.
            var next = (_spentStart + 1) % _spentAt.Length;
            _spentCost[next] += _spentCost[_spentStart];
            _spentStart = next;
            _spentCount--;
        }

        var at = (_spentStart + _spentCount) % _spentAt.Length;
        _spentAt[at] = NowMs;
        _spentCost[at] = migration.CostSeconds;
        _spentCount++;
    }
}

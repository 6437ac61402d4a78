using System.Globalization;
using Predictor.Engine.Partitioning;

namespace Predictor.Engine.Control.Safety;

/// <summary>
/// Bounds: each partition within [min, max] of its resource's total, user + system ≤ total (the excess taken in
/// proportion to what each holds above its minimum), and migrations that name no real module or location dropped.
/// Policies already respect their bounds; this step is the guard that does not trust them.
/// </summary>
internal sealed class BoundsStep : IDecisionStep
{
    private readonly PartitionBounds _bounds;

    public BoundsStep(PartitionBounds bounds)
    {
        bounds.Validate();
        _bounds = bounds;
    }

    public Decision Apply(Decision proposed, SafetyContext context)
    {
        ClampResource(proposed, ResourceKind.Memory);
        ClampResource(proposed, ResourceKind.Cpu);
        for (var i = proposed.MigrationCount - 1; i >= 0; i--)
        {
            var m = proposed.Migrations[i];
            var badModule = context.ModuleCount > 0 && (uint)m.Module >= (uint)context.ModuleCount;
            var badLocation = context.LocationCount > 0 && ((uint)m.To >= (uint)context.LocationCount || (uint)m.From >= (uint)context.LocationCount);
            if (badModule || badLocation || m.From == m.To || !(m.CostSeconds >= 0))
            {
                proposed.RemoveMigrationAt(i);
                proposed.Reasons |= DecisionReasons.InvalidMigrationDropped;
            }
        }

        return proposed;
    }

    private void ClampResource(Decision decision, ResourceKind resource)
    {
        var split = decision[resource];
        var total = split.Total;
        var user = _bounds.Clamp(split.User, total);
        var system = _bounds.Clamp(split.System, total);
        SplitMath.FitToTotal(ref user, ref system, total, _bounds.Min(total));
        if (user != split.User || system != split.System)
        {
            decision[resource] = new PartitionSplit(total, user, system);
            decision.Reasons |= DecisionReasons.ClampedToBounds;
        }
    }
}

/// <summary>
/// Minimum change: a resource whose user and system allocations both move by less than a share of the total keeps
/// its last safe split, so the backend is not asked to rewrite cgroups for noise.
/// </summary>
internal sealed class MinimumChangeStep : IDecisionStep
{
    private readonly double _minShare;

    /// <param name="minShare">Smallest change worth applying, as a share of the total (e.g. 0.02).</param>
    public MinimumChangeStep(double minShare)
    {
        if (!(minShare is >= 0 and < 1))
        {
            throw new PredictorException(
                $"Minimum change share {minShare.ToString(CultureInfo.InvariantCulture)} is out of range: use a share in [0, 1) (e.g. 0.02).");
        }

        _minShare = minShare;
    }

    public Decision Apply(Decision proposed, SafetyContext context)
    {
        Check(proposed, context, ResourceKind.Memory);
        Check(proposed, context, ResourceKind.Cpu);
        return proposed;
    }

    private void Check(Decision proposed, SafetyContext context, ResourceKind resource)
    {
        var next = proposed[resource];
        var last = context.LastSafe[resource];
        if (next == last || next.Total != last.Total)
        {
            return;
        }

        var threshold = next.Total * _minShare;
        if (Math.Abs(next.User - last.User) < threshold && Math.Abs(next.System - last.System) < threshold)
        {
            proposed[resource] = last;
            proposed.Reasons |= DecisionReasons.BelowMinimumChange;
        }
    }
}

/// <summary>
/// Migration budget: migrations cost transfer time (state size / bandwidth); at most <c>budgetSeconds</c> of it is
/// spent per sliding <c>window</c>. Migrations are admitted in the order proposed; one that would overspend is
/// dropped (the module stays, and may move on a later tick once the window has room).
/// </summary>
internal sealed class MigrationBudgetStep : IDecisionStep
{
    private readonly double _budgetSeconds;
    private readonly TimeSpan _window;

    public MigrationBudgetStep(double budgetSeconds, TimeSpan window)
    {
        if (!(budgetSeconds >= 0) || window <= TimeSpan.Zero)
        {
            throw new PredictorException(
                $"Migration budget {budgetSeconds.ToString(CultureInfo.InvariantCulture)} s per {window} is invalid: use a budget ≥ 0 seconds and a positive window.");
        }

        _budgetSeconds = budgetSeconds;
        _window = window;
    }

    public Decision Apply(Decision proposed, SafetyContext context)
    {
        var spent = context.SpentWithin(_window);
        var i = 0;
        while (i < proposed.MigrationCount)
        {
            var cost = proposed.Migrations[i].CostSeconds;
            if (spent + cost <= _budgetSeconds)
            {
                spent += cost;
                i++;
            }
            else
            {
                proposed.RemoveMigrationAt(i);
                proposed.Reasons |= DecisionReasons.MigrationBudgetExhausted;
            }
        }

        return proposed;
    }
}

/// <summary>
/// Fail closed: when the loop reported missing data or an error this tick, or the proposal is not a valid state,
/// the decision becomes the last safe state (no migrations), flagged with why. The loop keeps ticking: the next
/// tick with good data proposes again. (Unlike VPA's updater, which logs and applies the unchecked value.)
/// </summary>
internal sealed class FailClosedStep : IDecisionStep
{
    public Decision Apply(Decision proposed, SafetyContext context)
    {
        string? why = null;
        var reason = DecisionReasons.None;
        if (context.Error is { } error)
        {
            why = $"held the last safe state: {error.GetType().Name}: {error.Message}";
            reason = DecisionReasons.HeldError;
        }
        else if (context.MissingData is { } missing)
        {
            why = $"held the last safe state: missing data: {missing}";
            reason = DecisionReasons.HeldMissingData;
        }
        else if (!SameTotals(proposed, context.LastSafe))
        {
            why = "held the last safe state: the proposal changed a resource's total budget, which policies may not do";
            reason = DecisionReasons.HeldError;
        }

        if (why is null)
        {
            return proposed;
        }

        proposed.CopySplitsFrom(context.LastSafe);
        proposed.SetMigrationCount(0);
        proposed.Reasons |= reason;
        proposed.Detail = why;
        return proposed;
    }

    private static bool SameTotals(Decision a, Decision b) =>
        a[ResourceKind.Memory].Total == b[ResourceKind.Memory].Total && a[ResourceKind.Cpu].Total == b[ResourceKind.Cpu].Total;
}

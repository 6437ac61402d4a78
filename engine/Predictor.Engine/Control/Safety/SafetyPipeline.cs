using Predictor.Engine.Partitioning;

namespace Predictor.Engine.Control.Safety;

/// <summary>Options of the default safety pipeline.</summary>
public sealed class SafetyOptions
{
    private double _minimumChangeShare = 0.02;
    private double _migrationBudgetSeconds = 2;
    private TimeSpan _migrationWindow = TimeSpan.FromMinutes(10);

    /// <summary>Bounds applied to both resources.</summary>
    /// <value>The default value is 20–80 %.</value>
    public PartitionBounds Bounds { get; init; } = new();

    /// <summary>Smallest partition change applied, as a share of the total.</summary>
    /// <value>The default value is 0.02.</value>
    public double MinimumChangeShare
    {
        get => _minimumChangeShare;
        set => _minimumChangeShare = PredictivePolicyOptions.Check(value, 0, 0.99, "SafetyOptions.MinimumChangeShare");
    }

    /// <summary>Seconds of state transfer allowed per <see cref="MigrationWindow"/>.</summary>
    /// <value>The default value is 2 seconds.</value>
    public double MigrationBudgetSeconds
    {
        get => _migrationBudgetSeconds;
        set => _migrationBudgetSeconds = PredictivePolicyOptions.Check(value, 0, 1e9, "SafetyOptions.MigrationBudgetSeconds");
    }

    /// <summary>The sliding window of the migration budget.</summary>
    /// <value>The default value is 10 minutes.</value>
    public TimeSpan MigrationWindow
    {
        get => _migrationWindow;
        set => _migrationWindow = value > TimeSpan.Zero
            ? value
            : throw new PredictorException($"SafetyOptions.MigrationWindow = {value} is out of range: use a positive duration (e.g. 00:10:00).");
    }
}

/// <summary>
/// Runs the safety steps in order. The default order is bounds → minimum change → migration budget → fail closed:
/// bounds first so that the later steps compare valid states; minimum change against the last safe split; the
/// budget on the migrations that survive; fail closed last, so whatever the earlier steps did, missing data or an
/// error ends in the last safe state. A step that throws skips straight to fail closed with the error. A decision
/// that passes becomes the last safe state and its migrations are charged to the budget.
/// </summary>
public sealed class SafetyPipeline
{
    private readonly IDecisionStep[] _steps;
    private readonly FailClosedStep _failClosed = new();

    /// <summary>A pipeline of <paramref name="steps"/> in order, always followed by fail closed.</summary>
    public SafetyPipeline(IEnumerable<IDecisionStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        _steps = [.. steps.Where(s => s is not FailClosedStep), _failClosed];
    }

    /// <summary>The default pipeline: bounds, minimum change, migration budget, fail closed.</summary>
    public static SafetyPipeline CreateDefault(SafetyOptions? options = null)
    {
        options ??= new SafetyOptions();
        return new SafetyPipeline(
        [
            new BoundsStep(options.Bounds),
            new MinimumChangeStep(options.MinimumChangeShare),
            new MigrationBudgetStep(options.MigrationBudgetSeconds, options.MigrationWindow),
        ]);
    }

    /// <summary>The steps in the order they run (fail closed last).</summary>
    public IReadOnlyList<IDecisionStep> Steps => _steps;

    /// <summary>Runs every step on <paramref name="proposed"/> and commits the result as the last safe state unless held.</summary>
    public Decision Run(Decision proposed, SafetyContext context)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        ArgumentNullException.ThrowIfNull(context);
        var decision = proposed;
        try
        {
            foreach (var step in _steps)
            {
                decision = step.Apply(decision, context);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            context.Error = ex;
            decision = _failClosed.Apply(proposed, context);
        }

        context.Commit(decision);
        return decision;
    }
}

/// <summary>The safety steps, for pipelines in another order or with other settings (fail closed is always appended last).</summary>
public static class SafetySteps
{
    /// <summary>Clamps partitions into <paramref name="bounds"/> and drops invalid migrations.</summary>
    public static IDecisionStep Bounds(PartitionBounds bounds) => new BoundsStep(bounds);

    /// <summary>Keeps the last split when a change is below <paramref name="minShare"/> of the total.</summary>
    public static IDecisionStep MinimumChange(double minShare) => new MinimumChangeStep(minShare);

    /// <summary>Admits at most <paramref name="budgetSeconds"/> of migration transfer per sliding <paramref name="window"/>.</summary>
    public static IDecisionStep MigrationBudget(double budgetSeconds, TimeSpan window) => new MigrationBudgetStep(budgetSeconds, window);
}

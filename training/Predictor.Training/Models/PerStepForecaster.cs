using System.Globalization;
using Predictor.Training.Onnx;

namespace Predictor.Training.Models;

/// <summary>
/// Horizon-aware composite: forecast column k (step k + 1) is member <c>stepMember[k]</c>'s column k. Exported as one
/// graph in which each member is a branch (<c>m0_</c>, <c>m1_</c>, ...) reading the same inputs; the branches'
/// [N, H] outputs are concatenated on axis 1 into [N, M·H] and one <c>Gather</c> (axis 1, index m·H + k for step k)
/// picks the columns. A gather copies the chosen value exactly, and a NaN or ∞ in a column nobody chose cannot leak
/// into the forecast (a 0/1 mask multiplied in would compute 0·∞ = NaN).
/// </summary>
internal sealed class PerStepForecaster : IExportableForecaster
{
    /// <summary>The card kind of a per-step composite.</summary>
    public const string PerStepKind = "per_step";

    /// <summary>Card key: the kind serving each step, comma-separated, step 1 first.</summary>
    public const string StepKindsKey = "predictor.step_kinds";

    /// <summary>Card key: the branch (index into <see cref="CombinationForecaster.MembersKey"/>) serving each step.</summary>
    public const string StepMembersKey = "predictor.step_members";

    private readonly IReadOnlyList<IExportableForecaster> _members;
    private readonly int[] _stepMember;
    private readonly double[][] _buffers;

    /// <param name="members">Two or more forecasters, each used by at least one step.</param>
    /// <param name="stepMember">For each step (H entries), the index of the member whose column it takes.</param>
    public PerStepForecaster(IReadOnlyList<IExportableForecaster> members, IReadOnlyList<int> stepMember)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(stepMember);
        if (members.Count < 2)
        {
            throw new ArgumentException("A per-step composite needs at least two members (one member is that member's own model).", nameof(members));
        }

        for (int m = 0; m < members.Count; m++)
        {
            if (!stepMember.Contains(m))
            {
                throw new ArgumentException($"Member {m} ({members[m].Kind}) serves no step; leave it out.", nameof(stepMember));
            }
        }

        if (stepMember.Any(m => m < 0 || m >= members.Count))
        {
            throw new ArgumentException("Every step must name a member.", nameof(stepMember));
        }

        _members = members;
        _stepMember = [.. stepMember];
        _buffers = [.. members.Select(_ => new double[stepMember.Count])];
        Window = members.Max(m => m.Window);
    }

    public string Kind => PerStepKind;

    public int Window { get; }

    public int Horizon => _stepMember.Length;

    public bool UsesCalendar => _members.Any(m => m.UsesCalendar);

    /// <summary>The kind serving each step, step 1 first.</summary>
    public IReadOnlyList<string> StepKinds => [.. _stepMember.Select(m => _members[m].Kind)];

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast)
    {
        for (int m = 0; m < _members.Count; m++)
        {
            _members[m].Forecast(history, originUnixMs, _buffers[m].AsSpan(0, forecast.Length));
        }

        for (int k = 0; k < forecast.Length; k++)
        {
            forecast[k] = _buffers[_stepMember[k]][k];
        }
    }

    public string EmitInto(ContractModelBuilder builder, string prefix) =>
        throw new NotSupportedException("Per-step composites are not nested.");

    public byte[] Export(ModelCard card, ReadOnlySpan<float> upperOffsets)
    {
        ArgumentNullException.ThrowIfNull(card);
        int h = Horizon;
        var extra = new Dictionary<string, string>(card.Extra, StringComparer.Ordinal)
        {
            [CombinationForecaster.MembersKey] = string.Join(",", _members.Select(m => m.Kind)),
            [StepKindsKey] = string.Join(",", StepKinds),
            [StepMembersKey] = string.Join(",", _stepMember.Select(m => m.ToString(CultureInfo.InvariantCulture))),
        };
        var builder = new ContractModelBuilder(card with { Kind = Kind, Window = Window, Horizon = h, Extra = extra }, UsesCalendar);
        var outputs = _members.Select((m, i) => m.EmitInto(builder, $"m{i}_")).ToArray();
        var g = builder.Graph;
        g.AddNode("Concat", outputs, ["members_steps"], GraphBuilder.OnnxDomain, OnnxAttributes.Int("axis", 1));
        var indices = new long[h];
        for (int k = 0; k < h; k++)
        {
            indices[k] = ((long)_stepMember[k] * h) + k;
        }

        string idx = g.AddInitializer("step_indices", indices, h);
        g.AddNode("Gather", ["members_steps", idx], ["steps_selected"], GraphBuilder.OnnxDomain, OnnxAttributes.Int("axis", 1));
        return GraphBuilder.Serialize(builder.Build("steps_selected", upperOffsets));
    }
}

using Predictor.Training.Onnx;

namespace Predictor.Training.Models;

/// <summary>
/// The equal-weight mean of several forecasters (forecast combination: averaging models whose errors are not
/// perfectly correlated lowers the error of the mean below the members' average). Exported as one graph in which
/// each member is a branch reading the same inputs, followed by <c>Sum</c> and a multiplication by 1/k.
/// </summary>
internal sealed class CombinationForecaster : IExportableForecaster
{
    /// <summary>The card kind of a combination.</summary>
    public const string CombinationKind = "combination";

    /// <summary>Card key listing the member kinds, comma-separated, in branch order (m0_, m1_, ...).</summary>
    public const string MembersKey = "predictor.members";

    private readonly IReadOnlyList<IPointForecaster> _members;
    private readonly double[] _buffer;
    private readonly int _horizon;

    public CombinationForecaster(IReadOnlyList<IPointForecaster> members, int horizon)
    {
        if (members.Count < 2)
        {
            throw new ArgumentException("A combination needs at least two members.", nameof(members));
        }

        _members = members;
        _horizon = horizon;
        _buffer = new double[horizon];
        Window = members.Max(m => m.Window);
    }

    public string Kind => CombinationKind;

    public int Window { get; }

    public bool UsesCalendar => _members.OfType<IExportableForecaster>().Any(m => m.UsesCalendar);

    /// <summary>Member kinds, comma-separated.</summary>
    public string MemberKinds => string.Join(",", _members.Select(m => m.Kind));

    public void Forecast(ReadOnlySpan<double> history, long originUnixMs, Span<double> forecast)
    {
        forecast.Clear();
        foreach (var m in _members)
        {
            m.Forecast(history, originUnixMs, _buffer.AsSpan(0, forecast.Length));
            for (int h = 0; h < forecast.Length; h++)
            {
                forecast[h] += _buffer[h];
            }
        }

        for (int h = 0; h < forecast.Length; h++)
        {
            forecast[h] /= _members.Count;
        }
    }

    public string EmitInto(ContractModelBuilder builder, string prefix) =>
        ForecastModels.EmitMean(builder, prefix, [.. _members.Cast<IExportableForecaster>().Select(m => (Func<ContractModelBuilder, string, string>)m.EmitInto)]);

    public byte[] Export(ModelCard card, ReadOnlySpan<float> upperOffsets)
    {
        var exportable = _members.Cast<IExportableForecaster>().ToList();
        var extra = new Dictionary<string, string>(card.Extra, StringComparer.Ordinal) { [MembersKey] = MemberKinds };
        return ForecastModels.Mean(
            card with { Kind = Kind, Window = Window, Horizon = _horizon, Extra = extra },
            UsesCalendar,
            [.. exportable.Select(m => (Func<ContractModelBuilder, string, string>)m.EmitInto)],
            upperOffsets);
    }
}

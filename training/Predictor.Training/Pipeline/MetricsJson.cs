using System.Text;
using System.Text.Json;
using Predictor.Training.Backtesting;

namespace Predictor.Training.Pipeline;

/// <summary>
/// The backtest table as JSON, for the card's <c>predictor.metrics</c> and for <c>--json</c>. Written field by field
/// in a fixed order (doubles in shortest round-trip form, NaN as null), so the same table gives the same bytes.
/// </summary>
public static class MetricsJson
{
    /// <summary>The table as a compact JSON document.</summary>
    public static string Write(IReadOnlyList<SeriesScores> table, TrainingOptions options, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            w.WriteNumber("horizon", options.Horizon);
            w.WriteNumber("quantile", options.Quantile);
            w.WriteString("test_part", "last " + (options.BacktestShare / 2).ToString("P0", System.Globalization.CultureInfo.InvariantCulture) + " of each series, rolling origin every step");
            w.WriteStartArray("series");
            foreach (var s in table)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Series);
                w.WriteNumber("points", s.Points);
                w.WriteNumber("filled", s.Filled);
                w.WriteStartArray("models");
                foreach (var m in s.Scores)
                {
                    w.WriteStartObject();
                    w.WriteString("model", m.Model);
                    w.WriteString("role", m.Role);
                    Number(w, "validation_mase", m.ValidationMase);
                    WriteMetrics(w, m.Test);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    internal static string Selection(
        string selected, IEnumerable<(string Kind, double ValidationMase)> scores, TrainingOptions options, IReadOnlyList<string>? stepKinds = null, double compositeMase = double.NaN)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("rule", "recency-weighted calibration MASE; the simplest kind within the given standard errors of the best");
            Number(w, "half_life_hours", options.SelectionHalfLife == Timeout.InfiniteTimeSpan ? double.PositiveInfinity : options.SelectionHalfLife.TotalHours);
            w.WriteNumber("standard_errors", options.SelectionStandardErrors);
            w.WriteString("selected", selected);
            w.WriteStartObject("validation_mase");
            foreach (var (kind, mase) in scores)
            {
                Number(w, kind, mase);
            }

            w.WriteEndObject();
            if (stepKinds is not null)
            {
                // Written only when the steps differ: a uniform choice is the single-kind model, card and all.
                w.WriteString("per_step_rule", "a step departs from the whole-horizon winner only when another kind beats it on that step's losses by more than the standard errors");
                w.WriteStartArray("per_step");
                foreach (string kind in stepKinds)
                {
                    w.WriteStringValue(kind);
                }

                w.WriteEndArray();
                Number(w, "per_step_validation_mase", compositeMase);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteMetrics(Utf8JsonWriter w, BacktestMetrics m)
    {
        w.WriteNumber("origins", m.Origins);
        Number(w, "mae", m.Mae);
        Number(w, "rmse", m.Rmse);
        Number(w, "smape", m.Smape);
        Number(w, "mase", m.Mase);
        Number(w, "mase_at_h", m.MaseAtHorizon);
        Number(w, "pinball", m.Pinball);
        Number(w, "coverage", m.Coverage);
        Number(w, "coverage_tracked", m.TrackedCoverage);
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;

namespace Predictor.Engine.Replay;

/// <summary>
/// Writes a replay result as JSON (schema <c>predictor.replay-result/1</c>): run facts, the verdict, and per policy its
/// metrics (percentages as shares 0..1, rates per day), dominance, per-partition metrics, placement metrics and
/// migrations; optionally every trace, for plotting elsewhere. Numbers are plain JSON numbers; a metric that does not
/// apply is null.
/// </summary>
public static class ReplayResultJson
{
    /// <summary>The schema name written in the file.</summary>
    public const string Schema = "predictor.replay-result/1";

    /// <summary>Writes the result to <paramref name="path"/>, creating its folder; atomically (a temporary file renamed over it), so an interrupted write leaves the previous file whole.</summary>
    /// <param name="result">The result.</param>
    /// <param name="path">Output file.</param>
    /// <param name="includeSeries">Also write every demand, allocation and load array (large: ticks × series numbers).</param>
    public static void WriteFile(ReplayResult result, string path, bool includeSeries = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Modules.DurableFiles.WriteAtomic(path, stream => Write(result, stream, includeSeries), durable: false);
    }

    /// <summary>Writes the result to a stream (UTF-8, indented; non-ASCII text such as × kept as is, since the file is never inlined in HTML).</summary>
    public static void Write(ReplayResult result, Stream stream, bool includeSeries = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var info = result.Info;
        w.WriteStartObject();
        w.WriteString("schema", Schema);
        w.WriteString("scenario", info.Scenario);
        w.WriteNumber("tickSeconds", info.TickLength.TotalSeconds);
        w.WriteNumber("ticks", result.TickCount);
        if (info.StartUnixMs is { } start)
        {
            w.WriteNumber("startUnixMs", start);
        }
        else
        {
            w.WriteNull("startUnixMs");
        }

        w.WriteNumber("totalBudget", info.TotalBudget);
        w.WriteString("budgetNote", info.BudgetNote);
        w.WriteString("unit", info.Unit);
        if (info.DownsampleNote is { } downsample)
        {
            w.WriteString("downsampleNote", downsample);
        }

        w.WriteStartObject("surge");
        w.WriteNumber("threshold", result.Surge.Threshold);
        w.WriteNumber("horizonTicks", result.Surge.HorizonTicks);
        w.WriteEndObject();
        w.WriteString("verdict", result.PredictiveVerdict());
        w.WriteStartArray("policies");
        foreach (var p in result.Policies)
        {
            WritePolicy(w, p, includeSeries);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WritePolicy(Utf8JsonWriter w, PolicyOutcome p, bool includeSeries)
    {
        var m = p.Metrics;
        w.WriteStartObject();
        w.WriteString("name", p.Run.Name);
        w.WriteBoolean("predictive", p.Run.IsPredictive);
        w.WriteBoolean("dominated", p.IsDominated);
        w.WriteStartArray("dominatedBy");
        foreach (var d in p.DominatedBy)
        {
            w.WriteStringValue(d);
        }

        w.WriteEndArray();
        w.WriteStartObject("metrics");
        WritePartitionMetrics(w, m.Partitions);
        w.WriteNumber("freedPoolShare", m.FreedPoolShare);
        w.WriteEndObject();
        w.WriteStartArray("partitions");
        for (var i = 0; i < p.Run.Partitions.Count; i++)
        {
            var trace = p.Run.Partitions[i];
            w.WriteStartObject();
            w.WriteString("name", trace.Name);
            WritePartitionMetrics(w, m.PerPartition[i]);
            if (includeSeries)
            {
                WriteArray(w, "demand", trace.Demand);
                WriteArray(w, "allocation", trace.Allocation);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (m.Placement is { } pl)
        {
            w.WriteStartObject("placement");
            w.WriteNumber("locationTicks", pl.LocationTicks);
            w.WriteNumber("overloadedLocationTicks", pl.OverloadedLocationTicks);
            w.WriteNumber("migrations", pl.Migrations);
            w.WriteNumber("migrationsPerModuleDay", pl.MigrationsPerModuleDay);
            w.WriteNumber("migrationsAheadOfSurge", pl.MigrationsAheadOfSurge);
            if (pl.AheadOfSurgeShare is { } share)
            {
                w.WriteNumber("aheadOfSurgeShare", share);
            }
            else
            {
                w.WriteNull("aheadOfSurgeShare");
            }

            w.WriteStartArray("migrationEvents");
            foreach (var e in p.Run.Migrations)
            {
                w.WriteStartObject();
                w.WriteNumber("tick", e.Tick);
                w.WriteString("module", e.Module);
                w.WriteString("from", e.From);
                w.WriteString("to", e.To);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (includeSeries)
            {
                w.WriteStartArray("locations");
                foreach (var l in p.Run.Locations)
                {
                    w.WriteStartObject();
                    w.WriteString("id", l.Id);
                    w.WriteNumber("capacity", l.Capacity);
                    WriteArray(w, "load", l.Load);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WritePartitionMetrics(Utf8JsonWriter w, PartitionMetrics m)
    {
        w.WriteNumber("ticks", m.Ticks);
        w.WriteNumber("underProvisionedTicks", m.UnderProvisionedTicks);
        w.WriteNumber("underProvisionedShare", m.UnderProvisionedShare);
        w.WriteNumber("relativeSlack", m.RelativeSlack);
        w.WriteNumber("changes", m.Changes);
        w.WriteNumber("changesPerPartitionDay", m.ChangesPerPartitionDay);
    }

    private static void WriteArray(Utf8JsonWriter w, string name, double[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteNumberValue(v);
        }

        w.WriteEndArray();
    }
}

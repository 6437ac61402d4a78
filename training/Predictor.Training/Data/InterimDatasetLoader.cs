using System.Globalization;
using Predictor.Engine;
using Predictor.Engine.Telemetry;

namespace Predictor.Training.Data;

/// <summary>
/// INTERIM: reads NAB and Azure V1 CSV files until the telemetry importers (Predictor.Engine.Telemetry.Import) land on
/// main; then this file is deleted and the CLI calls the importers. Strict: a malformed row is an error naming file and line.
/// </summary>
public static class InterimDatasetLoader
{
    /// <summary>Loads every series of <paramref name="format"/> (nab, azure-v1) under <paramref name="path"/> (a file or a directory).</summary>
    public static IReadOnlyList<RecordedSeries> Load(string format, string path)
    {
        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : File.Exists(path) ? [path] : throw new PredictorException($"Dataset '{path}' is neither a file nor a directory; check --dataset.");
        return format switch
        {
            "nab" => [.. files.Select(ReadNab)],
            "azure-v1" => [.. files.SelectMany(ReadAzureV1)],
            _ => throw new PredictorException($"Unknown --format '{format}'; use nab or azure-v1."),
        };
    }

    private static RecordedSeries ReadNab(string file)
    {
        var lines = File.ReadAllLines(file);
        if (lines.Length == 0 || lines[0].Trim() != "timestamp,value")
        {
            throw new PredictorException($"{file}:1: expected the NAB header 'timestamp,value'; is --format right?");
        }

        var ts = new List<long>();
        var vs = new List<double>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            var parts = lines[i].Split(',');
            if (parts.Length != 2
                || !DateTime.TryParseExact(parts[0], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            {
                throw new PredictorException($"{file}:{i + 1}: expected 'yyyy-MM-dd HH:mm:ss,number', found '{lines[i]}'.");
            }

            ts.Add(new DateTimeOffset(t, TimeSpan.Zero).ToUnixTimeMilliseconds());
            vs.Add(v);
        }

        string name = "nab/" + Path.GetFileNameWithoutExtension(file);
        return new RecordedSeries(new SeriesInfo(name, "percent", TimeSpan.FromSeconds(300)), [.. ts], [.. vs]);
    }

    private static IEnumerable<RecordedSeries> ReadAzureV1(string file)
    {
        var lines = File.ReadAllLines(file);
        var header = lines.Length > 0 ? lines[0].Split(',') : [];
        if (header.Length < 3 || header[0] != "row" || header[1] != "offset_s")
        {
            throw new PredictorException($"{file}:1: expected the Azure V1 header 'row,offset_s,vm_...'; is --format right?");
        }

        int columns = header.Length - 2;
        var ts = new long[lines.Length - 1];
        var vs = new double[columns][];
        for (int c = 0; c < columns; c++)
        {
            vs[c] = new double[lines.Length - 1];
        }

        for (int i = 1; i < lines.Length; i++)
        {
            var parts = lines[i].Split(',');
            if (parts.Length != header.Length || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double offset))
            {
                throw new PredictorException($"{file}:{i + 1}: expected {header.Length} comma-separated fields starting with row and offset_s.");
            }

            ts[i - 1] = (long)Math.Round(offset * 1000);
            for (int c = 0; c < columns; c++)
            {
                vs[c][i - 1] = parts[c + 2].Length == 0 || parts[c + 2] == "NA"
                    ? double.NaN
                    : double.TryParse(parts[c + 2], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                        ? v
                        : throw new PredictorException($"{file}:{i + 1}: column {c + 3} ('{header[c + 2]}') is not a number: '{parts[c + 2]}'.");
            }
        }

        for (int c = 0; c < columns; c++)
        {
            yield return new RecordedSeries(new SeriesInfo("azure-v1/" + header[c + 2], "percent", TimeSpan.FromSeconds(300)), ts, vs[c]);
        }
    }
}

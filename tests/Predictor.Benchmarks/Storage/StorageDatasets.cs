using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;

namespace Predictor.Benchmarks.Storage;

/// <summary>Every dataset in ../shared/datasets, imported as the CLI imports it.</summary>
internal static class StorageDatasets
{
    public static readonly string[] Names = ["nab", "azure_v1", "azure_v2", "google2019", "google2011"];

    public static IReadOnlyList<RecordedSeries> Load(string name)
    {
        var d = RepoPaths.SharedDatasets;
        var (format, files) = name switch
        {
            "nab" => (TraceFormat.Nab, Directory.GetFiles(Path.Combine(d, "nab"), "*.csv", SearchOption.AllDirectories)),
            "azure_v1" => (TraceFormat.AzureV1, Directory.GetFiles(Path.Combine(d, "azure_v1"), "*.csv")),
            "azure_v2" => (TraceFormat.Aggregate, Directory.GetFiles(Path.Combine(d, "datacenter_aggregates", "azure_v2"), "*.csv")),
            "google2019" => (TraceFormat.Aggregate, Directory.GetFiles(Path.Combine(d, "datacenter_aggregates", "google2019"), "*.csv")),
            "google2011" => (TraceFormat.Google2011, Directory.GetFiles(Path.Combine(d, "google2011_vms"))),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown dataset"),
        };
        Array.Sort(files, StringComparer.Ordinal);
        return [.. files.SelectMany(f => TraceImporter.Import(format, f).Series)];
    }
}

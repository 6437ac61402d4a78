using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.TestSupport;
using static Predictor.Cli.Tests.CliRun;

namespace Predictor.Cli.Tests.Telemetry;

[Collection(LiveLoopCollection.Name)]
public sealed class TelemetryCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-cli-telemetry-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(params string[] parts) =>
        RepoPaths.InRepo([.. new[] { "tests", "Predictor.Engine.Tests", "Fixtures", "traces" }, .. parts]);

    [Fact]
    public void Import_NabFilesThenSeriesShow_PrintsCountsAndStats()
    {
        var db = Path.Combine(_dir, "s.db");
        var nab = Path.Combine(RepoPaths.SharedDatasets, "nab", "data", "realAWSCloudwatch");
        var (code, output, err) = Run("import", "--format", "nab", Path.Combine(nab, "ec2_cpu_utilization_24ae8d.csv"), Path.Combine(nab, "rds_cpu_utilization_cc0c53.csv"), "--store", db);
        Assert.True(code == 0, err);
        Assert.Contains("imported 2 series, 8064 samples from 2 file(s)", output, StringComparison.Ordinal);
        // Not a terminal: no progress bars, no escape codes; stdout is the result line alone.
        Assert.Equal($"imported 2 series, 8064 samples from 2 file(s) into {db}", output.Trim());
        Assert.DoesNotContain("\u001b", output + err, StringComparison.Ordinal);

        (code, output, _) = Run("series", "list", "--store", db);
        Assert.Equal(0, code);
        Assert.Contains("nab/rds_cpu_utilization_cc0c53", output, StringComparison.Ordinal);
        Assert.Contains("2 series", output, StringComparison.Ordinal);

        (code, output, _) = Run("series", "show", "nab/ec2_cpu_utilization_24ae8d", "--store", db);
        Assert.Equal(0, code);
        Assert.Contains("count    4032", output, StringComparison.Ordinal);
        Assert.Contains("first    2014-02-14T14:30:00.000Z", output, StringComparison.Ordinal);
        Assert.Contains("step     5m", output, StringComparison.Ordinal);
        Assert.Contains("max      2.344", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_BadRow_FailsWithLocationUnlessSkipped()
    {
        var db = Path.Combine(_dir, "s.db");
        var bad = Fixture("bad", "nab_bad_value.csv");
        var (code, _, err) = Run("import", "--format", "nab", bad, "--store", db);
        Assert.Equal(1, code);
        Assert.Contains("nab_bad_value.csv:3:2:", err, StringComparison.Ordinal);

        (code, var output, err) = Run("import", "--format", "nab", bad, "--store", db, "--skip-bad-rows");
        Assert.True(code == 0, err);
        Assert.Contains("1 bad row(s) skipped", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_UnknownFormat_SaysWhichFormatsExist()
    {
        var (code, _, err) = Run("import", "--format", "parquet", Fixture("nab_small.csv"), "--store", Path.Combine(_dir, "s.db"));
        Assert.Equal(1, code);
        Assert.Contains("nab, azure-v1, aggregate, google2011, bitbrains, alibaba, csv", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10x", "is not a duration")]
    [InlineData("fast", "is not a duration")]
    [InlineData("0ms", "is shorter than 1 ms")]
    public void Collect_BadDuration_FailsWithClearError(string interval, string expected)
    {
        var (code, _, err) = Run("collect", "--store", Path.Combine(_dir, "c.db"), "--interval", interval);
        Assert.Equal(1, code);
        Assert.Contains($"--interval '{interval}' {expected}", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Collect_ShortDuration_RecordsHostSeries()
    {
        var db = Path.Combine(_dir, "c.db");
        var (code, output, err) = Run("collect", "--store", db, "--interval", "50ms", "--ticks", "5", "--module", $"self={Environment.ProcessId}");
        Assert.True(code == 0, err);
        Assert.Contains("for 5 readings", output, StringComparison.Ordinal);
        Assert.Contains("collected 5 ticks", output, StringComparison.Ordinal);
        Assert.Contains("all committed", output, StringComparison.Ordinal);
        using var store = TimeSeriesStore.Open(db);
        // Every tick wrote memory, every one after the first CPU; a late tick can share its millisecond with the next
        // (one sample per timestamp: at most two ticks a sample).
        var mem = store.ReadRange("host/mem/total", long.MinValue, long.MaxValue).Count;
        Assert.InRange(mem, 3, 5);
        Assert.True(store.ReadRange("host/cpu/busy", long.MinValue, long.MaxValue).Count >= 1);
        Assert.Equal(mem, store.ReadRange("module/self/mem", long.MinValue, long.MaxValue).Count);
    }

    [Fact]
    public void Collect_DurationAndTicks_StopsAtWhicheverComesFirst()
    {
        var db = Path.Combine(_dir, "c.db");
        var (code, output, err) = Run("collect", "--store", db, "--interval", "10ms", "--duration", "1h", "--ticks", "3");
        Assert.True(code == 0, err);
        Assert.Contains("for 1h or 3 readings, whichever is first", output, StringComparison.Ordinal);
        Assert.Contains("collected 3 ticks", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collect_Retention_DeletesWhatIsOlderAndKeepsTheRest()
    {
        var db = Path.Combine(_dir, "c.db");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var seeded = TimeSeriesStore.Open(db))
        {
            foreach (var (name, ageMs) in new[] { ("old/three-days", 3 * 86_400_000L), ("recent/one-hour", 3_600_000L) })
            {
                var id = seeded.Register(new SeriesInfo(name, "value", TimeSpan.FromSeconds(1)));
                await seeded.AppendAsync(id, [now - ageMs - 1000, now - ageMs], [1.0, 2.0]);
            }

            await seeded.FlushAsync();
        }

        var (code, output, err) = Run("collect", "--store", db, "--interval", "20ms", "--ticks", "3", "--retention", "1d");

        Assert.True(code == 0, err);
        Assert.Contains("into " + db + ", keeping 24h", output, StringComparison.Ordinal);
        Assert.Contains("; 1 chunks older than 24h deleted", output, StringComparison.Ordinal);
        using var store = TimeSeriesStore.Open(db);
        Assert.Equal(0, store.ReadRange("old/three-days", long.MinValue, long.MaxValue).Count);
        Assert.Equal([1.0, 2.0], store.ReadRange("recent/one-hour", long.MinValue, long.MaxValue).Values);
        Assert.InRange(store.ReadRange("host/mem/total", long.MinValue, long.MaxValue).Count, 2, 3);
    }

    [Theory]
    [InlineData("500ms", "--retention 500ms is too short: give at least 1s")]
    [InlineData("2x", "--retention '2x' is not a duration")]
    [InlineData("99999999999d", "--retention '99999999999d' is longer than 3650d, the longest it takes")]
    [InlineData("0.5ms", "--retention '0.5ms' is shorter than 1 ms")]
    public void Collect_BadRetention_FailsWithOneLineAndCreatesNoStore(string retention, string expected)
    {
        var db = Path.Combine(_dir, "c.db");

        var (code, output, err) = Run("collect", "--store", db, "--ticks", "1", "--retention", retention);

        Assert.Equal(1, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Equal(string.Empty, output);
        Assert.False(File.Exists(db), "a refused command must not create the store");
    }

    [Theory]
    [InlineData("--duration", "100000h", "--duration '100000h' is longer than 49d, the longest it takes; leave it out to run until Ctrl+C or SIGTERM.")]
    [InlineData("--interval", "60d", "--interval '60d' is longer than 49d")]
    [InlineData("--ticks", "abc", "--ticks 'abc' must be a whole number of ticks, 1 or more")]
    [InlineData("--ticks", "1.5", "--ticks '1.5' must be a whole number of ticks, 1 or more")]
    public void Collect_OptionOutOfRange_FailsSayingWhatItTakesAndCreatesNoStore(string option, string value, string expected)
    {
        var db = Path.Combine(_dir, "c.db");

        var (code, _, err) = Run("collect", "--store", db, option, value);

        Assert.Equal(1, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", err, StringComparison.Ordinal);
        Assert.False(File.Exists(db), "a refused command must not create the store");
    }

    [Fact]
    public void StoreThatIsADirectoryOrAnEmptyFile_IsOneLineAndNothingIsCreated()
    {
        var empty = Path.Combine(_dir, "empty.db");
        File.WriteAllBytes(empty, []);

        var collect = Run("collect", "--store", _dir, "--ticks", "1");
        var list = Run("series", "list", "--store", empty);
        var listDir = Run("series", "list", "--store", _dir);

        Assert.Equal(1, collect.Code);
        Assert.Contains($"Store '{_dir}' is a directory; give the path of a store file inside it", collect.Err, StringComparison.Ordinal);
        Assert.Equal(1, list.Code);
        Assert.Contains("is an empty file (0 bytes), not a store", list.Err, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(empty).Length);
        Assert.Equal(1, listDir.Code);
        Assert.Contains("is a directory", listDir.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", collect.Err + list.Err + listDir.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_BadFileAfterGoodOnes_SaysWhatWasKeptAndThatARerunFinishes()
    {
        var db = Path.Combine(_dir, "s.db");
        var good = Path.Combine(RepoPaths.SharedDatasets, "nab", "data", "realAWSCloudwatch", "ec2_cpu_utilization_24ae8d.csv");
        var bad = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(bad, "timestamp,value\nbad\n");

        var (code, _, err) = Run("import", "--format", "nab", good, bad, "--store", db);

        Assert.Equal(1, code);
        Assert.Contains("bad.csv:2:", err, StringComparison.Ordinal);
        Assert.Contains($"The 1 file(s) before it are imported and committed to {db}; fix this one, then run the same import again", err, StringComparison.Ordinal);
        using var store = Predictor.Engine.Storage.TimeSeriesStore.Open(db);
        Assert.Equal(4032, store.ReadRange("nab/ec2_cpu_utilization_24ae8d", long.MinValue, long.MaxValue).Count);
    }

    [Fact]
    public void Collect_AgainAtAnotherInterval_SaysTheStoredStepAndHowToKeepIt()
    {
        var db = Path.Combine(_dir, "c.db");
        Assert.Equal(0, Run("collect", "--store", db, "--ticks", "2").Code);

        var (code, _, err) = Run("collect", "--store", db, "--ticks", "2", "--interval", "1s");

        Assert.Equal(1, code);
        Assert.Contains("is already in this store with unit 'percent', recorded every 100 ms; these samples have unit 'percent', recorded every 1 s", err, StringComparison.Ordinal);
        Assert.Contains("write them to another store, or record at the stored step (100ms: collect --interval, run --tick)", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Collect_SameModuleNameTwice_IsRefused()
    {
        var db = Path.Combine(_dir, "c.db");

        var (code, _, err) = Run("collect", "--store", db, "--ticks", "1", "--module", $"web={Environment.ProcessId}", "--module", "web=1");

        Assert.Equal(1, code);
        Assert.Contains("--module 'web=1': the name 'web' is given twice", err, StringComparison.Ordinal);
        Assert.False(File.Exists(db));
    }

    [Fact]
    public void Collect_StoreAnotherWriterHolds_IsRefusedAndWritesNothing()
    {
        var db = Path.Combine(_dir, "c.db");
        using var other = TimeSeriesStore.Open(db);
        other.AcquireWriter();

        var (code, output, err) = Run("collect", "--store", db, "--ticks", "2");

        Assert.Equal(1, code);
        Assert.Equal(string.Empty, output);
        Assert.Contains($"Store '{db}' is being written by another process (it holds '{db}.lock')", err, StringComparison.Ordinal);
        Assert.Empty(other.ListSeries());
    }

    [Fact]
    public void Collect_ZeroTicks_FailsWithClearError()
    {
        var db = Path.Combine(_dir, "c.db");
        var (code, _, err) = Run("collect", "--store", db, "--ticks", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("--ticks '0' must be a whole number of ticks, 1 or more", err, StringComparison.Ordinal);
        Assert.False(File.Exists(db), "a refused command must not create the store");
    }

    [Fact]
    public void SeriesShow_NotAStore_FailsWithClearError()
    {
        var file = Path.Combine(_dir, "x.txt");
        File.WriteAllText(file, "hello, not a database, just text long enough");
        var (code, _, err) = Run("series", "list", "--store", file);
        Assert.Equal(1, code);
        Assert.Contains("not a SQLite file", err, StringComparison.Ordinal);
    }
}

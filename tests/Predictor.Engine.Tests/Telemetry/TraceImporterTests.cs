using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Telemetry;

public class TraceImporterTests
{
    private static string Fixture(params string[] parts) =>
        RepoPaths.InRepo([.. new[] { "tests", "Predictor.Engine.Tests", "Fixtures", "traces" }, .. parts]);

    private static readonly long Base = ImportOptions.DefaultEpochBase.ToUnixTimeMilliseconds();

    private static RecordedSeries Find(ImportResult r, string name) => Assert.Single(r.Series, s => s.Info.Name == name);

    [Fact]
    public void Import_Nab_ReadsUtcTimestampsAndExactValues()
    {
        var r = TraceImporter.Import(TraceFormat.Nab, Fixture("nab_small.csv"));
        var s = Assert.Single(r.Series);
        Assert.Equal("nab/nab_small", s.Info.Name);
        Assert.Equal(new DateTimeOffset(2014, 2, 14, 14, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), s.Timestamps[0]);
        Assert.Equal(51.846000000000004, s.Values[2]);
        Assert.Equal(TimeSpan.FromMinutes(5), s.Info.Step);
        Assert.Equal("percent", s.Info.Unit);
    }

    [Fact]
    public void Import_AzureV1_OneSeriesPerVmFromEpochBase()
    {
        var r = TraceImporter.Import(TraceFormat.AzureV1, Fixture("azure_v1_small.csv"));
        Assert.Equal(["azure-v1/vm_1633748", "azure-v1/vm_223811"], r.Series.Select(s => s.Info.Name));
        var vm = Find(r, "azure-v1/vm_223811");
        Assert.Equal(new[] { Base, Base + 300_000, Base + 600_000 }, vm.Timestamps);
        Assert.Equal(new[] { 5.860568, 5.9, 6 }, vm.Values);
    }

    [Fact]
    public void Import_AggregateWithAndWithoutTimestamps_UsesOffsetsOrRowIndex()
    {
        var timed = TraceImporter.Import(TraceFormat.Aggregate, Fixture("aggregate", "azure_v2", "cluster.csv"));
        var cpu = Find(timed, "aggregate/azure_v2/cpu_usage");
        Assert.Equal(Base + 600_000, cpu.Timestamps[2]);
        Assert.Equal(6126975.265552814, cpu.Values[1]);
        Assert.Equal(2, timed.Series.Count);

        var untimed = TraceImporter.Import(TraceFormat.Aggregate, Fixture("aggregate", "google2019", "cluster.csv"));
        var mem = Find(untimed, "aggregate/google2019/avg_mem");
        Assert.Equal(new[] { Base, Base + 300_000 }, mem.Timestamps);
        Assert.Equal(0.3267033332066497, mem.Values[1]);
    }

    [Fact]
    public void Import_Google2011_DayFromFileNameAndRowsEvery300s()
    {
        var day1 = TraceImporter.Import(TraceFormat.Google2011, Fixture("google2011", "vm_5718864796_1"));
        var cpu = Find(day1, "google2011/5718864796/cpu");
        Assert.Equal(new[] { Base, Base + 300_000, Base + 600_000 }, cpu.Timestamps);
        Assert.Equal(5.1209999999999996, Find(day1, "google2011/5718864796/mem").Values[2]);
        var day2 = TraceImporter.Import(TraceFormat.Google2011, Fixture("google2011", "vm_5718864796_2"));
        Assert.Equal(Base + 86_400_000, Find(day2, "google2011/5718864796/cpu").Timestamps[0]);
    }

    [Fact]
    public void Import_Bitbrains_TimestampColumnHoldsEpochSeconds()
    {
        var r = TraceImporter.Import(TraceFormat.Bitbrains, Fixture("bitbrains", "1.csv"));
        Assert.Equal(10, r.Series.Count);
        var cpu = Find(r, "bitbrains/1/cpu");
        Assert.Equal(1_376_314_846_000L, cpu.Timestamps[0]);
        Assert.Equal(new[] { 0.088857143, 0.111, 10 }, cpu.Values);
        Assert.Equal("MHz", Find(r, "bitbrains/1/cpu_usage").Info.Unit);
        Assert.Equal(4194304, Find(r, "bitbrains/1/mem_usage").Values[2]);
        Assert.Equal(TimeSpan.FromSeconds(300), cpu.Info.Step);
    }

    [Fact]
    public void Import_Alibaba_GroupsByMachineSortsAndSkipsEmptyFields()
    {
        var r = TraceImporter.Import(TraceFormat.Alibaba, Fixture("alibaba", "machine_usage.csv"));
        var cpu = Find(r, "alibaba/m_1932/cpu");
        Assert.Equal(new[] { Base, Base + 300_000, Base + 310_000 }, cpu.Timestamps);
        Assert.Equal(new[] { 24.0, 41, 43 }, cpu.Values);
        var disk = Find(r, "alibaba/m_1932/disk_io");
        Assert.Equal(new[] { Base }, disk.Timestamps);
        Assert.Equal(new[] { Base + 10_000 }, Find(r, "alibaba/m_7/net_in").Timestamps);
        Assert.Equal(2, Find(r, "alibaba/m_7/mem").Count);
        Assert.Equal(0, r.SkippedRows);
    }

    [Fact]
    public void Import_LongCsv_MixesIsoAndEpochSecondsAndMilliseconds()
    {
        var r = TraceImporter.Import(TraceFormat.Csv, Fixture("csv", "long.csv"));
        var six = new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var cpu = Find(r, "host/cpu/user");
        Assert.Equal(new[] { six, six + 1000, six + 2000 }, cpu.Timestamps);
        Assert.Equal(new[] { 12.5, 13, 11 }, cpu.Values);
        var mem = Find(r, "host/mem/used");
        Assert.Equal(new[] { 1_795_327_200_000L, 1_795_327_201_000L }, mem.Timestamps);
        Assert.Equal(new[] { 1024.0, 2048 }, mem.Values);
    }

    [Theory]
    [InlineData(TraceFormat.Nab, "nab_bad_value.csv", 3, 2, "expected a decimal number for 'value' but found 'abc'")]
    [InlineData(TraceFormat.Nab, "nab_bad_timestamp.csv", 3, 1, "expected a timestamp like 'yyyy-MM-dd HH:mm:ss'")]
    [InlineData(TraceFormat.Nab, "nab_backwards.csv", 3, 1, "expected a timestamp later than the previous row's")]
    [InlineData(TraceFormat.Nab, "nab_bad_header.csv", 1, 1, "expected the header 'timestamp,value'")]
    [InlineData(TraceFormat.AzureV1, "azure_v1_missing_field.csv", 3, 4, "expected 4 fields but found 3")]
    [InlineData(TraceFormat.AzureV1, "azure_v1_bad_offset.csv", 3, 2, "expected seconds from the trace start")]
    [InlineData(TraceFormat.Aggregate, "aggregate_bad_row.csv", 3, 2, "expected 2 fields but found 1")]
    [InlineData(TraceFormat.Google2011, "vm_1_1", 2, 2, "expected a decimal number for 'memory percent' but found 'five'")]
    [InlineData(TraceFormat.Bitbrains, "bitbrains_bad_timestamp.csv", 3, 1, "expected a whole number for 'epoch seconds'")]
    [InlineData(TraceFormat.Bitbrains, "bitbrains_comma_header.csv", 1, 1, "expected a Bitbrains GWA-T-12 header")]
    [InlineData(TraceFormat.Alibaba, "alibaba_bad.csv", 2, 3, "expected a decimal number for 'cpu' but found 'x'")]
    [InlineData(TraceFormat.Csv, "long_bad.csv", 3, 1, "expected an ISO-8601 timestamp")]
    public void Import_BadRow_ThrowsWithFileLineColumnAndExpectation(TraceFormat format, string file, long line, int column, string expected)
    {
        var path = Fixture("bad", file);
        var ex = Assert.Throws<TraceFormatException>(() => TraceImporter.Import(format, path));
        Assert.Equal(path, ex.File);
        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{path}:{line}:{column}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--skip-bad-rows", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_SkipBadRows_SkipsAndCountsEachBadRow()
    {
        var options = new ImportOptions { SkipBadRows = true };
        var nab = TraceImporter.Import(TraceFormat.Nab, Fixture("bad", "nab_bad_value.csv"), options);
        Assert.Equal(1, nab.SkippedRows);
        Assert.Equal(3, nab.Rows);
        Assert.Equal(new[] { 0.132, 0.2 }, Assert.Single(nab.Series).Values);

        // Bad timestamp, bad name, and a duplicate timestamp: three rows skipped, one kept.
        var csv = TraceImporter.Import(TraceFormat.Csv, Fixture("bad", "long_bad.csv"), options);
        Assert.Equal(3, csv.SkippedRows);
        Assert.Equal(3, csv.FirstProblems.Count);
        Assert.Equal(new[] { 1.0 }, Assert.Single(csv.Series).Values);

        var alibaba = TraceImporter.Import(TraceFormat.Alibaba, Fixture("bad", "alibaba_bad.csv"), options);
        Assert.Equal(2, alibaba.SkippedRows);
    }

    [Fact]
    public void Import_DuplicateTimestampInLongCsv_IsABadRowNamingItsLine()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "timestamp,series,value\n10,a/b,1\n20,a/b,2\n10,a/b,3\n");
        try
        {
            var ex = Assert.Throws<TraceFormatException>(() => TraceImporter.Import(TraceFormat.Csv, path));
            Assert.Equal(4, ex.Line);
            Assert.Contains("already has a row at", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("1600000000000000", "'1600000000000000' read as epoch milliseconds falls outside the years 1 to 9999")]
    [InlineData("300000000000000", "'300000000000000' read as epoch milliseconds falls outside the years 1 to 9999")]
    public void Import_CsvTimestampPastTheYear9999_IsABadRowSayingWhatToConvert(string timestamp, string expected)
    {
        // Epoch microseconds, a common export, read as milliseconds land in the year 52,000: no reader can print them.
        var path = Path.GetTempFileName();
        File.WriteAllText(path, $"timestamp,series,value\n1600000000000,a/b,1\n{timestamp},a/b,2\n");
        try
        {
            var ex = Assert.Throws<TraceFormatException>(() => TraceImporter.Import(TraceFormat.Csv, path));
            Assert.Equal(3, ex.Line);
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
            Assert.Contains("--csv-timestamps s|ms", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Import_Google2011FileNamedWithADateNotADay_IsRefused()
    {
        var dir = Directory.CreateTempSubdirectory("predictor-g2011-");
        try
        {
            var path = Path.Combine(dir.FullName, "vm_5718864796_20140101");
            File.Copy(Fixture("google2011", "vm_5718864796_1"), path);

            var ex = Assert.Throws<TraceFormatException>(() => TraceImporter.Import(TraceFormat.Google2011, path));

            Assert.Contains("the file name's day '20140101' is not a day of the trace (vm_<job>_<day>, day 1 to 3650)", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Import_SharedDatasets_ReadEveryFileWithExpectedCounts()
    {
        var d = RepoPaths.SharedDatasets;
        var nab = TraceImporter.Import(TraceFormat.Nab, Path.Combine(d, "nab", "data", "realAWSCloudwatch", "ec2_cpu_utilization_24ae8d.csv"));
        Assert.Equal(4032, Assert.Single(nab.Series).Count);
        var azure = TraceImporter.Import(TraceFormat.AzureV1, Path.Combine(d, "azure_v1", "microsoft_avg_100.subset30.csv"));
        Assert.Equal(30, azure.Series.Count);
        Assert.All(azure.Series, s => Assert.Equal(8004, s.Count));
        var g19 = TraceImporter.Import(TraceFormat.Aggregate, Path.Combine(d, "datacenter_aggregates", "google2019", "instance_usage_grouped_300_seconds_month.csv"));
        Assert.Equal(8064, g19.Series[0].Count);
        var v2 = TraceImporter.Import(TraceFormat.Aggregate, Path.Combine(d, "datacenter_aggregates", "azure_v2", "vm_cpu_readings_month_aggregated_cpu_mem.csv"));
        Assert.Equal(8640, v2.Series[0].Count); // SOURCES.md says 8,639; the file has 8,640 data rows after its header
        foreach (var f in Directory.GetFiles(Path.Combine(d, "google2011_vms")).Take(20))
        {
            Assert.All(TraceImporter.Import(TraceFormat.Google2011, f).Series, s => Assert.Equal(288, s.Count));
        }
    }
}

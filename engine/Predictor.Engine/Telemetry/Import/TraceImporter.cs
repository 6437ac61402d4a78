using System.Globalization;
using System.Text;

namespace Predictor.Engine.Telemetry.Import;

/// <summary>
/// Reads recorded traces into <see cref="RecordedSeries"/>. Numbers are parsed with <see cref="double.Parse(string, IFormatProvider)"/>
/// in the invariant culture (the nearest double to the decimal text), which the store's decimal codec relies on to stay
/// lossless. Every bad row is a <see cref="TraceFormatException"/> naming file, line and column, unless
/// <see cref="ImportOptions.SkipBadRows"/> is set, in which case the row is skipped whole and counted.
/// </summary>
public static class TraceImporter
{
    private const int MaxProblemsKept = 20;

    /// <summary>Parses a format name as the CLI spells it: nab, azure-v1, aggregate, google2011, bitbrains, alibaba, csv.</summary>
    public static TraceFormat ParseFormat(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "nab" => TraceFormat.Nab,
        "azure-v1" or "azurev1" => TraceFormat.AzureV1,
        "aggregate" => TraceFormat.Aggregate,
        "google2011" => TraceFormat.Google2011,
        "bitbrains" => TraceFormat.Bitbrains,
        "alibaba" => TraceFormat.Alibaba,
        "csv" => TraceFormat.Csv,
        _ => throw new PredictorException(
            $"Unknown trace format '{name}'; use one of nab, azure-v1, aggregate, google2011, bitbrains, alibaba, csv."),
    };

    /// <summary>Reads one file of the given format.</summary>
    public static ImportResult Import(TraceFormat format, string path, ImportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new ImportOptions();
        if (!File.Exists(path))
        {
            throw new PredictorException($"Trace file '{path}' does not exist; check the path.");
        }

        var ctx = new Context(path, options);
        switch (format)
        {
            case TraceFormat.Nab:
                ReadNab(ctx);
                break;
            case TraceFormat.AzureV1:
                ReadAzureV1(ctx);
                break;
            case TraceFormat.Aggregate:
                ReadAggregate(ctx);
                break;
            case TraceFormat.Google2011:
                ReadGoogle2011(ctx);
                break;
            case TraceFormat.Bitbrains:
                ReadBitbrains(ctx);
                break;
            case TraceFormat.Alibaba:
                ReadAlibaba(ctx);
                break;
            case TraceFormat.Csv:
                ReadLongCsv(ctx);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown format.");
        }

        return ctx.Result();
    }

    private static void ReadNab(Context ctx)
    {
        var header = ctx.ReadHeader(',');
        ctx.ExpectHeader(header, ["timestamp", "value"]);
        var series = ctx.Series("nab/" + SeriesNames.Segment(Path.GetFileNameWithoutExtension(ctx.Path)), "percent", TimeSpan.FromSeconds(300));
        ctx.ForEachRow(',', fields =>
        {
            ctx.ExpectFieldCount(fields, 2);
            var t = ctx.ParseDateTime(fields[0], 1, "yyyy-MM-dd HH:mm:ss");
            var v = ctx.ParseDouble(fields[1], 2, "value");
            series.CheckLater(ctx, t, 1);
            series.Add(t, v);
        });
    }

    private static void ReadAzureV1(Context ctx)
    {
        var header = ctx.ReadHeader(',');
        if (header.Length < 3 || !header[0].Equals("row", StringComparison.OrdinalIgnoreCase) || !header[1].Equals("offset_s", StringComparison.OrdinalIgnoreCase))
        {
            throw ctx.Error(1, 1, $"expected the header 'row,offset_s,vm_<id>,...' but found '{string.Join(',', header)}'");
        }

        var series = new SeriesBuilder[header.Length - 2];
        for (var i = 0; i < series.Length; i++)
        {
            series[i] = ctx.Series("azure-v1/" + SeriesNames.Segment(header[i + 2]), "percent", TimeSpan.FromSeconds(300));
        }

        var values = new double[series.Length];
        ctx.ForEachRow(',', fields =>
        {
            ctx.ExpectFieldCount(fields, header.Length);
            var t = ctx.OffsetSeconds(fields[1], 2);
            for (var i = 0; i < series.Length; i++)
            {
                values[i] = ctx.ParseDouble(fields[i + 2], i + 3, header[i + 2]);
            }

            series[0].CheckLater(ctx, t, 2);
            for (var i = 0; i < series.Length; i++)
            {
                series[i].Add(t, values[i]);
            }
        });
    }

    private static void ReadAggregate(Context ctx)
    {
        var header = ctx.ReadHeader(',');
        var timed = header[0].Equals("timestamp", StringComparison.OrdinalIgnoreCase);
        var first = timed ? 1 : 0;
        if (header.Length <= first)
        {
            throw ctx.Error(1, 1, "expected a header with at least one value column");
        }

        var dataset = SeriesNames.Segment(new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(ctx.Path))!).Name);
        var series = new SeriesBuilder[header.Length - first];
        for (var i = 0; i < series.Length; i++)
        {
            series[i] = ctx.Series($"aggregate/{dataset}/{SeriesNames.Segment(header[i + first])}", "as-recorded", ctx.Options.RowStep);
        }

        var values = new double[series.Length];
        long row = 0;
        ctx.ForEachRow(',', fields =>
        {
            ctx.ExpectFieldCount(fields, header.Length);
            var t = timed ? ctx.OffsetSeconds(fields[0], 1) : ctx.BaseMs + (row * (long)ctx.Options.RowStep.TotalMilliseconds);
            for (var i = 0; i < series.Length; i++)
            {
                values[i] = ctx.ParseDouble(fields[i + first], i + first + 1, header[i + first]);
            }

            series[0].CheckLater(ctx, t, 1);
            for (var i = 0; i < series.Length; i++)
            {
                series[i].Add(t, values[i]);
            }

            row++;
        });
    }

    // The last day number a google2011 file name may carry: ten years of days, far past the trace's 29.
    private const long MaxGoogleDay = 3650;

    private static void ReadGoogle2011(Context ctx)
    {
        // vm_<job>_<day>: day d starts (d − 1) days after the epoch base.
        var name = Path.GetFileName(ctx.Path);
        var job = name;
        long day = 1;
        var parts = name.Split('_');
        if (parts.Length == 3 && parts[0] == "vm" && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var d) && d >= 1)
        {
            if (d > MaxGoogleDay)
            {
                throw new TraceFormatException(ctx.Path, 1, 1, string.Create(CultureInfo.InvariantCulture,
                    $"the file name's day '{parts[2]}' is not a day of the trace (vm_<job>_<day>, day 1 to {MaxGoogleDay}); rename the file with the day number it holds, e.g. vm_{parts[1]}_1"));
            }

            job = parts[1];
            day = d;
        }

        job = SeriesNames.Segment(job);
        var step = (long)ctx.Options.RowStep.TotalMilliseconds;
        var cpu = ctx.Series($"google2011/{job}/cpu", "percent", ctx.Options.RowStep);
        var mem = ctx.Series($"google2011/{job}/mem", "percent", ctx.Options.RowStep);
        long row = 0;
        var start = ctx.BaseMs + ((day - 1) * 86_400_000L);
        ctx.ForEachRow(null, fields =>
        {
            ctx.ExpectFieldCount(fields, 2);
            var c = ctx.ParseDouble(fields[0], 1, "cpu percent");
            var m = ctx.ParseDouble(fields[1], 2, "memory percent");
            var t = start + (row * step);
            cpu.Add(t, c);
            mem.Add(t, m);
            row++;
        });
    }

    private static readonly (string Header, string Key, string Unit)[] BitbrainsColumns =
    [
        ("Timestamp [ms]", "", ""),
        ("CPU cores", "cpu_cores", "cores"),
        ("CPU capacity provisioned [MHZ]", "cpu_capacity", "MHz"),
        ("CPU usage [MHZ]", "cpu_usage", "MHz"),
        ("CPU usage [%]", "cpu", "percent"),
        ("Memory capacity provisioned [KB]", "mem_capacity", "KB"),
        ("Memory usage [KB]", "mem_usage", "KB"),
        ("Disk read throughput [KB/s]", "disk_read", "KB/s"),
        ("Disk write throughput [KB/s]", "disk_write", "KB/s"),
        ("Network received throughput [KB/s]", "net_rx", "KB/s"),
        ("Network transmitted throughput [KB/s]", "net_tx", "KB/s"),
    ];

    private static void ReadBitbrains(Context ctx)
    {
        var header = ctx.ReadHeader(';');
        var index = new int[BitbrainsColumns.Length];
        for (var c = 0; c < BitbrainsColumns.Length; c++)
        {
            index[c] = Array.FindIndex(header, h => h.Equals(BitbrainsColumns[c].Header, StringComparison.OrdinalIgnoreCase));
            if (index[c] < 0)
            {
                throw ctx.Error(1, 1,
                    $"expected a Bitbrains GWA-T-12 header with column '{BitbrainsColumns[c].Header}' (fields separated by ';' and a TAB), but it is missing");
            }
        }

        var vm = SeriesNames.Segment(Path.GetFileNameWithoutExtension(ctx.Path));
        var series = new SeriesBuilder[BitbrainsColumns.Length];
        for (var c = 1; c < BitbrainsColumns.Length; c++)
        {
            series[c] = ctx.Series($"bitbrains/{vm}/{BitbrainsColumns[c].Key}", BitbrainsColumns[c].Unit, TimeSpan.FromSeconds(300));
        }

        var values = new double[BitbrainsColumns.Length];
        ctx.ForEachRow(';', fields =>
        {
            ctx.ExpectFieldCount(fields, header.Length);

            // The column says [ms] but holds epoch seconds (GWA-T-12's documented quirk).
            var seconds = ctx.ParseLong(fields[index[0]], index[0] + 1, "epoch seconds");
            var t = seconds * 1000;
            for (var c = 1; c < BitbrainsColumns.Length; c++)
            {
                values[c] = ctx.ParseDouble(fields[index[c]], index[c] + 1, BitbrainsColumns[c].Header);
            }

            series[1].CheckLater(ctx, t, index[0] + 1);
            for (var c = 1; c < BitbrainsColumns.Length; c++)
            {
                series[c].Add(t, values[c]);
            }
        });
    }

    private static readonly (string Key, string Unit)[] AlibabaColumns =
    [
        ("cpu", "percent"), ("mem", "percent"), ("mem_gps", "GB/s"), ("mkpi", "misses/kinstr"),
        ("net_in", "normalized"), ("net_out", "normalized"), ("disk_io", "percent"),
    ];

    private static void ReadAlibaba(Context ctx)
    {
        var byMachine = new Dictionary<string, SeriesBuilder[]>(StringComparer.Ordinal);
        var values = new double[AlibabaColumns.Length];
        var present = new bool[AlibabaColumns.Length];
        ctx.ForEachRow(',', fields =>
        {
            ctx.ExpectFieldCount(fields, 2 + AlibabaColumns.Length);
            var machine = fields[0].Trim();
            if (machine.Length == 0)
            {
                throw ctx.Error(ctx.Line, 1, "expected a machine id (e.g. m_1932) but the field is empty");
            }

            var t = ctx.OffsetSeconds(fields[1], 2);
            for (var c = 0; c < AlibabaColumns.Length; c++)
            {
                // Empty fields are part of the format: that metric is simply absent at this time.
                present[c] = fields[c + 2].Trim().Length > 0;
                values[c] = present[c] ? ctx.ParseDouble(fields[c + 2], c + 3, AlibabaColumns[c].Key) : double.NaN;
            }

            if (!byMachine.TryGetValue(machine, out var series))
            {
                series = new SeriesBuilder[AlibabaColumns.Length];
                var segment = SeriesNames.Segment(machine);
                for (var c = 0; c < AlibabaColumns.Length; c++)
                {
                    series[c] = ctx.Series($"alibaba/{segment}/{AlibabaColumns[c].Key}", AlibabaColumns[c].Unit, TimeSpan.FromSeconds(10), sortAtEnd: true);
                }

                byMachine.Add(machine, series);
            }

            for (var c = 0; c < AlibabaColumns.Length; c++)
            {
                if (present[c])
                {
                    series[c].Add(t, values[c], ctx.Line);
                }
            }
        });
    }

    private static void ReadLongCsv(Context ctx)
    {
        var header = ctx.ReadHeader(',');
        ctx.ExpectHeader(header, ["timestamp", "series", "value"]);
        var bySeries = new Dictionary<string, SeriesBuilder>(StringComparer.Ordinal);
        ctx.ForEachRow(',', fields =>
        {
            ctx.ExpectFieldCount(fields, 3);
            var t = ctx.ParseCsvTimestamp(fields[0], 1);
            var name = fields[1].Trim();
            try
            {
                SeriesNames.Validate(name);
            }
            catch (PredictorException ex)
            {
                throw ctx.Error(ctx.Line, 2, $"expected a series name like 'host/cpu/user': {ex.Message}");
            }

            var v = ctx.ParseDouble(fields[2], 3, "value");
            if (!bySeries.TryGetValue(name, out var series))
            {
                series = ctx.Series(name, "as-recorded", TimeSpan.Zero, sortAtEnd: true);
                bySeries.Add(name, series);
            }

            series.Add(t, v, ctx.Line);
        });
    }

    /// <summary>Accumulates one series; infers the step from the median interval when the file has one.</summary>
    private sealed class SeriesBuilder(string name, string unit, TimeSpan defaultStep, bool sortAtEnd)
    {
        private readonly List<long> _t = [];
        private readonly List<double> _v = [];
        private readonly List<long> _lines = [];

        public string Name { get; } = name;

        public void CheckLater(Context ctx, long t, int column)
        {
            if (_t.Count > 0 && t <= _t[^1])
            {
                throw ctx.Error(ctx.Line, column,
                    $"expected a timestamp later than the previous row's ({FormatMs(_t[^1])}) but found {FormatMs(t)}");
            }
        }

        public void Add(long t, double v, long line = 0)
        {
            _t.Add(t);
            _v.Add(v);
            if (sortAtEnd)
            {
                _lines.Add(line);
            }
        }

        public RecordedSeries Build(Context ctx)
        {
            var t = _t.ToArray();
            var v = _v.ToArray();
            if (sortAtEnd)
            {
                // Stable order by time; a repeated timestamp is ambiguous data, so it is a bad row (or skipped).
                var order = Enumerable.Range(0, t.Length).OrderBy(i => t[i]).ToArray();
                var keepT = new List<long>(t.Length);
                var keepV = new List<double>(t.Length);
                foreach (var i in order)
                {
                    if (keepT.Count > 0 && keepT[^1] == t[i])
                    {
                        ctx.DuplicateTimestamp(Name, t[i], _lines[i]);
                        continue;
                    }

                    keepT.Add(t[i]);
                    keepV.Add(v[i]);
                }

                t = [.. keepT];
                v = [.. keepV];
            }

            return new RecordedSeries(new SeriesInfo(Name, unit, InferStep(t, defaultStep)), t, v);
        }

        private static TimeSpan InferStep(long[] t, TimeSpan fallback)
        {
            if (t.Length < 2)
            {
                return fallback > TimeSpan.Zero ? fallback : TimeSpan.FromSeconds(1);
            }

            var deltas = new long[t.Length - 1];
            for (var i = 1; i < t.Length; i++)
            {
                deltas[i - 1] = t[i] - t[i - 1];
            }

            Array.Sort(deltas);
            return TimeSpan.FromMilliseconds(deltas[deltas.Length / 2]);
        }
    }

    private static string FormatMs(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>One file being read: line numbers, bad-row policy, the series it produces.</summary>
    private sealed class Context(string path, ImportOptions options)
    {
        private readonly List<SeriesBuilder> _series = [];
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private readonly List<string> _problems = [];
        private StreamReader? _reader;
        private long _rows;
        private long _skipped;

        public string Path { get; } = path;

        public ImportOptions Options { get; } = options;

        public long Line { get; private set; }

        public long BaseMs { get; } = options.EpochBase.ToUnixTimeMilliseconds();

        public SeriesBuilder Series(string name, string unit, TimeSpan step, bool sortAtEnd = false)
        {
            SeriesNames.Validate(name);
            if (!_names.Add(name))
            {
                throw Error(1, 1, $"expected distinct column names, but two columns map to series '{name}'");
            }

            var s = new SeriesBuilder(name, unit, step, sortAtEnd);
            _series.Add(s);
            return s;
        }

        public string[] ReadHeader(char? separator)
        {
            _reader ??= new StreamReader(Path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
            var line = _reader.ReadLine();
            Line = 1;
            if (line is null)
            {
                throw Error(1, 1, "expected a header line but the file is empty");
            }

            return Split(line, separator);
        }

        public void ExpectHeader(string[] header, string[] expected)
        {
            var ok = header.Length == expected.Length;
            for (var i = 0; ok && i < expected.Length; i++)
            {
                ok = header[i].Equals(expected[i], StringComparison.OrdinalIgnoreCase);
            }

            if (!ok)
            {
                throw Error(1, 1, $"expected the header '{string.Join(',', expected)}' but found '{string.Join(',', header)}'");
            }
        }

        public void ForEachRow(char? separator, Action<string[]> row)
        {
            _reader ??= new StreamReader(Path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
            string? line;
            while ((line = _reader.ReadLine()) is not null)
            {
                Line++;
                if (line.Length == 0 || (line.Trim().Length == 0))
                {
                    continue;
                }

                _rows++;
                try
                {
                    row(Split(line, separator));
                }
                catch (TraceFormatException ex) when (Options.SkipBadRows)
                {
                    Skip(ex.Message);
                }

                if ((_rows & 0xFFF) == 0)
                {
                    Options.OnProgress?.Invoke(_reader.BaseStream.Position);
                }
            }

            Options.OnProgress?.Invoke(_reader.BaseStream.Length);
        }

        public void ExpectFieldCount(string[] fields, int count)
        {
            if (fields.Length != count)
            {
                throw Error(Line, Math.Min(fields.Length, count) + 1, $"expected {count} fields but found {fields.Length}");
            }
        }

        public double ParseDouble(string field, int column, string what)
        {
            var s = field.Trim();
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                throw Error(Line, column, $"expected a decimal number for '{what}' but found '{s}'");
            }

            return v;
        }

        public long ParseLong(string field, int column, string what)
        {
            var s = field.Trim();
            if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            {
                throw Error(Line, column, $"expected a whole number for '{what}' but found '{s}'");
            }

            return v;
        }

        public long OffsetSeconds(string field, int column)
        {
            var s = field.Trim();
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > 1e11)
            {
                throw Error(Line, column, $"expected seconds from the trace start (a non-negative number) but found '{s}'");
            }

            return BaseMs + (long)Math.Round(seconds * 1000);
        }

        public long ParseDateTime(string field, int column, string format)
        {
            var s = field.Trim();
            if (!DateTime.TryParseExact(s, format, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt))
            {
                throw Error(Line, column, $"expected a timestamp like '{format}' (UTC) but found '{s}'");
            }

            return new DateTimeOffset(dt, TimeSpan.Zero).ToUnixTimeMilliseconds();
        }

        public long ParseCsvTimestamp(string field, int column)
        {
            var s = field.Trim();
            var mode = Options.CsvTimestamps;
            var isNumber = double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var number);
            if (mode == CsvTimestampFormat.Auto)
            {
                mode = !isNumber ? CsvTimestampFormat.Iso8601 : Math.Abs(number) >= 1e11 ? CsvTimestampFormat.EpochMilliseconds : CsvTimestampFormat.EpochSeconds;
            }

            // Epoch numbers must land in years 1 to 9999, the calendar every reader of the store can print; microseconds or
            // nanoseconds read as milliseconds would land tens of thousands of years ahead.
            const double LastMs = 253_402_300_799_999, FirstMs = -62_135_596_800_000;
            var ms = mode == CsvTimestampFormat.EpochSeconds ? number * 1000 : number;
            if (isNumber && mode is CsvTimestampFormat.EpochSeconds or CsvTimestampFormat.EpochMilliseconds && (ms > LastMs || ms < FirstMs))
            {
                throw Error(Line, column, string.Create(CultureInfo.InvariantCulture,
                    $"the timestamp '{s}' read as epoch {(mode == CsvTimestampFormat.EpochSeconds ? "seconds" : "milliseconds")} falls outside the years 1 to 9999; if it counts microseconds or nanoseconds, convert it to seconds or milliseconds (or pick the unit with --csv-timestamps s|ms)"));
            }

            switch (mode)
            {
                case CsvTimestampFormat.EpochSeconds when isNumber:
                    return (long)Math.Round(ms);
                case CsvTimestampFormat.EpochMilliseconds when isNumber:
                    return (long)Math.Round(ms);
                case CsvTimestampFormat.Iso8601 when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto):
                    return dto.ToUnixTimeMilliseconds();
                default:
                    throw Error(Line, column, mode switch
                    {
                        CsvTimestampFormat.Iso8601 => $"expected an ISO-8601 timestamp (e.g. 2026-11-21T06:00:00Z) or epoch seconds/milliseconds but found '{s}'",
                        CsvTimestampFormat.EpochSeconds => $"expected epoch seconds but found '{s}'",
                        _ => $"expected epoch milliseconds but found '{s}'",
                    });
            }
        }

        public TraceFormatException Error(long line, int column, string problem) => new(Path, line, column, problem);

        public void DuplicateTimestamp(string series, long t, long line)
        {
            var message = $"{Path}:{line}:1: series '{series}' already has a row at {FormatMs(t)}; this row was dropped";
            if (!Options.SkipBadRows)
            {
                throw new TraceFormatException(Path, line, 1,
                    $"expected one row per series and timestamp, but series '{series}' already has a row at {FormatMs(t)}");
            }

            Skip(message);
        }

        public ImportResult Result()
        {
            _reader?.Dispose();
            var series = _series.Select(s => s.Build(this)).ToList();
            return new ImportResult(series, _rows, _skipped, _problems);
        }

        private void Skip(string message)
        {
            _skipped++;
            if (_problems.Count < MaxProblemsKept)
            {
                _problems.Add(message);
            }
        }

        private static string[] Split(string line, char? separator)
        {
            if (separator is null)
            {
                return line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            }

            var fields = line.Split(separator.Value);
            if (separator == ';')
            {
                // Bitbrains writes ";\t" between fields.
                for (var i = 0; i < fields.Length; i++)
                {
                    fields[i] = fields[i].Trim(' ', '\t');
                }
            }

            return fields;
        }
    }
}

namespace Predictor.Engine.Telemetry.Import;

/// <summary>The trace formats <see cref="TraceImporter"/> reads.</summary>
public enum TraceFormat
{
    /// <summary>Numenta Anomaly Benchmark CSV: header <c>timestamp,value</c>, timestamps <c>2014-02-14 14:30:00</c> (UTC).</summary>
    Nab,

    /// <summary>Azure Public Dataset V1 wide CSV: <c>row,offset_s,vm_&lt;id&gt;...</c>, offsets in seconds from the trace start.</summary>
    AzureV1,

    /// <summary>Datacenter aggregates: a header of columns; a first column <c>timestamp</c> holds seconds from the start, otherwise row i is at i × step.</summary>
    Aggregate,

    /// <summary>Google cluster-data 2011 per-job file <c>vm_&lt;job&gt;_&lt;day&gt;</c>: no header, whitespace-separated CPU % and memory %, every 300 s.</summary>
    Google2011,

    /// <summary>Bitbrains GWA-T-12 per-VM CSV: fields separated by <c>;</c> and a TAB, "Timestamp [ms]" holding epoch seconds.</summary>
    Bitbrains,

    /// <summary>Alibaba cluster-trace 2018 <c>machine_usage.csv</c>: no header, seconds from the trace start, empty fields allowed.</summary>
    Alibaba,

    /// <summary>Generic long CSV: header <c>timestamp,series,value</c>.</summary>
    Csv,
}

/// <summary>How the generic CSV's timestamp column is read.</summary>
public enum CsvTimestampFormat
{
    /// <summary>
    /// A number is epoch milliseconds when its magnitude is at least 1e11 (after 1973-03-03 in ms), epoch seconds
    /// otherwise (1e11 s is the year 5138); anything else is read as ISO-8601.
    /// </summary>
    Auto,

    /// <summary>ISO-8601, e.g. <c>2026-11-21T06:00:00Z</c>; without an offset it is taken as UTC.</summary>
    Iso8601,

    /// <summary>Seconds since the Unix epoch (fractions allowed, rounded to the millisecond).</summary>
    EpochSeconds,

    /// <summary>Milliseconds since the Unix epoch.</summary>
    EpochMilliseconds,
}

/// <summary>Options of <see cref="TraceImporter"/>.</summary>
public sealed class ImportOptions
{
    /// <summary>The documented epoch base of traces that have no wall-clock time: Monday 2020-01-06T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultEpochBase = new(2020, 1, 6, 0, 0, 0, TimeSpan.Zero);

    private TimeSpan _rowStep = TimeSpan.FromSeconds(300);

    /// <summary>When true, a bad row is skipped and counted in <see cref="ImportResult.SkippedRows"/> instead of stopping the import.</summary>
    /// <value>The default value is false.</value>
    public bool SkipBadRows { get; set; }

    /// <summary>
    /// Wall-clock time given to "time zero" of traces that only count from their start (Azure V1, aggregates,
    /// Google 2011, Alibaba). A Monday at midnight UTC, so hour-of-day and day-of-week features start at zero.
    /// </summary>
    /// <value>The default value is 2020-01-06T00:00:00Z (<see cref="DefaultEpochBase"/>).</value>
    public DateTimeOffset EpochBase { get; set; } = DefaultEpochBase;

    /// <summary>Time between rows of files without any time column (the Google 2019 aggregate, Google 2011).</summary>
    /// <value>The default value is 300 seconds. Must be positive and a whole number of milliseconds.</value>
    public TimeSpan RowStep
    {
        get => _rowStep;
        set => _rowStep = value > TimeSpan.Zero && value.Ticks % TimeSpan.TicksPerMillisecond == 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(RowStep), value, "RowStep must be a positive whole number of milliseconds.");
    }

    /// <summary>How the generic CSV's timestamps are read.</summary>
    /// <value>The default value is <see cref="CsvTimestampFormat.Auto"/>.</value>
    public CsvTimestampFormat CsvTimestamps { get; set; } = CsvTimestampFormat.Auto;

    /// <summary>Called now and then with the bytes of the file read so far (for a progress bar).</summary>
    /// <value>The default value is null.</value>
    public Action<long>? OnProgress { get; set; }
}

/// <summary>What an import produced.</summary>
/// <param name="Series">The series read, by name.</param>
/// <param name="Rows">Data rows read (bad ones included).</param>
/// <param name="SkippedRows">Bad rows skipped (only with <see cref="ImportOptions.SkipBadRows"/>).</param>
/// <param name="FirstProblems">The first few skipped rows' messages (file:line:column: what was expected).</param>
public sealed record ImportResult(IReadOnlyList<RecordedSeries> Series, long Rows, long SkippedRows, IReadOnlyList<string> FirstProblems);

/// <summary>A row of a trace file that cannot be read: names the file, line and column and what was expected.</summary>
public sealed class TraceFormatException : PredictorException
{
    /// <summary>Creates the error.</summary>
    public TraceFormatException(string file, long line, int column, string problem)
        : base($"{file}:{line}:{column}: {problem}. Fix the row, or skip and count bad rows with `predictor import --skip-bad-rows` (ImportOptions.SkipBadRows).")
    {
        File = file;
        Line = line;
        Column = column;
        Problem = problem;
    }

    /// <summary>Creates an error with no location; prefer the constructor with file, line and column.</summary>
    public TraceFormatException()
    {
        File = "";
        Problem = "";
    }

    /// <summary>Creates an error with no location; prefer the constructor with file, line and column.</summary>
    public TraceFormatException(string message)
        : base(message)
    {
        File = "";
        Problem = message;
    }

    /// <summary>Creates an error with no location; prefer the constructor with file, line and column.</summary>
    public TraceFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = "";
        Problem = message;
    }

    /// <summary>The file.</summary>
    public string File { get; }

    /// <summary>1-based line number.</summary>
    public long Line { get; }

    /// <summary>1-based column (field) number.</summary>
    public int Column { get; }

    /// <summary>What was wrong and what was expected.</summary>
    public string Problem { get; }
}

using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Predictor.Engine;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;
using Predictor.Engine.Telemetry.Import;
using Spectre.Console;

namespace Predictor.Cli.Commands;

/// <summary><c>predictor collect</c>, <c>predictor import</c> and <c>predictor series list|show</c>.</summary>
internal static class TelemetryCommands
{
    public static IEnumerable<Command> Build() => [Collect(), Import(), Series()];

    private static Option<string> StoreOption(bool creates = true) => new("--store")
    {
        Description = creates ? "The SQLite store file (created if missing)." : "The SQLite store file, written by `predictor collect` or `predictor import`.",
        Required = true,
    };

    private static Command Collect()
    {
        var store = StoreOption();
        var interval = new Option<string>("--interval") { Description = "Time between readings, e.g. 100ms, 1s.", DefaultValueFactory = _ => "100ms" };
        var duration = new Option<string?>("--duration") { Description = "Stop after this long, e.g. 10m, 1h (default: until Ctrl+C or SIGTERM, or --ticks)." };
        var ticks = RunCommands.TickCountOption("Stop after this many readings (whichever of --duration and --ticks comes first).");
        var retention = new Option<string?>("--retention")
        {
            Description = "Keep only this much of the store, e.g. 14d: older samples are deleted at the start and then every quarter of it (at most every hour) while collecting (default: keep everything).",
        };
        var modules = new Option<string[]>("--module")
        {
            Description = "Watch a module process: NAME=PID (repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        var partitions = new Option<string[]>("--partition")
        {
            Description = "Watch a partition cgroup: NAME=CGROUP_PATH, e.g. user=user.slice (repeatable).",
        };
        var cmd = new Command("collect", "Record this machine's CPU, memory, pressure, module and partition usage into a store. Ctrl+C or SIGTERM stops and flushes.")
        {
            store, interval, duration, ticks, retention, modules, partitions,
        };
        cmd.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var every = Durations.Parse(parseResult.GetValue(interval)!, "--interval", Durations.LongestWait);
            var forHowLong = parseResult.GetValue(duration) is { } d ? Durations.Parse(d, "--duration", Durations.LongestWait) : (TimeSpan?)null;
            var maxTicks = parseResult.GetValue(ticks);
            var keep = parseResult.GetValue(retention) is { } r ? Durations.Parse(r, "--retention") : (TimeSpan?)null;
            if (keep < StoreRetention.Minimum)
            {
                throw new PredictorException($"--retention {Durations.Format(keep.Value)} is too short: give at least 1s, e.g. 14d for two weeks (or leave it out to keep everything).");
            }

            var options = new HostTelemetryOptions { Step = every, OnProblem = m => error.WriteLine($"predictor: warning: {m}") };
            foreach (var m in parseResult.GetValue(modules) ?? [])
            {
                var (name, value) = Pair(m, "--module", "NAME=PID");
                if (options.Modules.Any(known => known.Name == name))
                {
                    throw new PredictorException($"--module '{m}': the name '{name}' is given twice; each module needs its own name (its series are module/{name}/...).");
                }

                options.Modules.Add(new ModuleProcess(name, int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    ? pid
                    : throw new PredictorException($"--module '{m}': '{value}' is not a process id; use NAME=PID, e.g. web=1234.")));
            }

            foreach (var p in parseResult.GetValue(partitions) ?? [])
            {
                var (name, path) = Pair(p, "--partition", "NAME=CGROUP_PATH");
                options.Partitions.Add(new CgroupPartition(name, path));
            }

            var path_ = parseResult.GetValue(store)!;
            using var ts = TimeSeriesStore.Open(path_);
            ts.AcquireWriter();
            using var host = new HostTelemetry(options, ts, TimeProvider.System);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            var until = (forHowLong, maxTicks) switch
            {
                ({ } f, { } n) => $" for {Durations.Format(f)} or {n} readings, whichever is first",
                ({ } f, null) => $" for {Durations.Format(f)}",
                (null, { } n) => $" for {n} readings",
                _ => " until Ctrl+C",
            };
            var keeping = keep is { } k ? $", keeping {Durations.Format(k)}" : string.Empty;
            output.WriteLine($"collecting every {Durations.Format(every)}{until} into {ts.Path}{keeping}");
            var retained = keep is { } kept
                ? new StoreRetention(ts, kept, TimeProvider.System, _ => { },
                    ex => error.WriteLine($"predictor: warning: deleting what is older than {Durations.Format(kept)} from {ts.Path} failed ({ex.Message}); trying again in {Durations.Format(StoreRetention.PassInterval(kept))}"))
                : null;
            Task passes = Task.CompletedTask;
            using var passesStop = new CancellationTokenSource();
            if (retained is not null)
            {
                // The first pass before the first reading, so that a restarted recorder does not begin over its limit.
                await retained.PassAsync(CancellationToken.None).ConfigureAwait(false);
                passes = Task.Run(() => retained.RunAsync(passesStop.Token), CancellationToken.None);
            }

            RecordingStats stats;
            try
            {
                stats = await TelemetryRecorder.RunAsync(host, ts, TimeProvider.System, every, forHowLong, maxTicks, stop.Token).ConfigureAwait(false);
            }
            finally
            {
                // Passes run on the store's writer: stop them before the store is disposed.
                await passesStop.CancelAsync().ConfigureAwait(false);
                await passes.ConfigureAwait(false);
            }

            var deleted = retained is null ? string.Empty : $"; {retained.DeletedChunks} chunks older than {Durations.Format(retained.Retention)} deleted";
            output.WriteLine(
                $"collected {stats.Ticks} ticks, {stats.Samples} samples ({stats.Dropped} dropped because the write channel was full), all committed to {ts.Path}{deleted}");
            return 0;
        });
        return cmd;
    }

    private static Command Import()
    {
        var store = StoreOption();
        var format = new Option<string>("--format")
        {
            Description = "Trace format: nab, azure-v1, aggregate, google2011, bitbrains, alibaba, csv.",
            Required = true,
        };
        var paths = new Argument<string[]>("PATH") { Description = "Trace files to import.", Arity = ArgumentArity.OneOrMore };
        var skip = new Option<bool>("--skip-bad-rows") { Description = "Skip and count bad rows instead of stopping at the first one." };
        var csvTime = new Option<string>("--csv-timestamps")
        {
            Description = "For --format csv: auto (default; numbers ≥ 1e11 are epoch ms, smaller numbers epoch s, else ISO-8601), iso, s, ms.",
            DefaultValueFactory = _ => "auto",
        };
        var cmd = new Command("import", "Import recorded traces into a store, one series per trace column.") { store, format, paths, skip, csvTime };
        cmd.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var fmt = TraceImporter.ParseFormat(parseResult.GetValue(format)!);
            var files = parseResult.GetValue(paths)!;
            foreach (var f in files)
            {
                if (!File.Exists(f))
                {
                    throw new PredictorException(Directory.Exists(f)
                        ? $"Trace file '{f}' is a directory; give the trace files themselves (e.g. '{Path.Combine(f, "*.csv")}')."
                        : $"Trace file '{f}' does not exist; check the path.");
                }
            }

            var options = new ImportOptions
            {
                SkipBadRows = parseResult.GetValue(skip),
                CsvTimestamps = parseResult.GetValue(csvTime) switch
                {
                    "auto" => CsvTimestampFormat.Auto,
                    "iso" => CsvTimestampFormat.Iso8601,
                    "s" => CsvTimestampFormat.EpochSeconds,
                    "ms" => CsvTimestampFormat.EpochMilliseconds,
                    var other => throw new PredictorException($"--csv-timestamps '{other}' is not one of auto, iso, s, ms."),
                },
            };
            using var ts = TimeSeriesStore.Open(parseResult.GetValue(store)!);
            ts.AcquireWriter();

            // Ctrl+C or SIGTERM stops between (or inside) files; what was committed stays, and the user is told so.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            var imported = 0;
            long series = 0, samples = 0, skipped = 0;
            var problems = new List<string>();
            var error = parseResult.InvocationConfiguration.Error;

            // The bars go to stderr, and only on a terminal: stdout keeps the result line for scripts, and a redirected
            // stream gets no escape codes or redraws.
            async Task ImportAll(ProgressContext? ctx)
            {
                foreach (var file in files)
                {
                    var length = Math.Max(1, new FileInfo(file).Length);
                    var task = ctx?.AddTask(Markup.Escape(Path.GetFileName(file)), maxValue: length);
                    options.OnProgress = bytes =>
                    {
                        stop.Token.ThrowIfCancellationRequested();
                        task?.Value = Math.Min(bytes, length) * 0.9; // the last 10 % is the store
                    };
                    var result = TraceImporter.Import(fmt, file, options);
                    foreach (var s in result.Series)
                    {
                        var id = ts.Register(s.Info);
                        await ts.AppendAsync(id, s.Timestamps, s.Values, stop.Token).ConfigureAwait(false);
                        samples += s.Count;
                    }

                    await ts.FlushAsync(stop.Token).ConfigureAwait(false);
                    imported++;
                    task?.Value = length;
                    series += result.Series.Count;
                    skipped += result.SkippedRows;
                    problems.AddRange(result.FirstProblems);
                }
            }

            const string Again = "run the same import again to finish: what the store already holds is skipped";
            try
            {
                if (ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected)
                {
                    var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                    await console.Progress().AutoClear(true).StartAsync(ImportAll).ConfigureAwait(false);
                }
                else
                {
                    await ImportAll(null).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                await ts.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                error.WriteLine($"predictor: import interrupted: {imported} of {files.Length} file(s) imported and committed to {ts.Path}; {Again}.");
                return 130;
            }
            catch (PredictorException ex) when (imported > 0)
            {
                throw new PredictorException($"{ex.Message} The {imported} file(s) before it are imported and committed to {ts.Path}; fix this one, then {Again}.", ex);
            }

            foreach (var p in problems.Take(10))
            {
                error.WriteLine($"predictor: skipped: {p}");
            }

            var rejected = ts.RejectedSamples;
            output.WriteLine(
                $"imported {series} series, {samples - rejected} samples from {files.Length} file(s) into {ts.Path}" +
                (skipped > 0 ? $"; {skipped} bad row(s) skipped" : "") +
                (rejected > 0 ? $"; {rejected} sample(s) not later than what the store already held were ignored" : ""));
            return 0;
        });
        return cmd;
    }

    private static Command Series()
    {
        var listStore = StoreOption(creates: false);
        var list = new Command("list", "List the series in a store with their unit, step and sample count.") { listStore };
        list.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            using var ts = OpenExisting(parseResult.GetValue(listStore)!);
            var all = ts.ListSeries();
            output.WriteLine($"{"series",-48} {"unit",-10} {"step",8} {"samples",10}");
            foreach (var s in all)
            {
                var sum = ts.Summarize(s.Info.Name);
                output.WriteLine($"{s.Info.Name,-48} {s.Info.Unit,-10} {Durations.Format(s.Info.Step),8} {sum.Count,10}");
            }

            output.WriteLine($"{all.Count} series");
            return 0;
        });

        var showStore = StoreOption(creates: false);
        var name = new Argument<string>("NAME") { Description = "Series name, e.g. host/cpu/busy." };
        var show = new Command("show", "Show one series: count, first/last, step, gaps, min/mean/max, compressed size.") { showStore, name };
        show.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            using var ts = OpenExisting(parseResult.GetValue(showStore)!);
            var seriesName = parseResult.GetValue(name)!;
            var s = ts.ReadRange(seriesName, long.MinValue, long.MaxValue);
            var sum = ts.Summarize(seriesName);
            output.WriteLine($"series   {s.Info.Name} ({s.Info.Unit})");
            output.WriteLine($"count    {s.Count}");
            if (s.Count == 0)
            {
                return 0;
            }

            var stepMs = (long)s.Info.Step.TotalMilliseconds;
            long gaps = 0, missingMs = 0;
            for (var i = 1; i < s.Count; i++)
            {
                // A gap: more than 1.5 nominal steps between two samples.
                var dt = s.Timestamps[i] - s.Timestamps[i - 1];
                if (stepMs > 0 && dt * 2 > stepMs * 3)
                {
                    gaps++;
                    missingMs += dt - stepMs;
                }
            }

            output.WriteLine($"first    {Iso(s.Timestamps[0])}");
            output.WriteLine($"last     {Iso(s.Timestamps[^1])}");
            output.WriteLine($"step     {Durations.Format(s.Info.Step)} (nominal)");
            output.WriteLine($"gaps     {gaps} ({Durations.Format(TimeSpan.FromMilliseconds(missingMs))} missing)");
            var finite = s.Values.Where(double.IsFinite).ToArray();
            if (finite.Length > 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"min      {finite.Min():G6}\nmean     {finite.Average():G6}\nmax      {finite.Max():G6}"));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"stored   {sum.Chunks} chunks, {sum.Bytes} bytes ({(double)sum.Bytes / s.Count:F2} bytes/sample)"));
            return 0;
        });

        var cmd = new Command("series", "Inspect the series of a store.") { list, show, DurabilityWriter() };
        return cmd;
    }

    /// <summary>
    /// Hidden, for the durability test: appends a known sequence of samples forever and prints <c>ack N</c> each time
    /// samples 1..N are committed. Sample k goes to series <c>test/s&lt;(k−1) mod S&gt;</c> at
    /// t = 1e12 + ((k−1) div S)·100 ms with value k/1000, so a reader can check any prefix.
    /// </summary>
    private static Command DurabilityWriter()
    {
        var store = StoreOption();
        var count = new Option<int>("--series") { DefaultValueFactory = _ => 8 };
        var cmd = new Command("durability-writer", "Test helper: writes a known sample sequence and prints each durable acknowledgement.")
        {
            store, count,
        };
        cmd.Hidden = true;
        cmd.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var n = parseResult.GetValue(count);
            var gate = new Lock();
            // Registering the series takes the first sequence numbers; sample k is then sequence `registered + k`, and
            // is acknowledged as k.
            var registered = long.MaxValue;
            var options = new StoreOptions
            {
                MaxBatchItems = 997,
                ChunkSamples = 64,
                OnCommitted = seq =>
                {
                    var before = Volatile.Read(ref registered);
                    if (seq <= before)
                    {
                        return;
                    }

                    lock (gate)
                    {
                        output.WriteLine($"ack {seq - before}");
                        output.Flush();
                    }
                },
            };
            using var ts = TimeSeriesStore.Open(parseResult.GetValue(store)!, options);
            var ids = Enumerable.Range(0, n).Select(i => ts.Register(new SeriesInfo($"test/s{i}", "count", TimeSpan.FromMilliseconds(100)))).ToArray();
            Volatile.Write(ref registered, ts.LastEnqueued);
            for (long k = 1; !cancellationToken.IsCancellationRequested; k++)
            {
                var i = (int)((k - 1) % n);
                var t = DurabilityBaseMs + ((k - 1) / n * 100);
                while (!ts.TryAppend(ids[i], t, k / 1000.0, out var seq) || seq != registered + k)
                {
                    if (seq != 0 && seq != registered + k)
                    {
                        throw new InvalidOperationException($"sequence {seq} for sample {k}: the writer must be the only producer");
                    }

                    await Task.Delay(1, cancellationToken).ConfigureAwait(false);
                }

                if (k % 5000 == 0)
                {
                    await Task.Yield();
                }
            }

            return 0;
        });
        return cmd;
    }

    internal const long DurabilityBaseMs = 1_000_000_000_000;

    // A store to read: never created here, nor an empty file turned into one.
    private static TimeSeriesStore OpenExisting(string path) =>
        !File.Exists(path) ? throw new PredictorException(Directory.Exists(path)
            ? $"Store '{path}' is a directory; give the path of a store file written by `predictor collect` or `predictor import`."
            : $"Store '{path}' does not exist; record one with `predictor collect` or `predictor import`.")
        : new FileInfo(path).Length == 0 ? throw new PredictorException($"Store '{path}' is an empty file (0 bytes), not a store; record one with `predictor collect` or `predictor import`.")
        : TimeSeriesStore.Open(path);

    private static (string Name, string Value) Pair(string text, string option, string shape)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == text.Length - 1)
        {
            throw new PredictorException($"{option} '{text}' is not {shape}.");
        }

        return (text[..eq], text[(eq + 1)..]);
    }

    private static string Iso(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>Durations as the CLI spells them: a number and a unit, e.g. 100ms, 30s, 10m, 1h, 2d.</summary>
internal static class Durations
{
    /// <summary>The longest a timer can wait in one go (.NET's limit, about 49.7 days): the bound of a run's length and tick.</summary>
    public static readonly TimeSpan LongestWait = TimeSpan.FromDays(49);

    /// <summary>The longest duration the CLI takes at all: ten years.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(3650);

    /// <summary>Parses a duration from 1 ms to <paramref name="max"/> (default <see cref="Longest"/>).</summary>
    public static TimeSpan Parse(string text, string option, TimeSpan? max = null)
    {
        var longest = max ?? Longest;
        var t = text.Trim();
        var unitAt = 0;
        while (unitAt < t.Length && (char.IsAsciiDigit(t[unitAt]) || t[unitAt] == '.'))
        {
            unitAt++;
        }

        if (unitAt > 0 && double.TryParse(t.AsSpan(0, unitAt), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            double? ms = t[unitAt..] switch
            {
                "ms" => number,
                "s" => number * 1e3,
                "m" => number * 60e3,
                "h" => number * 3_600e3,
                "d" => number * 86_400e3,
                _ => null,
            };
            if (ms is { } v)
            {
                if (v < 1)
                {
                    throw new PredictorException($"{option} '{text}' is shorter than 1 ms, the shortest duration it takes (e.g. 100ms).");
                }

                if (v > longest.TotalMilliseconds)
                {
                    throw new PredictorException(option == "--duration"
                        ? $"{option} '{text}' is longer than {Format(longest)}, the longest it takes; leave it out to run until Ctrl+C or SIGTERM."
                        : $"{option} '{text}' is longer than {Format(longest)}, the longest it takes.");
                }

                return TimeSpan.FromMilliseconds(v);
            }
        }

        throw new PredictorException(
            $"{option} '{text}' is not a duration; write a positive number and a unit: ms, s, m, h or d (e.g. 100ms, 30s, 10m, 1h).");
    }

    public static string Format(TimeSpan t) =>
        t.TotalMilliseconds < 1000 ? $"{t.TotalMilliseconds:0.###}ms".Replace(',', '.')
        : t.TotalSeconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.###}s")
        : t.TotalMinutes < 60 ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalMinutes:0.###}m")
        : t.TotalHours < 48 ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalHours:0.###}h")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalDays:0.###}d");
}

using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Predictor.Engine.Telemetry;

namespace Predictor.Engine.Storage;

/// <summary>
/// The SQLite time-series store: a series catalog, samples in compressed chunks per series (WITHOUT ROWID table keyed
/// by (series_id, chunk_start)), WAL journal, the application metadata and the decision log.
/// <para>
/// Writes are asynchronous: <see cref="TryAppend(int, long, double)"/> puts a sample on a bounded channel and returns
/// at once (it never touches the disk), a background writer applies items in batched transactions. Every accepted item
/// gets a sequence number; after a batch commits, <see cref="DurableUpTo"/> is raised to the last sequence it held and
/// <see cref="StoreOptions.OnCommitted"/> is called. What "durable" means depends on
/// <see cref="StoreOptions.Synchronous"/> (FULL: survives power loss; NORMAL: survives a process kill).
/// </para>
/// <para>Per series, samples are append-only: a sample not later than the series' last one is rejected and counted
/// (<see cref="RejectedSamples"/>). Reads see committed data only. Reads are thread-safe; appends are thread-safe.</para>
/// </summary>
public sealed class TimeSeriesStore : ISeriesRegistry, IDisposable
{
    /// <summary>Schema version this build writes and understands.</summary>
    public const int SchemaVersion = 1;

    private static readonly byte[] SqliteMagic = "SQLite format 3\0"u8.ToArray();

    private readonly string _path;
    private readonly StoreOptions _options;
    private readonly Channel<WriteItem> _channel;
    private readonly SqliteConnection _readConnection;
    private readonly Lock _readLock = new();
    private readonly Lock _enqueueLock = new();
    private readonly Lock _waitLock = new();
    private readonly Lock _writerLockGate = new();
    private readonly List<(long Sequence, TaskCompletionSource Done)> _waiters = [];
    private readonly Dictionary<string, StoredSeries> _seriesByName = new(StringComparer.Ordinal);
    private readonly Dictionary<int, StoredSeries> _seriesById = [];
    private readonly Task _writerTask;
    private long _lastEnqueued;
    private long _durableUpTo;
    private long _dropped;
    private long _rejected;
    private Exception? _writerFault;
    private bool _disposed;
    private FileStream? _writerLock;

    private TimeSeriesStore(string path, StoreOptions options, SqliteConnection readConnection)
    {
        _path = path;
        _options = options;
        _readConnection = readConnection;
        _channel = Channel.CreateBounded<WriteItem>(new BoundedChannelOptions(options.ChannelCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        LoadCatalog();
        var writerConnection = OpenConnection(path, options);
        var writer = new StoreWriter(writerConnection, options);
        _writerTask = Task.Factory.StartNew(
            () => RunWriter(writer), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Path of the database file.</summary>
    public string Path => _path;

    /// <summary>Sequence number of the last item accepted onto the write channel (0 before the first).</summary>
    public long LastEnqueued => Interlocked.Read(ref _lastEnqueued);

    /// <summary>Every item with a sequence number up to this one is committed (durable as <see cref="StoreOptions.Synchronous"/> says).</summary>
    public long DurableUpTo => Interlocked.Read(ref _durableUpTo);

    /// <summary>Samples refused because the channel was full (the loop's writes never wait).</summary>
    public long DroppedSamples => Interlocked.Read(ref _dropped);

    /// <summary>Samples the writer discarded because they were not later than their series' last sample.</summary>
    public long RejectedSamples => Interlocked.Read(ref _rejected);

    /// <summary>The error that stopped the background writer, or null while it runs.</summary>
    public Exception? WriterFault => Volatile.Read(ref _writerFault);

    /// <summary>
    /// Opens (creating if needed) the store at <paramref name="path"/>. Throws a <see cref="PredictorException"/> when the
    /// file is not SQLite, is SQLite but not a Predictor store, or was written with a newer schema.
    /// </summary>
    public static TimeSeriesStore Open(string path, StoreOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new PredictorException("The store path is empty; give the path of a store file, e.g. --store machine.db.");
        }

        options ??= new StoreOptions();
        var full = System.IO.Path.GetFullPath(path);
        CheckIsSqliteFile(full);
        SQLitePCL.Batteries_V2.Init();
        var connection = OpenConnection(full, options);
        try
        {
            StoreSchema.Ensure(connection, full);
            return new TimeSeriesStore(full, options, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes this the store's only writer, for as long as it is open: an exclusive lock on <c>&lt;store&gt;.lock</c>
    /// beside the file, released when the store is disposed (or the process ends). Every write takes it on first use,
    /// and commands that write call it at their start so a second writer is refused at once. Two writers would each keep
    /// a series' open chunk and write it back over the other's, losing samples both had reported committed.
    /// Readers (training, replay, <c>series</c>) take no lock and read alongside the writer.
    /// </summary>
    /// <exception cref="PredictorException">Another process (or another open store in this one) is writing the store.</exception>
    public void AcquireWriter()
    {
        if (Volatile.Read(ref _writerLock) is not null)
        {
            return;
        }

        lock (_writerLockGate)
        {
            if (_writerLock is not null)
            {
                return;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            var lockPath = _path + ".lock";
            try
            {
                Volatile.Write(ref _writerLock, new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException ex)
            {
                throw new PredictorException(
                    $"Store '{_path}' is being written by another process (it holds '{lockPath}'); two writers would overwrite each other's samples. " +
                    "Stop the other predictor collect, import or run --store on it, or write to another store.", ex);
            }
        }
    }

    /// <summary>
    /// Returns the id of the series, creating it in the catalog if new. A new series is inserted by the writer, in order
    /// with the appends queued before it, and this waits for that commit: inserting it from another connection while
    /// the writer commits would wait on SQLite's lock, which the bundled SQLite polls once a second (importing 160
    /// google2011 files spent 105 s of 107 asleep that way).
    /// </summary>
    public int Register(SeriesInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        SeriesNames.Validate(info.Name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Find(info) is { } known)
        {
            return known;
        }

        AcquireWriter();
        var request = new RegisterRequest(info);
        EnqueueAsync(0, request, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        int id;
        try
        {
            id = request.Done.Task.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is SqliteException or IOException or InvalidDataException)
        {
            throw new PredictorException($"Store '{_path}' stopped writing before series '{info.Name}' was registered: {ex.Message}", ex);
        }

        lock (_readLock)
        {
            // Two threads may register one new name at once: the writer inserts it once and gives both the same id.
            if (!_seriesByName.ContainsKey(info.Name))
            {
                var stored = new StoredSeries(id, info);
                _seriesByName.Add(info.Name, stored);
                _seriesById.Add(id, stored);
            }
        }

        return Find(info)!.Value;
    }

    // The id of a series already in the catalog (checking it means the same), or null.
    private int? Find(SeriesInfo info)
    {
        lock (_readLock)
        {
            if (_seriesByName.TryGetValue(info.Name, out var existing))
            {
                SeriesNames.CheckSameMeaning(existing.Info, info);
                return existing.Id;
            }
        }

        return null;
    }

    /// <summary>All series in the catalog, by name.</summary>
    public IReadOnlyList<StoredSeries> ListSeries()
    {
        lock (_readLock)
        {
            return [.. _seriesByName.Values.OrderBy(s => s.Info.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>The series named <paramref name="name"/>, or null.</summary>
    public StoredSeries? FindSeries(string name)
    {
        lock (_readLock)
        {
            return _seriesByName.GetValueOrDefault(name);
        }
    }

    /// <summary>
    /// Hot path: queues one sample without waiting and without allocating. Returns false (and counts the sample in
    /// <see cref="DroppedSamples"/>) when the channel is full or the writer has stopped.
    /// </summary>
    public bool TryAppend(int seriesId, long timestampMs, double value) => TryAppend(seriesId, timestampMs, value, out _);

    /// <summary>As <see cref="TryAppend(int, long, double)"/>, giving the sequence number to compare with <see cref="DurableUpTo"/>.</summary>
    public bool TryAppend(int seriesId, long timestampMs, double value, out long sequence)
    {
        AcquireWriter();
        lock (_enqueueLock)
        {
            var next = _lastEnqueued + 1;
            if (!_disposed && _channel.Writer.TryWrite(new WriteItem(next, seriesId, timestampMs, value, null)))
            {
                Volatile.Write(ref _lastEnqueued, next);
                sequence = next;
                return true;
            }
        }

        Interlocked.Increment(ref _dropped);
        sequence = 0;
        return false;
    }

    /// <summary>
    /// Queues a whole series' samples (import, bulk ingest), waiting for room in the channel. The arrays are read by the
    /// writer later: do not modify them until <see cref="DurableUpTo"/> reaches the returned sequence.
    /// </summary>
    public async ValueTask<long> AppendAsync(int seriesId, long[] timestamps, double[] values, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(timestamps);
        ArgumentNullException.ThrowIfNull(values);
        if (timestamps.Length != values.Length)
        {
            throw new ArgumentException("Timestamps and values must have the same length.", nameof(values));
        }

        return await EnqueueAsync(seriesId, new SampleBatch(timestamps, values), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues a decision-log entry without waiting; false when the channel is full.</summary>
    public bool TryLogDecision(DecisionRecord decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        AcquireWriter();
        lock (_enqueueLock)
        {
            var next = _lastEnqueued + 1;
            if (!_disposed && _channel.Writer.TryWrite(new WriteItem(next, 0, 0, 0, decision)))
            {
                Volatile.Write(ref _lastEnqueued, next);
                return true;
            }
        }

        return false;
    }

    /// <summary>Completes when every item accepted so far is committed.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => WaitForDurableAsync(LastEnqueued, cancellationToken);

    /// <summary>Completes when <see cref="DurableUpTo"/> reaches <paramref name="sequence"/>; faults if the writer stops first.</summary>
    public Task WaitForDurableAsync(long sequence, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource done;
        lock (_waitLock)
        {
            if (DurableUpTo >= sequence)
            {
                return Task.CompletedTask;
            }

            if (WriterFault is { } fault)
            {
                return Task.FromException(new PredictorException($"Store '{_path}' stopped writing: {fault.Message}", fault));
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((sequence, done));
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes whole chunks whose last sample is older than <paramref name="cutoffMs"/> (Unix ms), and decision-log
    /// entries older than it. Runs on the writer, in order with appends. Returns the number of chunks deleted.
    /// </summary>
    public async Task<int> DropOlderThanAsync(long cutoffMs, CancellationToken cancellationToken = default)
    {
        var request = new RetentionRequest(cutoffMs);
        await EnqueueAsync(0, request, cancellationToken).ConfigureAwait(false);
        return await request.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Samples of <paramref name="name"/> with fromMs ≤ t &lt; toMs.</summary>
    public RecordedSeries ReadRange(string name, long fromMs, long toMs)
    {
        var series = Require(name);
        return ReadRange(series, fromMs, toMs);
    }

    /// <summary>The latest <paramref name="count"/> samples of <paramref name="name"/>, oldest first (to warm ring buffers).</summary>
    public RecordedSeries ReadLatest(string name, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var series = Require(name);
        var parts = new List<(long[] T, double[] V)>();
        var total = 0;
        lock (_readLock)
        {
            using var cmd = _readConnection.CreateCommand();
            cmd.CommandText = "SELECT data, chunk_start FROM chunks WHERE series_id = $s ORDER BY chunk_start DESC";
            cmd.Parameters.AddWithValue("$s", series.Id);
            using var reader = cmd.ExecuteReader();
            while (total < count && reader.Read())
            {
                var blob = (byte[])reader[0];
                long[] t;
                double[] v;
                try
                {
                    var n = ChunkDecoder.CountOf(blob);
                    t = new long[n];
                    v = new double[n];
                    ChunkDecoder.Decode(blob, t, v);
                }
                catch (Exception ex) when (IsDecodeFailure(ex))
                {
                    throw Damaged(series, reader.GetInt64(1), ex);
                }

                parts.Add((t, v));
                total += t.Length;
            }
        }

        var take = Math.Min(count, total);
        var ts = new long[take];
        var vs = new double[take];
        var pos = take;
        foreach (var (t, v) in parts)
        {
            var k = Math.Min(pos, t.Length);
            Array.Copy(t, t.Length - k, ts, pos - k, k);
            Array.Copy(v, v.Length - k, vs, pos - k, k);
            pos -= k;
            if (pos == 0)
            {
                break;
            }
        }

        return new RecordedSeries(series.Info, ts, vs);
    }

    /// <summary>
    /// One value per non-empty bucket of <paramref name="bucket"/> width, buckets aligned on the Unix epoch; the timestamp
    /// of each value is its bucket's start. NaN samples are left out; empty buckets are absent (gaps stay gaps). The same
    /// values as <see cref="RecordedSeries.Downsample"/> over <see cref="ReadRange"/>, computed while the chunks are
    /// decoded, so reading a day of 100 ms ticks into five-minute steps holds one chunk of raw samples at a time, not the day.
    /// </summary>
    public RecordedSeries Downsample(string name, long fromMs, long toMs, TimeSpan bucket, Aggregation aggregation)
    {
        if (bucket.TotalMilliseconds < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "The bucket must be at least 1 ms.");
        }

        var series = Require(name);
        var steps = new StepAggregator(bucket, aggregation);
        Visit(series, fromMs, toMs, steps.Add);
        return steps.ToSeries(series.Info);
    }

    /// <summary>Count, first and last timestamps, chunks and compressed bytes of a series.</summary>
    public SeriesSummary Summarize(string name)
    {
        var series = Require(name);
        lock (_readLock)
        {
            using var cmd = _readConnection.CreateCommand();
            cmd.CommandText =
                "SELECT COALESCE(SUM(count),0), COALESCE(MIN(chunk_start),0), COALESCE(MAX(chunk_end),0), COUNT(*), COALESCE(SUM(length(data)),0) " +
                "FROM chunks WHERE series_id = $s";
            cmd.Parameters.AddWithValue("$s", series.Id);
            using var r = cmd.ExecuteReader();
            r.Read();
            return new SeriesSummary(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4));
        }
    }

    /// <summary>Inserts or replaces a module's metadata (synchronous; metadata changes are rare).</summary>
    public void UpsertModule(ModuleMetadata module)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(module.Module);
        AcquireWriter();
        if (module.CpuCores < 0 || double.IsNaN(module.CpuCores) || module.MemoryBytes < 0)
        {
            throw new PredictorException(
                $"Module '{module.Module}': CPU ({module.CpuCores} cores) and memory ({module.MemoryBytes} bytes) requirements must be non-negative numbers.");
        }

        lock (_readLock)
        {
            using var cmd = _readConnection.CreateCommand();
            cmd.CommandText =
                "INSERT OR REPLACE INTO module_metadata(module, profile, cpu_cores, memory_bytes, dependencies, security_level) " +
                "VALUES ($m, $p, $c, $b, $d, $s)";
            cmd.Parameters.AddWithValue("$m", module.Module);
            cmd.Parameters.AddWithValue("$p", module.Profile.ToString());
            cmd.Parameters.AddWithValue("$c", module.CpuCores);
            cmd.Parameters.AddWithValue("$b", module.MemoryBytes);
            cmd.Parameters.AddWithValue("$d", JsonSerializer.Serialize(module.Dependencies));
            cmd.Parameters.AddWithValue("$s", module.SecurityLevel.ToString());
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>The metadata of every module, by name.</summary>
    public IReadOnlyList<ModuleMetadata> ListModules()
    {
        var result = new List<ModuleMetadata>();
        lock (_readLock)
        {
            using var cmd = _readConnection.CreateCommand();
            cmd.CommandText = "SELECT module, profile, cpu_cores, memory_bytes, dependencies, security_level FROM module_metadata ORDER BY module";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                result.Add(new ModuleMetadata(
                    r.GetString(0),
                    Enum.Parse<RecommendedProfile>(r.GetString(1)),
                    r.GetDouble(2),
                    r.GetInt64(3),
                    JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [],
                    Enum.Parse<ModuleSecurityLevel>(r.GetString(5))));
            }
        }

        return result;
    }

    /// <summary>Decision-log entries with fromMs ≤ timestamp &lt; toMs, oldest first (committed entries only).</summary>
    public IReadOnlyList<DecisionRecord> ReadDecisions(long fromMs, long toMs)
    {
        var result = new List<DecisionRecord>();
        lock (_readLock)
        {
            using var cmd = _readConnection.CreateCommand();
            cmd.CommandText =
                "SELECT timestamp_ms, kind, subject, action, reason, values_json FROM decision_log " +
                "WHERE timestamp_ms >= $f AND timestamp_ms < $t ORDER BY timestamp_ms, id";
            cmd.Parameters.AddWithValue("$f", fromMs);
            cmd.Parameters.AddWithValue("$t", toMs);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var values = JsonSerializer.Deserialize<Dictionary<string, double>>(r.GetString(5), StoreWriter.JsonOptions) ?? [];
                result.Add(new DecisionRecord(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), values));
            }
        }

        return result;
    }

    /// <summary>Runs <c>PRAGMA integrity_check</c> and returns its first line (<c>ok</c> when the file is sound).</summary>
    public string CheckIntegrity()
    {
        lock (_readLock)
        {
            using var cmd = _readConnection.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check";
            return Convert.ToString(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }
    }

    /// <summary>Stops accepting writes, commits everything queued, and closes the file.</summary>
    public void Dispose()
    {
        lock (_enqueueLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _channel.Writer.TryComplete();
        }

        try
        {
            _writerTask.GetAwaiter().GetResult();
        }
        finally
        {
            lock (_readLock)
            {
                _readConnection.Dispose();
            }

            lock (_writerLockGate)
            {
                _writerLock?.Dispose();
            }
        }
    }

    internal RecordedSeries ReadRange(StoredSeries series, long fromMs, long toMs)
    {
        var ts = new List<long>();
        var vs = new List<double>();
        Visit(series, fromMs, toMs, (t, v) =>
        {
            ts.AddRange(t);
            vs.AddRange(v);
        });
        return new RecordedSeries(series.Info, [.. ts], [.. vs]);
    }

    private delegate void SamplesVisitor(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values);

    // Decodes the chunks that may hold [fromMs, toMs) one at a time into pooled buffers and hands each run of samples in
    // the range to the visitor, oldest first: a range read never holds more than one decoded chunk besides its result.
    private void Visit(StoredSeries series, long fromMs, long toMs, SamplesVisitor visit)
    {
        var scratchT = ArrayPool<long>.Shared.Rent(_options.ChunkSamples);
        var scratchV = ArrayPool<double>.Shared.Rent(_options.ChunkSamples);
        try
        {
            lock (_readLock)
            {
                using var cmd = _readConnection.CreateCommand();

                // Chunks of a series never overlap, so the one that may hold fromMs is the last starting at or before it.
                cmd.CommandText =
                    "SELECT data, chunk_start FROM chunks WHERE series_id = $s AND chunk_start < $t AND chunk_start >= " +
                    "COALESCE((SELECT MAX(chunk_start) FROM chunks WHERE series_id = $s AND chunk_start <= $f), $f) ORDER BY chunk_start";
                cmd.Parameters.AddWithValue("$s", series.Id);
                cmd.Parameters.AddWithValue("$f", fromMs);
                cmd.Parameters.AddWithValue("$t", toMs);
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    var blob = (byte[])reader[0];
                    int n;
                    try
                    {
                        n = ChunkDecoder.CountOf(blob);
                        if (scratchT.Length < n)
                        {
                            ArrayPool<long>.Shared.Return(scratchT);
                            ArrayPool<double>.Shared.Return(scratchV);
                            scratchT = ArrayPool<long>.Shared.Rent(n);
                            scratchV = ArrayPool<double>.Shared.Rent(n);
                        }

                        ChunkDecoder.Decode(blob, scratchT, scratchV);
                    }
                    catch (Exception ex) when (IsDecodeFailure(ex))
                    {
                        throw Damaged(series, reader.GetInt64(1), ex);
                    }

                    var i = 0;
                    while (i < n)
                    {
                        for (; i < n && (scratchT[i] < fromMs || scratchT[i] >= toMs); i++)
                        {
                        }

                        var start = i;
                        for (; i < n && scratchT[i] >= fromMs && scratchT[i] < toMs; i++)
                        {
                        }

                        if (i > start)
                        {
                            visit(scratchT.AsSpan(start, i - start), scratchV.AsSpan(start, i - start));
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(scratchT);
            ArrayPool<double>.Shared.Return(scratchV);
        }
    }

    // What a chunk of garbage makes the decoder throw (an unknown codec, a bit stream that ends early, a count out of range).
    private static bool IsDecodeFailure(Exception ex) =>
        ex is InvalidDataException or EndOfStreamException or IndexOutOfRangeException or ArgumentException or OverflowException;

    private PredictorException Damaged(StoredSeries series, long chunkStartMs, Exception cause) => new(string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"Store '{_path}': series '{series.Info.Name}', the chunk that starts at {DateTimeOffset.FromUnixTimeMilliseconds(chunkStartMs):yyyy-MM-ddTHH:mm:ss.fffZ} " +
        $"(chunk_start {chunkStartMs}) cannot be decoded ({cause.Message.TrimEnd('.')}). The file is damaged or was written by a newer Predictor: " +
        $"restore it from a copy, or delete that chunk to keep the rest (with any SQLite client: DELETE FROM chunks WHERE series_id = {series.Id} AND chunk_start = {chunkStartMs};)."), cause);

    private StoredSeries Require(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return FindSeries(name) ?? throw new PredictorException(
            $"Store '{_path}' has no series '{name}'; list the series with `predictor series list --store {_path}`.");
    }

    private async ValueTask<long> EnqueueAsync(int seriesId, object payload, CancellationToken cancellationToken)
    {
        AcquireWriter();
        while (true)
        {
            lock (_enqueueLock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var next = _lastEnqueued + 1;
                if (_channel.Writer.TryWrite(new WriteItem(next, seriesId, 0, 0, payload)))
                {
                    Volatile.Write(ref _lastEnqueued, next);
                    return next;
                }
            }

            if (WriterFault is { } fault)
            {
                throw new PredictorException($"Store '{_path}' stopped writing: {fault.Message}", fault);
            }

            if (!await _channel.Writer.WaitToWriteAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new ObjectDisposedException(nameof(TimeSeriesStore));
            }
        }
    }

    private void RunWriter(StoreWriter writer)
    {
        var reader = _channel.Reader;
        var batch = new List<WriteItem>(Math.Min(_options.MaxBatchItems, 65_536));
        try
        {
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                batch.Clear();
                while (batch.Count < _options.MaxBatchItems && reader.TryRead(out var item))
                {
                    batch.Add(item);
                }

                if (batch.Count == 0)
                {
                    continue;
                }

                var rejected = writer.ApplyBatch(batch);
                Interlocked.Add(ref _rejected, rejected);
                var last = batch[^1].Sequence;
                Interlocked.Exchange(ref _durableUpTo, last);
                _options.OnCommitted?.Invoke(last);
                ReleaseWaiters(last);
            }
        }
        catch (Exception ex) when (ex is SqliteException or IOException or InvalidDataException)
        {
            Volatile.Write(ref _writerFault, ex);
            lock (_enqueueLock)
            {
                _channel.Writer.TryComplete();
            }

            _options.OnProblem?.Invoke($"store '{_path}': the writer stopped after an error and accepts no more samples: {ex.Message}");
            FailWaiters(ex);
            // The failed batch, and whatever was queued after it, will never be applied: fail every request waiting on it.
            while (reader.TryRead(out var queued))
            {
                batch.Add(queued);
            }

            foreach (var item in batch)
            {
                (item.Payload as RetentionRequest)?.Done.TrySetException(ex);
                (item.Payload as RegisterRequest)?.Done.TrySetException(ex);
            }
        }
        finally
        {
            writer.Dispose();
        }
    }

    private void ReleaseWaiters(long durable)
    {
        lock (_waitLock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Sequence <= durable)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private void FailWaiters(Exception ex)
    {
        lock (_waitLock)
        {
            foreach (var (_, done) in _waiters)
            {
                done.TrySetException(new PredictorException($"Store '{_path}' stopped writing: {ex.Message}", ex));
            }

            _waiters.Clear();
        }
    }

    private void LoadCatalog()
    {
        using var cmd = _readConnection.CreateCommand();
        cmd.CommandText = "SELECT id, name, unit, step_ms FROM series";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var stored = new StoredSeries(r.GetInt32(0), new SeriesInfo(r.GetString(1), r.GetString(2), TimeSpan.FromMilliseconds(r.GetInt64(3))));
            _seriesByName[stored.Info.Name] = stored;
            _seriesById[stored.Id] = stored;
        }
    }

    private static void CheckIsSqliteFile(string path)
    {
        if (Directory.Exists(path))
        {
            throw new PredictorException($"Store '{path}' is a directory; give the path of a store file inside it, e.g. '{System.IO.Path.Combine(path, "machine.db")}'.");
        }

        if (!File.Exists(path))
        {
            var dir = System.IO.Path.GetDirectoryName(path);
            if (dir is not null && !Directory.Exists(dir))
            {
                throw new PredictorException($"Cannot create store '{path}': folder '{dir}' does not exist. Create it or choose another path.");
            }

            return;
        }

        Span<byte> head = stackalloc byte[16];
        int read;
        using (var f = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            read = RandomAccess.Read(f, head, 0);
        }

        if (read == 0)
        {
            return;
        }

        if (read < 16 || !head.SequenceEqual(SqliteMagic))
        {
            throw new PredictorException(
                $"'{path}' is not a SQLite file (its first bytes are not 'SQLite format 3'), so it is not a Predictor store. " +
                "Pass the path of a store file (predictor collect and predictor import create one when given a new file name).");
        }
    }

    private static SqliteConnection OpenConnection(string path, StoreOptions options)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var cmd = connection.CreateCommand();

        // page_size only takes effect on a new file, before WAL is switched on: 16 KiB pages keep a compressed chunk
        // (typically 0.3-3 KiB) inside its B-tree page instead of an overflow chain.
        cmd.CommandText =
            "PRAGMA busy_timeout = 30000; PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; " +
            $"PRAGMA synchronous = {(options.Synchronous == StoreSynchronous.Full ? "FULL" : "NORMAL")}; PRAGMA foreign_keys = ON;";
        cmd.ExecuteNonQuery();
        return connection;
    }

    internal readonly record struct WriteItem(long Sequence, int SeriesId, long Timestamp, double Value, object? Payload);

    internal sealed record SampleBatch(long[] Timestamps, double[] Values);

    internal sealed class RegisterRequest(SeriesInfo info)
    {
        public SeriesInfo Info { get; } = info;

        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    internal sealed class RetentionRequest(long cutoffMs)
    {
        public long CutoffMs { get; } = cutoffMs;

        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;

namespace Predictor.Engine.Storage;

/// <summary>
/// The background writer's state: its own connection, prepared statements, and one open (partly filled) chunk per
/// series kept in memory. Each batch is one transaction; a partly filled chunk touched by the batch is re-encoded and
/// replaced in that same transaction, so everything acknowledged is in the file, and it becomes a closed chunk once full.
/// Runs on one thread only.
/// </summary>
internal sealed class StoreWriter : IDisposable
{
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly SqliteConnection _connection;
    private readonly int _chunkSamples;
    private readonly Dictionary<int, OpenChunk> _open = [];
    private readonly List<OpenChunk> _dirty = [];
    private readonly ChunkEncoder _encoder = new();
    private readonly ArrayBufferWriter<byte> _blob = new(16 * 1024);
    private readonly SqliteCommand _upsertChunk;
    private readonly SqliteCommand _lastChunk;
    private readonly SqliteCommand _insertDecision;
    private readonly SqliteCommand _insertSeries;

    public StoreWriter(SqliteConnection connection, StoreOptions options)
    {
        _connection = connection;
        _chunkSamples = options.ChunkSamples;
        _upsertChunk = connection.CreateCommand();
        _upsertChunk.CommandText =
            "INSERT OR REPLACE INTO chunks(series_id, chunk_start, chunk_end, count, codec, data) VALUES ($s, $a, $b, $n, $c, $d)";
        foreach (var name in new[] { "$s", "$a", "$b", "$n", "$c", "$d" })
        {
            _upsertChunk.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        _lastChunk = connection.CreateCommand();
        _lastChunk.CommandText = "SELECT chunk_start, data FROM chunks WHERE series_id = $s ORDER BY chunk_start DESC LIMIT 1";
        _lastChunk.Parameters.Add(new SqliteParameter { ParameterName = "$s" });

        // OR IGNORE: two registrations of one new name may be queued; the second finds the first's row.
        _insertSeries = connection.CreateCommand();
        _insertSeries.CommandText =
            "INSERT OR IGNORE INTO series(name, unit, step_ms) VALUES ($n, $u, $st); SELECT id FROM series WHERE name = $n";
        foreach (var name in new[] { "$n", "$u", "$st" })
        {
            _insertSeries.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        _insertDecision = connection.CreateCommand();
        _insertDecision.CommandText =
            "INSERT INTO decision_log(timestamp_ms, kind, subject, action, reason, values_json) VALUES ($t, $k, $s, $a, $r, $v)";
        foreach (var name in new[] { "$t", "$k", "$s", "$a", "$r", "$v" })
        {
            _insertDecision.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
    }

    /// <summary>Applies the items in one transaction and commits; returns the number of samples rejected as out of order.</summary>
    public long ApplyBatch(List<TimeSeriesStore.WriteItem> batch)
    {
        long rejected = 0;
        using var tx = _connection.BeginTransaction();
        _upsertChunk.Transaction = tx;
        _lastChunk.Transaction = tx;
        _insertDecision.Transaction = tx;
        _insertSeries.Transaction = tx;
        var retentions = new List<(TimeSeriesStore.RetentionRequest Request, int Deleted)>();
        var registered = new List<(TimeSeriesStore.RegisterRequest Request, int Id)>();
        foreach (var item in batch)
        {
            switch (item.Payload)
            {
                case null:
                    rejected += Append(item.SeriesId, item.Timestamp, item.Value) ? 0 : 1;
                    break;
                case TimeSeriesStore.SampleBatch samples:
                    for (var i = 0; i < samples.Timestamps.Length; i++)
                    {
                        rejected += Append(item.SeriesId, samples.Timestamps[i], samples.Values[i]) ? 0 : 1;
                    }

                    break;
                case DecisionRecord decision:
                    InsertDecision(decision);
                    break;
                case TimeSeriesStore.RetentionRequest retention:
                    WriteDirtyChunks();
                    retentions.Add((retention, DropOlderThan(tx, retention.CutoffMs)));
                    break;
                case TimeSeriesStore.RegisterRequest register:
                    registered.Add((register, InsertSeries(register.Info)));
                    break;
                default:
                    throw new InvalidOperationException($"Unknown write item {item.Payload.GetType().Name}.");
            }
        }

        WriteDirtyChunks();
        tx.Commit();
        foreach (var (request, deleted) in retentions)
        {
            request.Done.TrySetResult(deleted);
        }

        foreach (var (request, id) in registered)
        {
            request.Done.TrySetResult(id);
        }

        return rejected;
    }

    public void Dispose()
    {
        _upsertChunk.Dispose();
        _lastChunk.Dispose();
        _insertDecision.Dispose();
        _insertSeries.Dispose();
        _connection.Dispose();
    }

    private int InsertSeries(Telemetry.SeriesInfo info)
    {
        _insertSeries.Parameters["$n"].Value = info.Name;
        _insertSeries.Parameters["$u"].Value = info.Unit;
        _insertSeries.Parameters["$st"].Value = (long)info.Step.TotalMilliseconds;
        return Convert.ToInt32(_insertSeries.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private bool Append(int seriesId, long timestamp, double value)
    {
        if (!_open.TryGetValue(seriesId, out var chunk))
        {
            chunk = LoadOpenChunk(seriesId);
            _open.Add(seriesId, chunk);
        }

        if (chunk.HasLast && timestamp <= chunk.LastTimestamp)
        {
            return false;
        }

        if (chunk.Count == _chunkSamples)
        {
            // Full: it was written when it filled (or on load); start the next one.
            chunk.Count = 0;
        }

        chunk.Timestamps[chunk.Count] = timestamp;
        chunk.Values[chunk.Count] = value;
        chunk.Count++;
        chunk.LastTimestamp = timestamp;
        chunk.HasLast = true;
        if (!chunk.Dirty)
        {
            chunk.Dirty = true;
            _dirty.Add(chunk);
        }

        if (chunk.Count == _chunkSamples)
        {
            WriteChunk(chunk);
        }

        return true;
    }

    private void WriteDirtyChunks()
    {
        foreach (var chunk in _dirty)
        {
            if (chunk.Dirty)
            {
                WriteChunk(chunk);
            }
        }

        _dirty.Clear();
    }

    private void WriteChunk(OpenChunk chunk)
    {
        _blob.ResetWrittenCount();
        var codec = _encoder.Encode(chunk.Timestamps.AsSpan(0, chunk.Count), chunk.Values.AsSpan(0, chunk.Count), _blob);
        var p = _upsertChunk.Parameters;
        p[0].Value = chunk.SeriesId;
        p[1].Value = chunk.Timestamps[0];
        p[2].Value = chunk.Timestamps[chunk.Count - 1];
        p[3].Value = chunk.Count;
        p[4].Value = (int)codec;
        p[5].Value = _blob.WrittenSpan.ToArray();
        _upsertChunk.ExecuteNonQuery();
        chunk.Dirty = false;
    }

    private OpenChunk LoadOpenChunk(int seriesId)
    {
        var chunk = new OpenChunk(seriesId, _chunkSamples);
        _lastChunk.Parameters[0].Value = seriesId;
        using var r = _lastChunk.ExecuteReader();
        if (!r.Read())
        {
            return chunk;
        }

        var blob = (byte[])r[1];
        var n = ChunkDecoder.CountOf(blob);
        var t = new long[n];
        var v = new double[n];
        ChunkDecoder.Decode(blob, t, v);
        chunk.LastTimestamp = t[n - 1];
        chunk.HasLast = true;
        if (n < _chunkSamples)
        {
            // Continue the partly filled chunk: it is rewritten under the same (series_id, chunk_start) key.
            t.CopyTo(chunk.Timestamps, 0);
            v.CopyTo(chunk.Values, 0);
            chunk.Count = n;
        }
        else
        {
            chunk.Count = _chunkSamples;
        }

        return chunk;
    }

    private void InsertDecision(DecisionRecord d)
    {
        var p = _insertDecision.Parameters;
        p[0].Value = d.TimestampMs;
        p[1].Value = d.Kind;
        p[2].Value = d.Subject;
        p[3].Value = d.Action;
        p[4].Value = d.Reason;
        p[5].Value = JsonSerializer.Serialize(d.Values, JsonOptions);
        _insertDecision.ExecuteNonQuery();
    }

    private int DropOlderThan(SqliteTransaction tx, long cutoffMs)
    {
        using var cmd = _connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "DELETE FROM chunks WHERE chunk_end < $c";
        cmd.Parameters.AddWithValue("$c", cutoffMs);
        var deleted = cmd.ExecuteNonQuery();
        cmd.CommandText = "DELETE FROM decision_log WHERE timestamp_ms < $c";
        cmd.ExecuteNonQuery();

        // An open chunk that was deleted must not be resurrected by the next append: forget it, keeping the order check.
        foreach (var chunk in _open.Values)
        {
            if (chunk.Count > 0 && chunk.Count < _chunkSamples && chunk.Timestamps[chunk.Count - 1] < cutoffMs)
            {
                chunk.Count = 0;
            }
        }

        return deleted;
    }

    private sealed class OpenChunk(int seriesId, int capacity)
    {
        public int SeriesId { get; } = seriesId;

        public long[] Timestamps { get; } = new long[capacity];

        public double[] Values { get; } = new double[capacity];

        public int Count { get; set; }

        public long LastTimestamp { get; set; }

        public bool HasLast { get; set; }

        public bool Dirty { get; set; }
    }
}

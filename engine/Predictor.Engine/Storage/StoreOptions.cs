using System.Threading.Channels;

namespace Predictor.Engine.Storage;

/// <summary>How the store trades durability against fsync cost (SQLite's <c>PRAGMA synchronous</c> in WAL mode).</summary>
public enum StoreSynchronous
{
    /// <summary>
    /// <c>synchronous=FULL</c>: the WAL is fsync'ed at every commit, so a committed (acknowledged) batch survives
    /// a process kill and a power loss or OS crash.
    /// </summary>
    Full,

    /// <summary>
    /// <c>synchronous=NORMAL</c>: fsync only at checkpoints. A committed batch survives a process kill (SIGKILL), but
    /// the last batches before a power loss or OS crash may be rolled back (the file stays consistent).
    /// </summary>
    Normal,
}

/// <summary>Options of <see cref="TimeSeriesStore"/>. Setters validate; defaults suit a 100 ms loop with ~100 series.</summary>
public sealed class StoreOptions
{
    private int _channelCapacity = 65_536;
    private int _maxBatchItems = 16_384;
    private int _chunkSamples = 1024;

    /// <summary>
    /// Items the bounded write channel holds before it is full (a single sample, a batch or a decision is one item).
    /// The channel's full mode is <see cref="BoundedChannelFullMode.Wait"/>, but the loop's
    /// <see cref="TimeSeriesStore.TryAppend(int, long, double)"/> never waits: when full it rejects the new sample
    /// and counts it in <see cref="TimeSeriesStore.DroppedSamples"/>. Bulk <see cref="TimeSeriesStore.AppendAsync"/> waits
    /// for room (back-pressure), which is what an importer wants.
    /// </summary>
    /// <value>The default value is 65536. Between 16 and 16777216.</value>
    public int ChannelCapacity
    {
        get => _channelCapacity;
        set => _channelCapacity = CheckRange(value, 16, 16_777_216, nameof(ChannelCapacity));
    }

    /// <summary>Most items the writer applies in one transaction before committing.</summary>
    /// <value>The default value is 16384. Between 1 and 1048576.</value>
    public int MaxBatchItems
    {
        get => _maxBatchItems;
        set => _maxBatchItems = CheckRange(value, 1, 1_048_576, nameof(MaxBatchItems));
    }

    /// <summary>
    /// Samples per compressed chunk. Larger chunks compress better; a partly filled chunk is re-encoded at every commit
    /// that touches it, so larger chunks also cost more per commit on a live stream.
    /// </summary>
    /// <value>The default value is 1024. Between 8 and 65536.</value>
    public int ChunkSamples
    {
        get => _chunkSamples;
        set => _chunkSamples = CheckRange(value, 8, 65_536, nameof(ChunkSamples));
    }

    /// <summary>Durability of a commit; see <see cref="StoreSynchronous"/>.</summary>
    /// <value>The default value is <see cref="StoreSynchronous.Full"/>.</value>
    public StoreSynchronous Synchronous { get; set; } = StoreSynchronous.Full;

    /// <summary>
    /// Called on the writer thread after each committed batch with the sequence number up to which every accepted item
    /// is now durable (see <see cref="TimeSeriesStore.DurableUpTo"/>). Keep it short: the writer waits for it.
    /// </summary>
    /// <value>The default value is null (no callback).</value>
    public Action<long>? OnCommitted { get; set; }

    /// <summary>Receives one line per problem the background writer meets (e.g. a full disk); it then stops accepting writes.</summary>
    /// <value>The default value is null (problems are only visible through <see cref="TimeSeriesStore.WriterFault"/>).</value>
    public Action<string>? OnProblem { get; set; }

    private static int CheckRange(int value, int min, int max, string name) =>
        value < min || value > max
            ? throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}.")
            : value;
}

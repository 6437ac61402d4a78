namespace Predictor.Engine.Storage;

/// <summary>A series as the store knows it: its integer id (stable for the life of the file) and what it is.</summary>
/// <param name="Id">Stable integer id, used on the hot path instead of the name.</param>
/// <param name="Info">Name, unit and nominal step.</param>
public sealed record StoredSeries(int Id, Telemetry.SeriesInfo Info);

/// <summary>Summary of one stored series (what <c>predictor series show</c> prints).</summary>
/// <param name="Count">Samples stored.</param>
/// <param name="FirstMs">First timestamp (Unix ms), or 0 when empty.</param>
/// <param name="LastMs">Last timestamp (Unix ms), or 0 when empty.</param>
/// <param name="Chunks">Compressed chunks holding the samples.</param>
/// <param name="Bytes">Compressed bytes of those chunks.</param>
public sealed record SeriesSummary(long Count, long FirstMs, long LastMs, long Chunks, long Bytes);

/// <summary>How samples falling in one downsampling bucket are combined.</summary>
public enum Aggregation
{
    /// <summary>Arithmetic mean of the bucket's samples.</summary>
    Mean,

    /// <summary>Largest sample of the bucket (what capacity planning wants).</summary>
    Max,

    /// <summary>Smallest sample of the bucket.</summary>
    Min,
}

/// <summary>The execution profile the metadata service recommends for a module (seed 000).</summary>
public enum RecommendedProfile
{
    /// <summary>Runs in place.</summary>
    Standard,

    /// <summary>Copied to a RAM-backed partition and synchronised back.</summary>
    Fast,

    /// <summary>The strongest isolation this host offers.</summary>
    Secure,
}

/// <summary>How sensitive a module's data is; decides how strong its isolation must be.</summary>
public enum ModuleSecurityLevel
{
    /// <summary>No special handling.</summary>
    Normal,

    /// <summary>Keep away from untrusted neighbours.</summary>
    Sensitive,

    /// <summary>Needs the strongest isolation available.</summary>
    Confidential,
}

/// <summary>What the application metadata service records per module.</summary>
/// <param name="Module">Module name (unique).</param>
/// <param name="Profile">Recommended execution profile.</param>
/// <param name="CpuCores">CPU requirement in cores (e.g. 0.5).</param>
/// <param name="MemoryBytes">Memory requirement in bytes.</param>
/// <param name="Dependencies">Names of modules this one needs.</param>
/// <param name="SecurityLevel">How sensitive the module is.</param>
public sealed record ModuleMetadata(
    string Module,
    RecommendedProfile Profile,
    double CpuCores,
    long MemoryBytes,
    IReadOnlyList<string> Dependencies,
    ModuleSecurityLevel SecurityLevel);

/// <summary>One entry of the decision log: what the loop did and why.</summary>
/// <param name="TimestampMs">When (Unix ms).</param>
/// <param name="Kind">e.g. <c>partition</c>, <c>placement</c>, <c>fallback</c>.</param>
/// <param name="Subject">What it acted on, e.g. <c>partition/user</c>, <c>module/web</c>.</param>
/// <param name="Action">What it did, e.g. <c>resize</c>, <c>migrate</c>, <c>hold</c>.</param>
/// <param name="Reason">Why, in one line.</param>
/// <param name="Values">Numbers behind it (forecast, bound, old and new sizes), stored as JSON.</param>
public sealed record DecisionRecord(
    long TimestampMs,
    string Kind,
    string Subject,
    string Action,
    string Reason,
    IReadOnlyDictionary<string, double> Values);

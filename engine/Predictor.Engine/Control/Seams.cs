using Predictor.Engine.Backends;

namespace Predictor.Engine.Control;

/// <summary>
/// Reads the current value of every series the loop knows (the collectors, behind one verb). Values are written in
/// the loop's series order, in each series' own unit; NaN where a value is missing this tick.
/// </summary>
public interface ISampleSource
{
    /// <summary>Writes one value per series into <paramref name="values"/>.</summary>
    void Read(long timestampMs, Span<double> values);
}

/// <summary>
/// Takes one tick's samples toward the store without blocking: false when the sample was dropped (the store is
/// behind), which the loop counts and never waits on.
/// </summary>
public interface ISampleSink
{
    /// <summary>Hands over a copy of <paramref name="values"/>; returns false when it had to drop them.</summary>
    bool TryWrite(long timestampMs, ReadOnlySpan<double> values);
}

/// <summary>Records what each tick decided and why (the decision log).</summary>
public interface IDecisionLog
{
    /// <summary>Appends the tick's decision and what the backend reported; copies what it keeps.</summary>
    void Append(long timestampMs, Decision decision, in BackendReport report);
}

/// <summary>Where drained samples are kept (the SQLite store, behind one verb pair). Called off the tick.</summary>
public interface ISampleStore
{
    /// <summary>Appends one tick's samples (one value per series, NaN when missing).</summary>
    void Append(long timestampMs, ReadOnlySpan<double> values);

    /// <summary>Makes everything appended durable.</summary>
    void Flush();
}

/// <summary>Receives one drained sample.</summary>
public delegate void SampleHandler(long timestampMs, ReadOnlySpan<double> values);

namespace Predictor.Cli.Tests;

/// <summary>
/// Tests that run the live loop or the collector against the wall clock for a fixed time and then count what it did
/// run one at a time, after the parallel ones: beside other tests that block thread-pool threads on 2 cores, the
/// loop's timer can be starved for the whole second (CI once saw a run with no CPU sample, so at most one tick).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveLoopCollection
{
    /// <summary>The collection name used by <c>[Collection(LiveLoopCollection.Name)]</c>.</summary>
    public const string Name = "Live loop against the wall clock";
}

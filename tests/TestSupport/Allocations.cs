using Xunit;

namespace Predictor.TestSupport;

/// <summary>The zero-allocation checks of hot paths, measured so that the runtime's own one-off work cannot fail them.</summary>
internal static class Allocations
{
    /// <summary>
    /// Runs <paramref name="body"/> <paramref name="iterations"/> times in each of <paramref name="batches"/> consecutive
    /// batches and asserts that at most one batch allocated anything on this thread. An allocation in the code under
    /// test repeats, so it shows in every batch (or, if rarer than one call in <paramref name="iterations"/>, in two of
    /// them); a one-off event of the runtime does not. Such an event is real: on a loaded CI machine a tier-1
    /// promotion that lands mid-batch allocates on the calling thread (1,496 bytes once in the control loop's test,
    /// never reproduced idle; the same in dotnet/BenchmarkDotNet#1542), so one exact batch was a flaky test.
    /// </summary>
    public static void AssertSteadyStateAllocatesNothing(int iterations, Action body, int batches = 5)
    {
        var bytes = new long[batches];
        for (var b = 0; b < batches; b++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < iterations; i++)
            {
                body();
            }

            bytes[b] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.True(
            bytes.Count(x => x != 0) <= 1,
            $"{batches} batches of {iterations} calls allocated {string.Join(", ", bytes)} bytes: more than one batch allocated, so the code under test does.");
    }
}

using Predictor.TestSupport;
using Xunit;
using Xunit.Sdk;

namespace Predictor.Engine.Tests;

/// <summary>The zero-allocation checks must still catch code that allocates, every call or now and then.</summary>
public sealed class AllocationsTests
{
    private object? _kept;

    [Fact]
    public void AssertSteadyStateAllocatesNothing_AllocatingEveryCall_Fails()
    {
        var ex = Assert.Throws<TrueException>(() => Allocations.AssertSteadyStateAllocatesNothing(10, () => _kept = new byte[16]));
        Assert.Contains("more than one batch allocated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AssertSteadyStateAllocatesNothing_AllocatingOnceInTwoBatches_Fails()
    {
        var calls = 0;
        Assert.Throws<TrueException>(() => Allocations.AssertSteadyStateAllocatesNothing(10, () =>
        {
            if (++calls % 15 == 0)
            {
                _kept = new byte[16];
            }
        }));
    }

    [Fact]
    public void AssertSteadyStateAllocatesNothing_OneOffAllocation_Passes()
    {
        var calls = 0;
        Allocations.AssertSteadyStateAllocatesNothing(10, () =>
        {
            if (++calls == 25)
            {
                _kept = new byte[16];
            }
        });
        Assert.NotNull(_kept);
    }
}

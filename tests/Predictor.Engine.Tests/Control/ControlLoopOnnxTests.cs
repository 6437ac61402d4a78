using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Partitioning;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Control;

public sealed class ControlLoopOnnxTests
{
    [Fact]
    public void RunOnce_ShippedNaiveModelOnOnnxRuntime_ForecastsEverySeriesAndSizesFromIt()
    {
        using var forecaster = ForecasterLoader.OpenOnnx(RepoPaths.InRepo("models", "naive.onnx"));
        var step = forecaster.Shape.Step;
        var time = new ManualTime(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero));
        var source = new ArraySource(4);
        using var loop = new ControlLoop(new ControlLoopSetup
        {
            Series = ["mem/user", "mem/system", "cpu/user", "cpu/system"],
            Memory = new PartitionBinding(ResourceKind.Memory, 10_000, 0, 1),
            Cpu = new PartitionBinding(ResourceKind.Cpu, 4000, 2, 3, Scale: 1000),
            MemoryPolicy = PartitionPolicies.Predictive(new PredictivePolicyOptions { Headroom = 0.1, MaxStepShare = 1, ShrinkAfterTicks = 1 }),
            CpuPolicy = PartitionPolicies.Predictive(new PredictivePolicyOptions { Headroom = 0.1, MaxStepShare = 1, ShrinkAfterTicks = 1 }),
            Models = [new ModelBinding(forecaster, [0, 1, 2, 3])],
            Source = source,
            Backend = new SimulatedBackend([], [], PartitionSplit.Even(10_000), PartitionSplit.Even(4000)),
            Time = time,
            InferenceEveryTicks = 1,
            UpperTracking = null, // scripted bounds, used as written
            PartitionLeadSteps = null,
        });

        // One observation per model step: user memory alternates 3000/3400, the rest is flat.
        for (var i = 0; i < forecaster.Shape.Window + 2; i++)
        {
            source.Values[0] = i % 2 == 0 ? 3000 : 3400;
            source.Values[1] = 2000;
            source.Values[2] = 1.0;
            source.Values[3] = 0.5;
            time.Advance(step);
            loop.RunOnce();
        }

        // The shipped naive model (no residuals, upper offset 0): upper = forecast = the last observation. The last
        // closed step holds the previous tick's value (a step closes when the next one starts).
        Assert.Equal(source.Values[0] == 3000 ? 3400 : 3000, loop.UpperMax[0], 3);
        Assert.Equal(2000, loop.UpperMax[1], 3);
        Assert.Equal(1.0, loop.UpperMax[2], 5);
        var memory = loop.LastDecision[ResourceKind.Memory];
        // 3400 × 1.1 (rounded up); when the upper drops to 3000 the target (3300) is inside the dead band
        // (5 % of 10 000), so the hysteresis keeps the larger allocation.
        Assert.InRange(memory.User, 3740, 3741);
        Assert.Equal(2200, memory.System);
        Assert.Equal(10_000, memory.User + memory.System + memory.Pool);
    }
}

using BenchmarkDotNet.Attributes;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Engine.Replay;

namespace Predictor.Benchmarks.Replay;

/// <summary>
/// Where the default GBDT replay's speed comes from: the replay of <see cref="ReplaySpeedBenchmarks"/> (30 days,
/// 40 series, <c>models/azure_v1_vm_737498.onnx</c>) with inference tick by tick (<see cref="LookaheadRows"/> 0, as the
/// live loop runs it) or forecast ahead in batches (<see cref="ReplayRunner.LookaheadRows"/>), on one ONNX Runtime
/// thread or one per core (what <see cref="ReplayRunner.ModelOptions"/> gives).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class ReplayLookaheadBenchmarks
{
    private ReplaySpeedBenchmarks _layout = null!;

    /// <summary>Rows per batched call; 0 runs inference tick by tick.</summary>
    [Params(0, ReplayRunner.LookaheadRows)]
    public int LookaheadRows { get; set; }

    /// <summary>ONNX Runtime intra-op threads: 1, or 0 for <see cref="ReplayRunner.ModelOptions"/>' one per core.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _layout = new ReplaySpeedBenchmarks { Model = "azure_v1_vm_737498.onnx" };
        _layout.Setup();
    }

    [GlobalCleanup]
    public void Cleanup() => _layout.Cleanup();

    [Benchmark]
    public ReplayResult Replay() => ReplayRunner.Run(_layout.Scenario, _layout.Inputs, Open, true, null, LookaheadRows);

    private IForecaster Open(ScenarioModel model)
    {
        var options = ReplayRunner.ModelOptions();
        if (Threads == 1)
        {
            options.Session = new OnnxSessionOptions { IntraOpThreads = 1 };
        }

        return ForecasterLoader.OpenOnnx(model.Path!, options);
    }
}

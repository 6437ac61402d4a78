using BenchmarkDotNet.Running;

namespace Predictor.Benchmarks;

/// <summary>Entry point: runs the benchmarks selected by BenchmarkDotNet's command line (e.g. <c>--filter '*Onnx*'</c>).</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

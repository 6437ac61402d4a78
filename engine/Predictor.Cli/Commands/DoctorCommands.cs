using System.CommandLine;
using Predictor.Engine;
using Predictor.Engine.Onnx;
using Predictor.Engine.Backends.Linux;

namespace Predictor.Cli.Commands;

/// <summary><c>predictor doctor</c>: what this host supports for the Linux backend, and why.</summary>
internal static class DoctorCommands
{
    public static Command Build()
    {
        var doctor = new Command(
            "doctor",
            "Report what this host supports for running the loop live: root, cgroup v1/v2 controllers and whether they " +
            "are writable, cpuset CPUs and memory nodes, PSI, CPUs and NUMA nodes, sched_setaffinity, and whether ONNX " +
            "Runtime loads. Reads only; creates nothing. Exits 0 and prints one line per check.");
        doctor.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var checks = HostDoctor.Run(ProbeOnnxRuntime);
            var width = checks.Max(c => c.Name.Length);
            foreach (var check in checks)
            {
                output.WriteLine($"{(check.Ok ? "ok " : "no ")}  {check.Name.PadRight(width)}  {check.Detail}");
            }

            var linuxReady = checks.Where(c => c.Name is "root" or "cgroup v1 memory" or "cgroup v1 cpu").All(c => c.Ok);
            output.WriteLine(linuxReady
                ? "backend linux: available (partitions as cgroup v1 memory + cpu; modules moved with sched_setaffinity)"
                : "backend linux: not available here (see the 'no' lines above); dry-run and simulated are");
            return 0;
        });
        return doctor;
    }

    /// <summary>Loads ONNX Runtime through the engine's binding (the same search the loop uses) and reports its version.</summary>
    private static (bool Ok, string Detail) ProbeOnnxRuntime()
    {
        try
        {
            return (true, $"ONNX Runtime {OnnxModelInspector.RuntimeVersion} loads through the engine's binding: ONNX models run");
        }
        catch (Exception ex) when (ex is PredictorException or DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
            return (false, $"{ex.Message.ReplaceLineEndings(" ")} The loop falls back to the naive forecaster.");
        }
    }
}

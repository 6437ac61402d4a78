using System.CommandLine;
using System.Runtime.InteropServices;
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

    /// <summary>Loads libonnxruntime.so.1 the way the runtime's loader would (next to the app, then the system paths).</summary>
    private static (bool Ok, string Detail) ProbeOnnxRuntime()
    {
        foreach (var candidate in new[] { Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so.1"), "libonnxruntime.so.1" })
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                var hasApi = NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out _);
                NativeLibrary.Free(handle);
                return hasApi
                    ? (true, $"libonnxruntime.so.1 loads ({candidate}) and exports OrtGetApiBase")
                    : (false, $"{candidate} loads but has no OrtGetApiBase: not an ONNX Runtime library");
            }
        }

        return (false, "libonnxruntime.so.1 was not found next to predictor nor on the loader path: the loop falls back to the naive forecaster");
    }
}

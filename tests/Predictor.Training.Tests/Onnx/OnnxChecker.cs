using System.Diagnostics;

namespace Predictor.Training.Tests.Onnx;

/// <summary>
/// Runs the official ONNX checker (Debian's python3-onnx, through /usr/bin/python3) on a model file, with
/// <c>full_check=True</c> (which adds strict shape inference). A missing python3-onnx is a failure, never a skip:
/// build/test.sh installs it from .ci/apt-packages.txt.
/// </summary>
internal static class OnnxChecker
{
    private const string Python = "/usr/bin/python3";
    private const string Script = "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print(onnx.__version__)";

    /// <summary>Checks <paramref name="modelBytes"/>; returns (exit code, stdout, stderr).</summary>
    public static (int ExitCode, string Output, string Error) Check(byte[] modelBytes)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: the ONNX checker test needs Debian's python3 and python3-onnx (sudo apt-get install python3-onnx; build/test.sh installs .ci/apt-packages.txt).");
        string path = Path.Combine(Path.GetTempPath(), $"predictor-check-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, modelBytes);
        try
        {
            var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(Script);
            psi.ArgumentList.Add(path);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (stderr.Contains("No module named 'onnx'", StringComparison.Ordinal))
            {
                Assert.Fail($"python3-onnx is not installed for {Python}: install it (sudo apt-get install python3-onnx; it is listed in .ci/apt-packages.txt, which build/test.sh installs). {stderr}");
            }

            return (p.ExitCode, stdout.Result, stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Asserts the checker accepts the model, printing its complaint otherwise.</summary>
    public static void AssertAccepted(byte[] modelBytes, string what)
    {
        var (code, _, err) = Check(modelBytes);
        Assert.True(code == 0, $"The ONNX checker rejected the {what} model (exit {code}):\n{err}");
    }
}

using System.Diagnostics;
using Predictor.Training.Onnx;
using static Predictor.Cli.Tests.CliRun;

namespace Predictor.Cli.Tests.Models;

public sealed class ModelsCommandsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "predictor-cli-models-" + Guid.NewGuid().ToString("N"));

    public ModelsCommandsTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Inspect_WriterModel_PrintsInputsOutputsCardAndFits()
    {
        string path = WriteNaive("naive.onnx");

        var (code, output, error) = Run("models", "inspect", path);

        Assert.Equal(0, code);
        Assert.Equal(string.Empty, error);
        Assert.Contains($"model:        {path}", output, StringComparison.Ordinal);
        Assert.Contains("onnxruntime:  1.30.0", output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^  window\s+float32\[N,48\]$", output);
        Assert.Matches(@"(?m)^  forecast\s+float32\[N,12\]$", output);
        Assert.Matches(@"(?m)^  upper\s+float32\[N,12\]$", output);
        Assert.Matches(@"(?m)^  predictor\.kind\s+= naive$", output);
        Assert.Matches(@"(?m)^  predictor\.window\s+= 48$", output);
        Assert.Contains("contract:     fits (W=48, H=12, C=0, step 10 s, quantile 0.9, N dynamic)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_ModelThatDoesNotFit_ExitsOneWithOneLineReason()
    {
        byte[] model = ForecastModels.Naive(Card(), Offsets());
        string path = Path.Combine(_directory, "renamed.onnx");
        File.WriteAllBytes(path, Rename(model, "forecast", "f0recast"));

        var (code, output, error) = Run("models", "inspect", path);

        Assert.Equal(1, code);
        Assert.Contains("contract:     does not fit (1 problem)", output, StringComparison.Ordinal);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"predictor: error: model '{path}' does not fit the model contract (1 problem): (1) output 'forecast' (float32 [N,H]) is missing", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_CorruptFile_ExitsOneWithOrtsMessage()
    {
        string path = Path.Combine(_directory, "corrupt.onnx");
        File.WriteAllText(path, "not a model");

        var (code, output, error) = Run("models", "inspect", path);

        Assert.Equal(1, code);
        Assert.Equal(string.Empty, output);
        Assert.Equal($"predictor: error: ONNX Runtime failed while loading model '{path}': [InvalidProtobuf] Load model from {path} failed:Protobuf parsing failed.", error.Trim());
    }

    [Fact]
    public void Inspect_Help_DescribesTheCommand()
    {
        var (code, output, _) = Run("models", "inspect", "--help");

        Assert.Equal(0, code);
        Assert.Contains("models inspect <FILE>", output, StringComparison.Ordinal);
        Assert.Contains("whether it fits the model contract", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_ShippedNaiveModel_Fits()
    {
        string path = Predictor.TestSupport.RepoPaths.InRepo("models", "naive.onnx");

        var (code, output, error) = Run("models", "inspect", path);

        Assert.True(code == 0, error);
        Assert.Contains("contract:     fits (W=48, H=12", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_PredictorOnnxRuntimeNamesMissingFile_ChildProcessSaysWhatWhereAndHow()
    {
        string model = WriteNaive("naive.onnx");
        string missing = Path.Combine(_directory, "nowhere", "libonnxruntime.so");

        var (code, output, error) = RunChild(missing, "models", "inspect", model);

        Assert.Equal(1, code);
        Assert.Equal(string.Empty, output);
        Assert.Equal(
            $"predictor: error: ONNX Runtime could not be loaded from PREDICTOR_ONNXRUNTIME='{missing}': '{missing}': no such file. " +
            "Fix: point PREDICTOR_ONNXRUNTIME at a libonnxruntime.so of ONNX Runtime 1.30.0 or newer, or unset it to use the " +
            "libonnxruntime.so.1 the build places beside the binaries.",
            error.Trim());
    }

    [Fact]
    public void Inspect_PredictorOnnxRuntimeNamesNonLibrary_ChildProcessReportsTheLoaderError()
    {
        string model = WriteNaive("naive.onnx");
        string notALibrary = Path.Combine(_directory, "libonnxruntime.so");
        // Longer than an ELF header, so the loader reads it and rejects the header (a tiny file is "too short").
        File.WriteAllText(notALibrary, string.Concat(Enumerable.Repeat("plain text, not an ELF shared library\n", 100)));

        var (code, output, error) = RunChild(notALibrary, "models", "inspect", model);

        Assert.Equal(1, code);
        Assert.Equal(string.Empty, output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"predictor: error: ONNX Runtime could not be loaded from PREDICTOR_ONNXRUNTIME='{notALibrary}': '{notALibrary}': ", line, StringComparison.Ordinal);
        Assert.Contains("invalid ELF header", line, StringComparison.Ordinal);
        Assert.Contains("Fix: point PREDICTOR_ONNXRUNTIME at", line, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteBaseline_SeasonalNaive_WritesAModelThatInspectAccepts()
    {
        string path = Path.Combine(_directory, "seasonal.onnx");

        var (code, output, error) = Run("models", "write-baseline", "--kind", "seasonal-naive", "--window", "24", "--horizon", "6", "--season", "12", "--upper-offset", "2.5", "--out", path);

        Assert.True(code == 0, error);
        Assert.StartsWith($"wrote {path} (seasonal_naive, W=24, H=6, ", output, StringComparison.Ordinal);
        var (inspectCode, inspected, _) = Run("models", "inspect", path);
        Assert.Equal(0, inspectCode);
        Assert.Matches(@"(?m)^  predictor\.season\s+= 12$", inspected);
        Assert.Contains("contract:     fits (W=24, H=6, C=0, step 10 s, quantile 0.9, N dynamic)", inspected, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteBaseline_SeasonLongerThanWindow_ExitsOneSayingHowToFix()
    {
        var (code, _, error) = Run("models", "write-baseline", "--kind", "seasonal-naive", "--window", "48", "--season", "60", "--out", Path.Combine(_directory, "x.onnx"));

        Assert.Equal(1, code);
        Assert.Contains("season 60 steps does not fit window 48", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "x.onnx")));
    }

    [Theory]
    [InlineData("--horizon", "-5", "--horizon -5: the horizon must be between 1 and 10000 steps")]
    [InlineData("--horizon", "100000000", "the horizon must be between 1 and 10000 steps")]
    [InlineData("--window", "0", "--window 0: the window must be between 1 and 100000 steps")]
    [InlineData("--window", "2000000000", "the window must be between 1 and 100000 steps")]
    [InlineData("--step-seconds", "1e300", "the step must be a positive number of seconds, at most 31536000 (a year)")]
    [InlineData("--step-seconds", "0", "the step must be a positive number of seconds")]
    [InlineData("--season", "0", "--season 0: the season must be at least 1 step")]
    public void WriteBaseline_OptionOutOfRange_ExitsOneSayingWhatIsAcceptedAndWritesNothing(string option, string value, string expected)
    {
        string path = Path.Combine(_directory, "x.onnx");

        var (code, _, error) = Run("models", "write-baseline", "--kind", "seasonal-naive", option, value, "--out", path);

        Assert.Equal(1, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Inspect_EmptyFileOrDirectory_SaysSoWithoutOnnxRuntimesInternals()
    {
        string empty = Path.Combine(_directory, "empty.onnx");
        File.WriteAllBytes(empty, []);

        var (code, _, error) = Run("models", "inspect", empty);
        var (dirCode, _, dirError) = Run("models", "inspect", _directory);

        Assert.Equal(1, code);
        Assert.Contains($"Model file '{empty}' is empty (0 bytes), not an ONNX model", error, StringComparison.Ordinal);
        Assert.DoesNotContain("onnxruntime::", error, StringComparison.Ordinal);
        Assert.Equal(1, dirCode);
        Assert.Contains("is a directory", dirError, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteBaseline_SeasonForNaive_IsRefused()
    {
        var (code, _, error) = Run("models", "write-baseline", "--kind", "naive", "--season", "12", "--out", Path.Combine(_directory, "x.onnx"));

        Assert.Equal(1, code);
        Assert.Contains("--season applies to --kind seasonal-naive only", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_CardStepBeyondAYear_IsListedAsAContractProblemNotACrash()
    {
        string path = Path.Combine(_directory, "far.onnx");
        var card = Card() with { StepSeconds = 123456.5 };
        File.WriteAllBytes(path, Rename(ForecastModels.Naive(card, Offsets()), "123456.5", "1.0E+300"));

        var (code, output, _) = Run("models", "inspect", path);
        var (evalCode, _, evalError) = Run("evaluate", path, "--format", "nab", "--dataset", _directory, "--series", "*");

        Assert.Equal(1, code);
        Assert.Contains("card key 'predictor.step_seconds' is '1.0E+300'; it must be a positive number of seconds, at most 31536000", output, StringComparison.Ordinal);
        Assert.Equal(1, evalCode);
        Assert.Contains("step_seconds", evalError, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteBaseline_UnknownKind_IsAParseError()
    {
        var (code, _, error) = Run("models", "write-baseline", "--kind", "ridge", "--out", Path.Combine(_directory, "x.onnx"));

        Assert.NotEqual(0, code);
        Assert.Contains("ridge", error, StringComparison.Ordinal);
    }

    private static ModelCard Card() => new() { Kind = ForecastModels.NaiveKind, Window = 48, Horizon = 12, StepSeconds = 10, Quantile = 0.9 };

    private static float[] Offsets() => Enumerable.Repeat(1f, 12).ToArray();

    private string WriteNaive(string name)
    {
        string path = Path.Combine(_directory, name);
        ForecastModels.WriteFile(path, ForecastModels.Naive(Card(), Offsets()));
        return path;
    }

    private static byte[] Rename(byte[] model, string from, string to)
    {
        byte[] a = System.Text.Encoding.UTF8.GetBytes(from);
        byte[] b = System.Text.Encoding.UTF8.GetBytes(to);
        var result = (byte[])model.Clone();
        for (int i = 0; i + a.Length <= result.Length; i++)
        {
            if (result.AsSpan(i, a.Length).SequenceEqual(a))
            {
                b.CopyTo(result, i);
            }
        }

        return result;
    }

    [Fact]
    public void Inspect_MissingFile_OneLineErrorNamingFileAndFix()
    {
        string missing = Path.Combine(_directory, "absent.onnx");

        var (code, _, error) = Run("models", "inspect", missing);

        Assert.Equal(1, code);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"Model file '{missing}' does not exist", line, StringComparison.Ordinal);
        Assert.Contains("predictor train", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the built CLI in a child process: the test process has ONNX Runtime loaded already, and a process loads
    /// the library once, so a missing library can only be seen by a fresh process.
    /// </summary>
    private static (int Code, string Output, string Error) RunChild(string onnxRuntime, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "predictor.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing; the test project must reference Predictor.Cli.");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PREDICTOR_ONNXRUNTIME"] = onnxRuntime;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "the CLI did not exit within 60 s");
        return (process.ExitCode, stdout.Result, stderr);
    }
}

using Predictor.Engine.Onnx;
using Predictor.Engine.Onnx.Native;

namespace Predictor.Engine.Tests.Onnx;

/// <summary>
/// The library search with explicit inputs (the process's own PREDICTOR_ONNXRUNTIME is not touched; the CLI tests
/// check the same errors end to end in a child process).
/// </summary>
public sealed class OrtLibraryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "predictor-ortlib-" + Guid.NewGuid().ToString("N"));

    public OrtLibraryTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Load_EnvironmentNamesMissingFile_ThrowsNamingTheFileAndTheFix()
    {
        string missing = Path.Combine(_directory, "libonnxruntime.so");

        var ex = Assert.Throws<OnnxRuntimeLibraryException>(() => OrtLibrary.Load(missing, [AppContext.BaseDirectory], []));

        Assert.Equal([$"'{missing}': no such file"], ex.PathsTried);
        Assert.StartsWith($"ONNX Runtime could not be loaded from PREDICTOR_ONNXRUNTIME='{missing}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: point PREDICTOR_ONNXRUNTIME at a libonnxruntime.so", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EnvironmentNamesNonLibrary_ReportsTheLoadersReason()
    {
        string text = Path.Combine(_directory, "libonnxruntime.so");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("not an ELF file\n", 200)));

        var ex = Assert.Throws<OnnxRuntimeLibraryException>(() => OrtLibrary.Load(text, [], []));

        string reason = Assert.Single(ex.PathsTried);
        Assert.Contains("invalid ELF header", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("strace", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NothingAnywhere_ListsEveryPathTriedAndHowToFix()
    {
        string empty = Path.Combine(_directory, "empty");
        Directory.CreateDirectory(empty);

        var ex = Assert.Throws<OnnxRuntimeLibraryException>(() => OrtLibrary.Load(null, [empty], ["libpredictor-no-such-onnxruntime.so"]));

        Assert.Equal(
            [
                $"'{Path.Combine(empty, "libonnxruntime.so.1")}': no such file",
                "'libpredictor-no-such-onnxruntime.so' through the system loader: not found (LD_LIBRARY_PATH, ldconfig)",
            ],
            ex.PathsTried);
        Assert.StartsWith("ONNX Runtime's native library (libonnxruntime.so.1, 1.30.0) was not found.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: build the project", ex.Message, StringComparison.Ordinal);
        Assert.Contains("set PREDICTOR_ONNXRUNTIME", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<PredictorException>(ex);
    }

    [Fact]
    public void Load_LibraryBesideTheTests_IsFoundThere()
    {
        var loaded = OrtLibrary.Load(null, [AppContext.BaseDirectory], []);

        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so.1"), loaded.Path);
        Assert.NotEqual(0, loaded.Handle);
    }

    [Fact]
    public void Load_SharedLibraryWithoutOrtGetApiBase_IsNotTakenForOnnxRuntime()
    {
        string libm = "/lib/x86_64-linux-gnu/libm.so.6";
        Assert.True(File.Exists(libm), "this test uses the C maths library as a shared library that is not ONNX Runtime");

        var ex = Assert.Throws<OnnxRuntimeLibraryException>(() => OrtLibrary.Load(libm, [], []));

        Assert.Equal([$"'{libm}': loads but exports no OrtGetApiBase, so it is not ONNX Runtime"], ex.PathsTried);
    }
}

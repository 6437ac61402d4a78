using System.Runtime.InteropServices;

namespace Predictor.Engine.Onnx.Native;

/// <summary>
/// Finds and loads ONNX Runtime's shared library, in this order:
/// 1. <c>PREDICTOR_ONNXRUNTIME</c>, the path of a user's own libonnxruntime.so (when set, it is the only candidate:
///    a user who names a file wants that file, not a silent fallback to another copy);
/// 2. <c>libonnxruntime.so.1</c> beside the engine assembly, then beside the application (where the build puts it);
/// 3. the system loader (<c>libonnxruntime.so.1</c>, then <c>libonnxruntime.so</c>; LD_LIBRARY_PATH, ldconfig).
/// When none loads, one <see cref="OnnxRuntimeLibraryException"/> names the file, every path tried with the loader's
/// error for each, and how to fix it.
/// </summary>
internal static class OrtLibrary
{
    /// <summary>The variable that points at a user's own ONNX Runtime library.</summary>
    public const string EnvironmentVariable = "PREDICTOR_ONNXRUNTIME";

    /// <summary>The file the build places beside the binaries.</summary>
    public const string FileName = "libonnxruntime.so.1";

    /// <summary>The ONNX Runtime release the build fetches and the binding targets.</summary>
    public const string ExpectedVersion = "1.30.0";

    /// <summary>A loaded library: its handle (kept for the life of the process) and where it came from.</summary>
    internal readonly record struct Loaded(nint Handle, string Path);

    public static Loaded Load()
        => Load(Environment.GetEnvironmentVariable(EnvironmentVariable), CandidateDirectories(), [FileName, "libonnxruntime.so"]);

    /// <summary>The search itself, with its inputs explicit so tests can run it without touching the process's state.</summary>
    /// <param name="fromEnvironment">The value of PREDICTOR_ONNXRUNTIME, or null when unset.</param>
    /// <param name="directories">Folders to look for <see cref="FileName"/> in, in order.</param>
    /// <param name="systemNames">Names handed to the system loader, in order.</param>
    internal static Loaded Load(string? fromEnvironment, IEnumerable<string> directories, IEnumerable<string> systemNames)
    {
        var tried = new List<string>();
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            string path = System.IO.Path.GetFullPath(fromEnvironment);
            if (TryLoad(path, tried, out var handle))
            {
                return new Loaded(handle, path);
            }

            throw new OnnxRuntimeLibraryException(
                $"ONNX Runtime could not be loaded from {EnvironmentVariable}='{fromEnvironment}': {string.Join("; ", tried)}. " +
                $"Fix: point {EnvironmentVariable} at a libonnxruntime.so of ONNX Runtime {ExpectedVersion} or newer, " +
                $"or unset it to use the {FileName} the build places beside the binaries.",
                tried);
        }

        foreach (string directory in directories)
        {
            string path = System.IO.Path.Combine(directory, FileName);
            if (TryLoad(path, tried, out var handle))
            {
                return new Loaded(handle, path);
            }
        }

        foreach (string name in systemNames)
        {
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                return new Loaded(handle, name);
            }

            tried.Add($"'{name}' through the system loader: not found (LD_LIBRARY_PATH, ldconfig)");
        }

        throw new OnnxRuntimeLibraryException(
            $"ONNX Runtime's native library ({FileName}, {ExpectedVersion}) was not found. Tried: {string.Join("; ", tried)}. " +
            $"Fix: build the project (dotnet build fetches it from the npm package onnxruntime-node into ~/.cache/predictor), " +
            $"or set {EnvironmentVariable} to the path of your own libonnxruntime.so.",
            tried);
    }

    private static IEnumerable<string> CandidateDirectories()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? engineDirectory = System.IO.Path.GetDirectoryName(typeof(OrtLibrary).Assembly.Location);
        foreach (string? directory in new[] { engineDirectory, AppContext.BaseDirectory })
        {
            if (string.IsNullOrEmpty(directory))
            {
                continue;
            }

            string full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(directory));
            if (seen.Add(full))
            {
                yield return full;
            }
        }
    }

    /// <summary>
    /// .NET's message wraps dlerror's text in advice about strace and LD_DEBUG; keep dlerror's own words
    /// (e.g. "invalid ELF header", "libfoo.so: cannot open shared object file"), which say what is wrong.
    /// </summary>
    private static string LoaderReason(string message)
    {
        const string Marker = "LD_DEBUG environment variable:";
        int at = message.IndexOf(Marker, StringComparison.Ordinal);
        string reason = at >= 0 ? message[(at + Marker.Length)..] : message;
        return reason.ReplaceLineEndings(" ").Trim();
    }

    private static bool TryLoad(string path, List<string> tried, out nint handle)
    {
        handle = 0;
        if (!File.Exists(path))
        {
            tried.Add($"'{path}': no such file");
            return false;
        }

        try
        {
            // NativeLibrary.Load (not TryLoad) so the loader's own reason (dlerror: "invalid ELF header", a missing
            // dependency, ...) reaches the message.
            handle = NativeLibrary.Load(path);
        }
        catch (DllNotFoundException ex)
        {
            tried.Add($"'{path}': {LoaderReason(ex.Message)}");
            return false;
        }
        catch (BadImageFormatException ex)
        {
            tried.Add($"'{path}': {ex.Message.ReplaceLineEndings(" ")}");
            return false;
        }

        if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out _))
        {
            tried.Add($"'{path}': loads but exports no OrtGetApiBase, so it is not ONNX Runtime");
            NativeLibrary.Free(handle);
            handle = 0;
            return false;
        }

        return true;
    }
}

using System.Diagnostics;
using System.Security.Cryptography;

namespace Predictor.Engine.Tests.Onnx;

/// <summary>
/// build/onnxruntime/fetch-onnxruntime.sh with a stand-in <c>npm</c> on PATH (no network): a cached library whose sha256
/// matches the manifest is used without calling npm, a tampered one is fetched again, and a tarball that does not match
/// the pinned integrity fails with a clear message and leaves nothing in the cache.
/// </summary>
public sealed class FetchOnnxRuntimeScriptTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "predictor-fetch-tests-" + Guid.NewGuid().ToString("N"));
    private readonly string _cache;
    private readonly string _bin;
    private readonly string _npmCalls;

    public FetchOnnxRuntimeScriptTests()
    {
        _cache = Path.Combine(_root, "cache");
        _bin = Path.Combine(_root, "bin");
        _npmCalls = Path.Combine(_root, "npm-calls.txt");
        Directory.CreateDirectory(_cache);
        Directory.CreateDirectory(_bin);
        // Stand-in npm: records its call and packs a tarball that is NOT the published one.
        File.WriteAllText(Path.Combine(_bin, "npm"), $$"""
            #!/usr/bin/env bash
            echo "$*" >> '{{_npmCalls}}'
            dest=.
            while [ $# -gt 0 ]; do [ "$1" = --pack-destination ] && dest="$2"; shift; done
            work=$(mktemp -d); mkdir -p "$work/package/bin/napi-v6/linux/x64"
            echo fake > "$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
            tar -czf "$dest/onnxruntime-node-1.30.0.tgz" -C "$work" package
            """.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(_bin, "npm"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Fetch_CachedLibraryMatchesManifest_DoesNotCallNpm()
    {
        string library = Path.Combine(_cache, "libonnxruntime.so.1");
        File.WriteAllText(library, "cached library");
        File.WriteAllText(Path.Combine(_cache, "manifest.txt"), $"library_sha256={Sha256(library)}\n");

        var (code, _, error) = RunScript();

        Assert.True(code == 0, error);
        Assert.False(File.Exists(_npmCalls), "npm was called although the cache was valid");
        Assert.Equal("cached library", File.ReadAllText(library));
    }

    [Fact]
    public void Fetch_TarballDoesNotMatchPinnedIntegrity_FailsClearlyAndKeepsNothing()
    {
        var (code, _, error) = RunScript();

        Assert.Equal(1, code);
        Assert.StartsWith("pack onnxruntime-node@1.30.0 --ignore-scripts", File.ReadAllText(_npmCalls), StringComparison.Ordinal);
        Assert.Contains("error PRED0001: onnxruntime-node-1.30.0.tgz does not match the pinned integrity: expected sha512-twhs1C2C", error, StringComparison.Ordinal);
        Assert.Contains("nothing was kept", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cache, "libonnxruntime.so.1")));
        Assert.False(File.Exists(Path.Combine(_cache, "manifest.txt")));
        Assert.Empty(Directory.GetDirectories(_cache));
    }

    [Fact]
    public void Fetch_CachedLibraryTampered_FetchesAgain()
    {
        string library = Path.Combine(_cache, "libonnxruntime.so.1");
        File.WriteAllText(library, "tampered");
        File.WriteAllText(Path.Combine(_cache, "manifest.txt"), "library_sha256=0000\n");

        var (code, output, _) = RunScript();

        // The stand-in's tarball then fails the integrity check: what matters here is that npm was asked again.
        Assert.Equal(1, code);
        Assert.Contains("does not match the sha256 in", output, StringComparison.Ordinal);
        Assert.True(File.Exists(_npmCalls));
        Assert.False(File.Exists(library));
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private (int Code, string Output, string Error) RunScript()
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Predictor.TestSupport.RepoPaths.InRepo("build", "onnxruntime", "fetch-onnxruntime.sh"));
        start.ArgumentList.Add(_cache);
        start.Environment["PATH"] = _bin + ":" + Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000));
        return (process.ExitCode, stdout.Result, stderr);
    }
}

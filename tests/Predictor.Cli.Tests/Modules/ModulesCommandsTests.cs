using System.Diagnostics;
using System.Text;
using static Predictor.Cli.Tests.CliRun;

namespace Predictor.Cli.Tests.Modules;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class ModulesCommandsTests
{
    [Theory]
    [InlineData("keygen")]
    [InlineData("sign")]
    [InlineData("verify")]
    [InlineData("install")]
    [InlineData("list")]
    [InlineData("rollback")]
    [InlineData("log")]
    public void Help_EachSubcommand_DescribesItself(string sub)
    {
        var (code, output, _) = Run("modules", sub, "--help");
        Assert.Equal(0, code);
        Assert.Contains($"modules {sub} [options]", output, StringComparison.Ordinal);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Contains("--", output, StringComparison.Ordinal);
    }

    [Fact]
    public void EndToEnd_KeygenSignVerifyInstallRollbackLog_Works()
    {
        using var dir = new TempDir();
        var src1 = dir.Source("1.0.0");
        var src2 = dir.Source("2.0.0");
        var trust = dir.P("trust.json");
        var root = dir.P("root");
        Ok("modules", "keygen", "--out", dir.P("root.pem"), "--trust-store", trust);
        Ok("modules", "sign", "--key", dir.P("root.pem"), "--source", src1, "--name", "hello", "--version", "1.0.0", "--entry", "bin/run.sh", "--health", "./bin/run.sh", "--out", dir.P("v1.tar"));
        Ok("modules", "sign", "--key", dir.P("root.pem"), "--source", src2, "--name", "hello", "--version", "2.0.0", "--entry", "bin/run.sh", "--out", dir.P("v2.tar"));
        Assert.Contains("OK hello 1.0.0", Ok("modules", "verify", "--package", dir.P("v1.tar"), "--trust-store", trust), StringComparison.Ordinal);
        Ok("modules", "install", "--package", dir.P("v1.tar"), "--root", root, "--trust-store", trust);
        Ok("modules", "install", "--package", dir.P("v2.tar"), "--root", root, "--trust-store", trust);
        Assert.Contains("hello: active slot b version 2.0.0, other slot 1.0.0, committed 2.0.0, files intact", Ok("modules", "list", "--root", root), StringComparison.Ordinal);

        var (code, _, error) = Run("modules", "install", "--package", dir.P("v1.tar"), "--root", root, "--trust-store", trust);
        Assert.Equal(1, code);
        Assert.Contains("not newer than the committed 2.0.0", error, StringComparison.Ordinal);

        Assert.Contains("active slot a version 1.0.0", Ok("modules", "rollback", "--root", root, "--trust-store", trust, "--name", "hello"), StringComparison.Ordinal);
        var log = Ok("modules", "log", "--root", root, "--verify");
        Assert.Contains("chain intact: 5 entries", log, StringComparison.Ordinal);

        // Rotate to a new key that retires the old one: the old key can no longer sign installs.
        Ok("modules", "keygen", "--out", dir.P("new.pem"), "--rotate-from", dir.P("root.pem"), "--trust-store", trust, "--retire-old");
        Ok("modules", "sign", "--key", dir.P("root.pem"), "--source", src2, "--name", "hello", "--version", "3.0.0", "--entry", "bin/run.sh", "--out", dir.P("v3-old.tar"));
        Ok("modules", "sign", "--key", dir.P("new.pem"), "--source", src2, "--name", "hello", "--version", "3.0.0", "--entry", "bin/run.sh", "--out", dir.P("v3-new.tar"));
        var (oldCode, _, oldError) = Run("modules", "install", "--package", dir.P("v3-old.tar"), "--root", root, "--trust-store", trust);
        Assert.Equal(1, oldCode);
        Assert.Contains("retired", oldError, StringComparison.Ordinal);
        Ok("modules", "install", "--package", dir.P("v3-new.tar"), "--root", root, "--trust-store", trust);

        // Edit one log entry: --verify names the line and fails.
        var lines = File.ReadAllLines(Path.Combine(root, "measured.log"));
        lines[1] = lines[1].Replace("1.0.0", "1.0.1", StringComparison.Ordinal);
        File.WriteAllLines(Path.Combine(root, "measured.log"), lines);
        var (logCode, _, logError) = Run("modules", "log", "--root", root, "--verify");
        Assert.Equal(1, logCode);
        Assert.Contains("broken at line 2", logError, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_KilledAfterEachStep_PreviousSlotStillWorks()
    {
        using var dir = new TempDir();
        var trust = dir.P("trust.json");
        Ok("modules", "keygen", "--out", dir.P("k.pem"), "--trust-store", trust);
        Ok("modules", "sign", "--key", dir.P("k.pem"), "--source", dir.Source("1.0.0"), "--name", "hello", "--version", "1.0.0", "--entry", "bin/run.sh", "--health", "./bin/run.sh", "--out", dir.P("v1.tar"));
        Ok("modules", "sign", "--key", dir.P("k.pem"), "--source", dir.Source("2.0.0"), "--name", "hello", "--version", "2.0.0", "--entry", "bin/run.sh", "--health", "./bin/run.sh", "--out", dir.P("v2.tar"));
        string[] steps = ["Verified", "Staged", "Synced", "OldSlotMoved", "SlotReady", "Measured", "Switched", "HealthChecked", "Committed"];

        foreach (var step in steps)
        {
            var root = dir.P("root-" + step);
            Ok("modules", "install", "--package", dir.P("v1.tar"), "--root", root, "--trust-store", trust);

            // Install v2 in a child process that SIGKILLs itself right after the step.
            var child = RunChild(step, "modules", "install", "--package", dir.P("v2.tar"), "--root", root, "--trust-store", trust);
            Assert.True(child == 137, $"child killed at {step} exited {child}, expected 137 (SIGKILL)");

            var expected = step == "Committed" ? "2.0.0" : "1.0.0";
            Assert.Contains($"hello: active slot {(expected == "1.0.0" ? "a" : "b")} version {expected}", Ok("modules", "list", "--root", root), StringComparison.Ordinal);
            var files = Path.Combine(root, "modules", "hello", expected == "1.0.0" ? "slot-a" : "slot-b", "files");
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Source(expected), "bin/run.sh")), File.ReadAllBytes(Path.Combine(files, "bin/run.sh")));
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Source(expected), "data.bin")), File.ReadAllBytes(Path.Combine(files, "data.bin")));

            // The active module still runs, and the log is intact.
            Assert.Equal($"hello {expected}", RunScript(Path.Combine(files, "bin/run.sh")));
            Assert.Contains("chain intact", Ok("modules", "log", "--root", root, "--verify"), StringComparison.Ordinal);

            // And a later install of v2 (or v3 after a commit) goes through normally.
            if (expected == "1.0.0")
            {
                Ok("modules", "install", "--package", dir.P("v2.tar"), "--root", root, "--trust-store", trust);
            }
        }
    }

    [Fact]
    public void Keygen_RefusedForTrustStoreOrRotateFrom_LeavesNoFileBehind()
    {
        using var dir = new TempDir();
        var trust = dir.P("t.json");
        Ok("modules", "keygen", "--out", dir.P("k1.pem"), "--trust-store", trust);
        Ok("modules", "keygen", "--out", dir.P("other.pem"));
        var trustBefore = File.ReadAllBytes(trust);

        (string[] Args, string Expected)[] cases =
        [
            (["--out", dir.P("k2.pem"), "--trust-store", trust], $"--trust-store '{trust}' already exists"),
            (["--out", dir.P("k3.pem"), "--trust-store", dir.P("nodir/t.json")], "does not exist"),
            (["--out", dir.P("k4.pem"), "--rotate-from", dir.P("nokey.pem"), "--trust-store", trust], "cannot read signing key"),
            (["--out", dir.P("k5.pem"), "--rotate-from", dir.P("other.pem"), "--trust-store", trust], "does not know"),
            (["--out", dir.P("k6.pem"), "--rotate-from", dir.P("k1.pem"), "--trust-store", dir.P("missing.json")], "cannot read trust store"),
        ];
        foreach (var (args, expected) in cases)
        {
            var (code, _, error) = Run(["modules", "keygen", .. args]);
            Assert.True(code == 1, $"keygen {string.Join(' ', args)} exited {code}: {error}");
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.False(File.Exists(args[1]), $"{args[1]} left behind by: {error}");
            Assert.False(File.Exists(args[1] + ".rotation.json") || File.Exists(args[1] + ".rotation.sig"), $"rotation files left behind by: {error}");
        }

        Assert.Equal(trustBefore, File.ReadAllBytes(trust));
        Assert.False(File.Exists(dir.P("missing.json")));

        // The same command, retried with the mistake fixed, goes through.
        Ok("modules", "keygen", "--out", dir.P("k2.pem"), "--trust-store", dir.P("t2.json"));
        Ok("modules", "keygen", "--out", dir.P("k5.pem"), "--rotate-from", dir.P("k1.pem"), "--trust-store", trust);
    }

    [Fact]
    public void Keygen_RetireOldWithoutRotateFrom_Refused()
    {
        using var dir = new TempDir();
        var (code, _, error) = Run("modules", "keygen", "--out", dir.P("k.pem"), "--retire-old");
        Assert.Equal(1, code);
        Assert.Contains("--retire-old needs --rotate-from", error, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.P("k.pem")));
    }

    [Theory]
    [InlineData("keygen")]
    [InlineData("sign")]
    public void Out_DirectoryOrMissingFolder_OneLineNamingIt(string sub)
    {
        using var dir = new TempDir();
        Ok("modules", "keygen", "--out", dir.P("k.pem"));
        string[] Args(string output) => sub == "keygen"
            ? ["modules", "keygen", "--out", output]
            : ["modules", "sign", "--key", dir.P("k.pem"), "--source", dir.Source("1.0.0"), "--name", "hello", "--version", "1.0.0", "--entry", "bin/run.sh", "--out", output];

        var (code, _, error) = Run(Args(dir.P(".")));
        Assert.Equal(1, code);
        Assert.Contains("is a directory; give the path of a file to write", error, StringComparison.Ordinal);

        (code, _, error) = Run(Args(dir.P("nodir/x")));
        Assert.Equal(1, code);
        Assert.Contains($"the folder '{dir.P("nodir")}' does not exist", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("socket")]
    public async Task Sign_SourceHoldsSpecialFile_RefusedNamingIt(string kind)
    {
        using var dir = new TempDir();
        Ok("modules", "keygen", "--out", dir.P("k.pem"));
        var src = dir.Source("1.0.0");
        var special = Path.Combine(src, "special");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        if (kind == "fifo")
        {
            using var mkfifo = Process.Start("mkfifo", [special]);
            mkfifo.WaitForExit();
        }
        else
        {
            socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(special));
        }

        var sign = Task.Run(() => Run("modules", "sign", "--key", dir.P("k.pem"), "--source", src, "--name", "hello", "--version", "1.0.0", "--entry", "bin/run.sh", "--out", dir.P("x.tar")));
        if (await Task.WhenAny(sign, Task.Delay(TimeSpan.FromSeconds(30))) != sign)
        {
            if (kind == "fifo")
            {
                File.WriteAllText(special, string.Empty); // release the blocked reader
            }

            Assert.Fail($"sign hung on a {kind} in --source");
        }

        var (code, _, error) = await sign;
        Assert.Equal(1, code);
        Assert.Contains($"'{special}' is a {(kind == "fifo" ? "FIFO" : "socket")}", error, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.P("x.tar")));
    }

    [Fact]
    public void List_ActiveFilesDamaged_SaysSoOnStderrAndExitsOne()
    {
        using var dir = new TempDir();
        var trust = dir.P("trust.json");
        var root = dir.P("root");
        Ok("modules", "keygen", "--out", dir.P("k.pem"), "--trust-store", trust);
        Ok("modules", "sign", "--key", dir.P("k.pem"), "--source", dir.Source("1.0.0"), "--name", "hello", "--version", "1.0.0", "--entry", "bin/run.sh", "--health", "./bin/run.sh", "--out", dir.P("v1.tar"));
        Ok("modules", "install", "--package", dir.P("v1.tar"), "--root", root, "--trust-store", trust);
        File.AppendAllText(Path.Combine(root, "modules", "hello", "slot-a", "files", "data.bin"), "tampered");

        var (code, output, error) = Run("modules", "list", "--root", root);

        Assert.Equal(1, code);
        Assert.Contains("hello: active slot a version 1.0.0", output, StringComparison.Ordinal);
        Assert.Contains("files DAMAGED", output, StringComparison.Ordinal);
        Assert.Contains("predictor: error: module 'hello': the files of its active slot a no longer match their manifest", error, StringComparison.Ordinal);
    }

    [Fact]
    public void List_ModuleWhoseFirstInstallFailed_HasNoActiveFilesNotDamagedOnes()
    {
        using var dir = new TempDir();
        var trust = dir.P("trust.json");
        var root = dir.P("root");
        Ok("modules", "keygen", "--out", dir.P("k.pem"), "--trust-store", trust);
        Ok("modules", "sign", "--key", dir.P("k.pem"), "--source", dir.Source("1.0.0"), "--name", "hello", "--version", "1.0.0", "--entry", "bin/run.sh", "--health", "false", "--out", dir.P("v1.tar"));
        Assert.Equal(1, Run("modules", "install", "--package", dir.P("v1.tar"), "--root", root, "--trust-store", trust).Code);

        var (code, output, _) = Run("modules", "list", "--root", root);

        Assert.Equal(0, code);
        Assert.Contains("hello: active slot - version -", output, StringComparison.Ordinal);
        Assert.Contains("files none (no active slot)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_HealthCheckNamingAFileNotInThePackage_IsRefused()
    {
        using var dir = new TempDir();
        Ok("modules", "keygen", "--out", dir.P("k.pem"));
        var src = dir.Source("1.0.0");

        var (code, _, error) = Run("modules", "sign", "--key", dir.P("k.pem"), "--source", src, "--name", "hello", "--version", "1.0.0", "--entry", "bin/run.sh", "--health", "./bin/nothere.sh", "--out", dir.P("x.tar"));

        Assert.Equal(1, code);
        Assert.Contains("field 'healthCheck' runs './bin/nothere.sh', which is not one of the listed files", error, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.P("x.tar")));
    }

    [Theory]
    [InlineData(1, 200, "per file")]
    [InlineData(3, 100, "per package")]
    public void Sign_AboveVerifyLimits_RefusedNamingTheLimit(int count, int mib, string which)
    {
        using var dir = new TempDir();
        Ok("modules", "keygen", "--out", dir.P("k.pem"));
        var src = dir.Source("1.0.0");
        for (var i = 0; i < count; i++)
        {
            using var big = File.Create(Path.Combine(src, $"blob{i}"));
            big.SetLength((long)mib << 20); // sparse: no disk space used
        }

        var (code, _, error) = Run("modules", "sign", "--key", dir.P("k.pem"), "--source", src, "--name", "hello", "--version", "1.0.0", "--entry", "bin/run.sh", "--out", dir.P("x.tar"));

        Assert.Equal(1, code);
        Assert.Contains($"MiB) {which} that `predictor modules verify` and `install` enforce", error, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.P("x.tar")));
    }

    [Theory]
    [InlineData("list")]
    [InlineData("log")]
    [InlineData("log-verify")]
    [InlineData("rollback")]
    public void ReadOnlyCommands_RootMissing_OneLineAndNothingCreated(string sub)
    {
        using var dir = new TempDir();
        var root = dir.P("typo-root");
        string[] args = sub switch
        {
            "list" => ["modules", "list", "--root", root],
            "log" => ["modules", "log", "--root", root],
            "log-verify" => ["modules", "log", "--root", root, "--verify"],
            _ => ["modules", "rollback", "--root", root, "--name", "hello"],
        };

        var (code, output, error) = Run(args);

        Assert.Equal(1, code);
        Assert.Contains($"module root '{root}' does not exist; check --root", error, StringComparison.Ordinal);
        Assert.DoesNotContain("chain intact", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public void LogVerify_RootWithoutLog_FailsInsteadOfChainIntact()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.P("root"));

        var (code, output, error) = Run("modules", "log", "--root", dir.P("root"), "--verify");

        Assert.Equal(1, code);
        Assert.Contains("does not exist: nothing was installed", error, StringComparison.Ordinal);
        Assert.DoesNotContain("chain intact", output, StringComparison.Ordinal);
    }

    private static string Ok(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == 0, $"predictor {string.Join(' ', args)} exited {code}: {error}");
        return output;
    }

    private static int RunChild(string killAt, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "predictor.dll");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["PREDICTOR_MODULES_KILL_AT"] = killAt;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "child did not exit in 60 s");
        process.WaitForExit();
        _ = stdout.Result + stderr.Result;
        return process.ExitCode;
    }

    private static string RunScript(string path)
    {
        var info = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        var text = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return text;
    }

    private sealed class TempDir : IDisposable
    {
        private readonly string _path = Path.Combine(Path.GetTempPath(), "predictor-cli-modules-" + Guid.NewGuid().ToString("N"));

        public TempDir() => Directory.CreateDirectory(_path);

        public string P(string name) => Path.Combine(_path, name);

        public string Source(string version)
        {
            var src = P("src-" + version);
            if (!Directory.Exists(src))
            {
                Directory.CreateDirectory(Path.Combine(src, "bin"));
                File.WriteAllText(Path.Combine(src, "bin/run.sh"), $"#!/bin/sh\necho hello {version}\n");
                File.SetUnixFileMode(Path.Combine(src, "bin/run.sh"), (UnixFileMode)0b111_101_101);
                File.WriteAllBytes(Path.Combine(src, "data.bin"), Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(version, 300))));
            }

            return src;
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(_path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

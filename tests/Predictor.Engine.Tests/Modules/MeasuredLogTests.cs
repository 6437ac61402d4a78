using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Predictor.Engine.Modules;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Tests.Modules;

public class MeasuredLogTests
{
    [Fact]
    public void Verify_IntactLog_ChainEqualsPcrExtendOfEachLine()
    {
        using var root = ModuleTestKit.NewRoot();
        var log = new MeasuredLog(Path.Combine(root.Path, "m.log"), TimeProvider.System, durable: false);
        for (var i = 0; i < 5; i++)
        {
            log.Append("install", "counter", $"1.0.{i}", new string('a', 64), "k", "a", "test");
        }

        var check = MeasuredLog.Verify(log.Path);

        Assert.True(check.Intact);
        Assert.Equal(5, check.Entries.Count);

        // Independent recomputation from the raw lines: the hashed bytes are the line without its pcr member.
        var pcr = new byte[32];
        foreach (var line in File.ReadAllLines(log.Path))
        {
            var cut = line.LastIndexOf(",\"pcr\":", StringComparison.Ordinal);
            var body = Encoding.UTF8.GetBytes(line[..cut] + "}");
            pcr = SHA256.HashData([.. pcr, .. SHA256.HashData(body)]);
            Assert.EndsWith($"\"pcr\":\"{Convert.ToHexStringLower(pcr)}\"}}", line, StringComparison.Ordinal);
        }

        Assert.Equal(Convert.ToHexStringLower(pcr), check.FinalPcr);
    }

    [Theory]
    [InlineData("edit", 3)]
    [InlineData("delete", 3)]
    [InlineData("swap", 2)]
    [InlineData("torn", 5)]
    public void Verify_TamperedLog_ReportsFirstBrokenLine(string how, int expectedLine)
    {
        using var root = ModuleTestKit.NewRoot();
        var log = new MeasuredLog(Path.Combine(root.Path, "m.log"), TimeProvider.System, durable: false);
        for (var i = 0; i < 5; i++)
        {
            log.Append("install", "counter", $"1.0.{i}", new string('b', 64), "k", "a", "test");
        }

        var lines = File.ReadAllLines(log.Path).ToList();
        switch (how)
        {
            case "edit":
                lines[2] = lines[2].Replace("1.0.2", "1.0.9", StringComparison.Ordinal);
                break;
            case "delete":
                lines.RemoveAt(2);
                break;
            case "swap":
                (lines[1], lines[2]) = (lines[2], lines[1]);
                break;
        }

        var text = string.Join('\n', lines) + "\n";
        File.WriteAllText(log.Path, how == "torn" ? text[..^10] : text);

        var check = MeasuredLog.Verify(log.Path);

        Assert.False(check.Intact);
        Assert.Equal(expectedLine, check.FirstBrokenLine);
        Assert.Equal(expectedLine - 1, check.Entries.Count);
        var ex = Assert.Throws<ModuleOperationException>(() => log.Append("install", "x", "1.0.0", "d", "k", "a", "refused"));
        Assert.Contains($"broken at line {expectedLine}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_WithSwtpm_RealPcr16EqualsLogChain()
    {
        using var root = ModuleTestKit.NewRoot();
        using var tpm = Swtpm.Start(root.Path);
        var pcr = new Tpm2ToolsPcr(tpm.Tcti, 16);
        Assert.Equal(new byte[32], pcr.Read());
        var store = ModuleTestKit.Store(root, pcr: pcr);

        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        store.Install(ModuleTestKit.Package("2.0.0"), "v2.tar");

        var check = MeasuredLog.Verify(store.Log.Path);
        Assert.True(check.Intact);
        Assert.Equal(4, check.Entries.Count);
        Assert.Equal(check.FinalPcr, Convert.ToHexStringLower(pcr.Read()));

        // Cutting the log's tail keeps the file chain intact but no longer matches the TPM.
        var lines = File.ReadAllLines(store.Log.Path);
        File.WriteAllLines(store.Log.Path, lines[..^1]);
        var cut = MeasuredLog.Verify(store.Log.Path);
        Assert.True(cut.Intact);
        Assert.NotEqual(cut.FinalPcr, Convert.ToHexStringLower(pcr.Read()));
    }

    /// <summary>A private swtpm on a Unix socket in a temp directory, stopped on dispose.</summary>
    internal sealed class Swtpm : IDisposable
    {
        private readonly Process _process;

        private Swtpm(Process process, string socket)
        {
            _process = process;
            Tcti = $"swtpm:path={socket}";
        }

        public string Tcti { get; }

        public static Swtpm Start(string directory)
        {
            var state = Path.Combine(directory, "tpm");
            Directory.CreateDirectory(state);
            var socket = Path.Combine(state, "tpm.sock");
            var info = new ProcessStartInfo("swtpm") { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in new[] { "socket", "--tpm2", "--tpmstate", $"dir={state}", "--server", $"type=unixio,path={socket}", "--ctrl", $"type=unixio,path={socket}.ctrl", "--flags", "not-need-init,startup-clear" })
            {
                info.ArgumentList.Add(a);
            }

            var process = Process.Start(info)!;
            var until = DateTime.UtcNow.AddSeconds(30);
            while (!(File.Exists(socket) && File.Exists(socket + ".ctrl")))
            {
                Assert.False(process.HasExited, "swtpm exited: " + (process.HasExited ? process.StandardError.ReadToEnd() : string.Empty));
                Assert.True(DateTime.UtcNow < until, "swtpm did not create its sockets within 30 s");
                Thread.Sleep(20);
            }

            return new Swtpm(process, socket);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}

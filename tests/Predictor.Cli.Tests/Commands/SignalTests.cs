using System.Diagnostics;
using System.Globalization;
using Predictor.Cli.Commands;
using Predictor.Engine.Storage;

namespace Predictor.Cli.Tests.Commands;

/// <summary>
/// SIGTERM (what <c>systemctl stop</c>, <c>docker stop</c> and <c>kill</c> send) ends <c>run</c> and <c>collect</c> as
/// Ctrl+C does: a real child process is sent the signal and must flush its store, remove its cgroups and exit 0.
/// </summary>
public sealed class SignalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-signal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Hierarchies = ["cpu", "cpuacct", "cpuset", "memory"];

    private static IEnumerable<string> Groups(string name) =>
        Hierarchies.Select(h => Path.Combine("/sys/fs/cgroup", h, name)).Where(Directory.Exists);

    /// <summary>Starts the CLI with <paramref name="args"/>, waits for <paramref name="ready"/>, sends SIGTERM, and returns the exit code and output.</summary>
    private static (int Code, string Output, string Error) RunUntilSigterm(string[] args, Func<string, TimeSpan, bool> ready)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(typeof(RunCommands).Assembly.Location);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var child = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        var error = new System.Text.StringBuilder();
        child.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        child.ErrorDataReceived += (_, e) => { lock (error) { error.AppendLine(e.Data); } };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        try
        {
            var waited = Stopwatch.StartNew();
            while (!child.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60) && !ready(Snapshot(output), waited.Elapsed))
            {
                Thread.Sleep(20);
            }

            Assert.False(child.HasExited, $"the child exited before the signal: {Snapshot(output)}{Snapshot(error)}");
            Assert.True(ready(Snapshot(output), waited.Elapsed), $"the child was not ready within 60 s: {Snapshot(output)}{Snapshot(error)}");
            using (var kill = Process.Start("kill", ["-TERM", child.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
                Assert.Equal(0, kill.ExitCode);
            }

            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(30)), $"still running 30 s after SIGTERM: {Snapshot(output)}");
            child.WaitForExit(); // the redirected streams are drained
            return (child.ExitCode, Snapshot(output), Snapshot(error));
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
                child.WaitForExit();
            }
        }
    }

    private static string Snapshot(System.Text.StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    [Fact]
    public void Run_Sigterm_StopsTheLoopFlushesTheStoreAndRemovesTheCgroups()
    {
        // Needs root (the Linux backend creates cgroups); CI runs as root.
        var group = $"predictor-sigterm-{Guid.NewGuid():N}"[..28];
        var db = Path.Combine(_dir, "run.db");
        try
        {
            var (code, output, error) = RunUntilSigterm(
                ["run", "--backend", "linux", "--policy", "threshold", "--tick", "50ms", "--store", db, "--cgroup-name", group],
                (text, _) => text.Contains("held the last safe state", StringComparison.Ordinal) && Groups(group).Any());
            Assert.True(code == 0, $"exit code {code}: {error}");
            Assert.Empty(Groups(group));
            var summary = Assert.Single(output.Split('\n'), l => l.StartsWith("ran ", StringComparison.Ordinal));
            var ticks = int.Parse(summary.Split(' ')[1], CultureInfo.InvariantCulture);
            Assert.Contains($"store {db}:", output, StringComparison.Ordinal);

            // What was collected until the signal is in the file: one host/mem/total sample per tick (two ticks may share a ms).
            using var store = TimeSeriesStore.Open(db);
            Assert.Equal("ok", store.CheckIntegrity());
            var samples = store.ReadRange("host/mem/total", long.MinValue, long.MaxValue).Count;
            Assert.InRange(samples, Math.Max(1, (ticks + 1) / 2), ticks);
        }
        finally
        {
            foreach (var path in Groups(group))
            {
                foreach (var child in Directory.GetDirectories(path))
                {
                    Directory.Delete(child);
                }

                Directory.Delete(path);
            }
        }
    }

    [Fact]
    public void Collect_Sigterm_FlushesEverythingAndSaysSo()
    {
        // collect prints nothing per reading: the signal comes 2 s after it started (about 40 readings at 50 ms).
        var db = Path.Combine(_dir, "collect.db");
        var (code, output, error) = RunUntilSigterm(
            ["collect", "--store", db, "--interval", "50ms"],
            (text, waited) => text.Contains("collecting every", StringComparison.Ordinal) && waited > TimeSpan.FromSeconds(2));
        Assert.True(code == 0, $"exit code {code}: {error}");
        var summary = Assert.Single(output.Split('\n'), l => l.StartsWith("collected ", StringComparison.Ordinal));
        Assert.Contains("all committed", summary, StringComparison.Ordinal);
        var readings = int.Parse(summary.Split(' ')[1], CultureInfo.InvariantCulture);
        Assert.True(readings > 0, summary);
        using var store = TimeSeriesStore.Open(db);
        Assert.Equal("ok", store.CheckIntegrity());
        Assert.InRange(store.ReadRange("host/mem/total", long.MinValue, long.MaxValue).Count, (readings + 1) / 2, readings);
    }

    [Fact]
    public void Import_SigtermWhileParsing_SaysWhatWasCommittedAndExits130()
    {
        // Four million rows: seconds of parsing and storing, so the signal lands inside the first file.
        var big = Path.Combine(_dir, "big.csv");
        using (var w = new StreamWriter(big))
        {
            w.WriteLine("timestamp,series,value");
            for (var i = 0; i < 4_000_000; i++)
            {
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{1_600_000_000 + i},s{i % 10}/x,{i % 97}"));
            }
        }

        var db = Path.Combine(_dir, "big.db");
        var lockSeen = TimeSpan.Zero;
        var (code, _, error) = RunUntilSigterm(["import", "--format", "csv", big, "--store", db], (_, elapsed) =>
        {
            // The writer's lock is taken just before the signal handlers are registered; give them a moment.
            if (lockSeen == TimeSpan.Zero && File.Exists(db + ".lock"))
            {
                lockSeen = elapsed;
            }

            return lockSeen != TimeSpan.Zero && elapsed - lockSeen > TimeSpan.FromMilliseconds(300);
        });

        Assert.Equal(130, code);
        Assert.Contains($"predictor: import interrupted: 0 of 1 file(s) imported and committed to {db}; run the same import again to finish", error, StringComparison.Ordinal);
        using var store = TimeSeriesStore.Open(db);
        Assert.Equal("ok", store.CheckIntegrity());
    }
}

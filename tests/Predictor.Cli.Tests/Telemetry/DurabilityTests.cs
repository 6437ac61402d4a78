using System.Diagnostics;
using Predictor.Cli.Commands;
using Predictor.Engine.Storage;

namespace Predictor.Cli.Tests.Telemetry;

/// <summary>
/// Kills a real writer process with SIGKILL at several points and checks that everything it was told is durable is in
/// the file, bit for bit, and that SQLite's integrity check passes.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-durability-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const int Series = 8;

    [Theory]
    [InlineData(1, 0)]
    [InlineData(5, 0)]
    [InlineData(20, 0)]
    [InlineData(3, 7)]  // a few milliseconds after an acknowledgement: in the middle of the next batch
    [InlineData(12, 23)]
    public void Writer_KilledAfterAcknowledgements_EveryAcknowledgedSampleSurvives(int acks, int extraDelayMs)
    {
        var db = Path.Combine(_dir, "d.db");
        var predictor = typeof(TelemetryCommands).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "exec", predictor, "series", "durability-writer", "--store", db, "--series", Series.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        long acknowledged = 0;
        var seen = 0;
        using (var child = Process.Start(psi)!)
        {
            try
            {
                string? line;
                while (seen < acks && (line = child.StandardOutput.ReadLine()) is not null)
                {
                    Assert.StartsWith("ack ", line, StringComparison.Ordinal);
                    var ack = long.Parse(line.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
                    Assert.True(ack > acknowledged, $"acknowledgements must increase: {ack} after {acknowledged}");
                    acknowledged = ack;
                    seen++;
                }

                if (seen < acks)
                {
                    // Only now, with the child gone, can its stderr be read to the end without waiting forever.
                    Assert.Fail($"writer exited after {seen} acknowledgements: {child.StandardError.ReadToEnd()}");
                }
                if (extraDelayMs > 0)
                {
                    Thread.Sleep(extraDelayMs);
                }
            }
            finally
            {
                child.Kill(); // SIGKILL on Linux: no flush, no finalizers, no SQLite close
                child.WaitForExit();
            }
        }

        Assert.True(acknowledged > 0);
        using var store = TimeSeriesStore.Open(db);
        Assert.Equal("ok", store.CheckIntegrity());
        var present = 0L;
        for (var s = 0; s < Series; s++)
        {
            var data = store.ReadRange($"test/s{s}", long.MinValue, long.MaxValue);

            // Sample k (1-based) of series s = (k−1) mod S is at t = base + ((k−1) div S)·100 with value k/1000.
            for (var j = 0; j < data.Count; j++)
            {
                var k = ((long)j * Series) + s + 1;
                Assert.Equal(TelemetryCommands.DurabilityBaseMs + ((long)j * 100), data.Timestamps[j]);
                Assert.Equal(BitConverter.DoubleToInt64Bits(k / 1000.0), BitConverter.DoubleToInt64Bits(data.Values[j]));
            }

            var expected = (acknowledged - s + Series - 1) / Series; // samples of series s among 1..acknowledged
            Assert.True(data.Count >= expected, $"series {s}: {data.Count} samples stored but {expected} were acknowledged as durable");
            present += data.Count;
        }

        Assert.True(present >= acknowledged, $"{present} samples present, {acknowledged} acknowledged");
    }
}

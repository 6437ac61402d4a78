using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Predictor.Engine.Replay;
using Predictor.Engine.Replay.Report;

namespace Predictor.Engine.Tests.Replay;

public sealed class HtmlReportTests
{
    private static readonly Lazy<ReplayResult> Synthetic = new(() => SyntheticReplay.Build());

    [Fact]
    public void Render_ThirtyDayResult_EveryPolylineHasAtMost1500Points()
    {
        var html = HtmlReport.Render(Synthetic.Value);

        var polylines = Regex.Matches(html, "<polyline[^>]* points=\"([^\"]*)\"");
        Assert.NotEmpty(polylines);
        foreach (Match m in polylines)
        {
            var count = m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.InRange(count, 2, 1500);
        }
    }

    [Fact]
    public void Render_SyntheticResult_HasChartsTableAndVerdictAndNoExternalReference()
    {
        var result = Synthetic.Value;
        var html = HtmlReport.Render(result);

        // Partition charts: 2 partitions × 3 policies; placement: 3 policies × 4 locations; plus the Pareto chart.
        Assert.Equal((2 * 3) + (3 * 4) + 1, Regex.Matches(html, "<svg class=\"chart").Count);
        Assert.Equal(3, Regex.Matches(html, "<tr class=\"metric-row").Count);
        Assert.Contains(result.PredictiveVerdict(), html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DominatedPolicy_RowMarkedDominated()
    {
        var info = new ReplayRunInfo("t", TimeSpan.FromMinutes(5), null, 10, "explicit 10", "cores");
        var result = new ReplayResult(info,
        [
            new PolicyRun("wasteful", false, [new PartitionTrace("user", [1, 2, 3], [5, 5, 5])], [], [], []),
            new PolicyRun("predictive", true, [new PartitionTrace("user", [1, 2, 3], [2, 3, 4])], [], [], []),
        ]);

        var html = HtmlReport.Render(result);

        Assert.Matches("<tr class=\"metric-row dominated\">.*?wasteful.*?dominated by predictive", html);
        Assert.Matches("<tr class=\"metric-row predictive\">", html);
        Assert.Contains("day 0 00:00", html, StringComparison.Ordinal);   // no wall clock: elapsed time
    }

    [Fact]
    public void Render_InHeadlessChromium_ScreenshotNotBlankDomHasChartsAndConsoleClean()
    {
        var dir = Directory.CreateTempSubdirectory("predictor-report-");
        try
        {
            var report = Path.Combine(dir.FullName, "report.html");
            HtmlReport.WriteFile(Synthetic.Value, report);
            var png = Path.Combine(dir.FullName, "shot.png");

            var shot = Chromium(dir.FullName, $"--screenshot={png}", "--window-size=1400,2000", new Uri(report).AbsoluteUri);
            Assert.True(File.Exists(png), $"chromium wrote no screenshot; stderr:\n{shot.Stderr}");
            var (width, height, distinct, hasPolicyBlue) = PngProbe.Inspect(png);
            Assert.Equal(1400, width);
            Assert.Equal(2000, height);
            Assert.True(distinct > 50, $"the screenshot has only {distinct} distinct colours: blank or nearly so");
            Assert.True(hasPolicyBlue, "no pixel of the first policy's colour (#0072B2): the charts did not render");

            var dom = Chromium(dir.FullName, "--dump-dom", new Uri(report).AbsoluteUri);
            Assert.Equal(19, Regex.Matches(dom.Stdout, "<svg ").Count);
            // Allocation lines: 2 partitions × 3 policies; placement: 12 strips with a load line and a capacity rule; demand areas are paths.
            Assert.Equal((2 * 3) + 12, Regex.Matches(dom.Stdout, "<polyline ").Count);
            Assert.Equal(12, Regex.Matches(dom.Stdout, "<line class=\"rule\"").Count);
            Assert.Equal(2 * 3, Regex.Matches(dom.Stdout, "<path class=\"area\"").Count);
            Assert.Equal(3, Regex.Matches(dom.Stdout, "<tr class=\"metric-row").Count);

            // Console messages (errors included) appear in the log as CONSOLE lines; a clean page has none.
            Assert.DoesNotMatch("CONSOLE|Uncaught|Failed to load|ERR_FILE_NOT_FOUND", shot.Stderr + dom.Stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static (string Stdout, string Stderr) Chromium(string workDir, params string[] args)
    {
        var profile = Directory.CreateTempSubdirectory("predictor-chromium-");
        try
        {
            var psi = new ProcessStartInfo("chromium")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workDir,
            };
            foreach (var a in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0", $"--user-data-dir={profile.FullName}",
            }.Concat(args))
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail("chromium did not finish within 90 s");
            }

            return (stdout.Result, stderr.Result);
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}

/// <summary>Just enough PNG decoding (8-bit RGB/RGBA, non-interlaced) to check a screenshot is not blank.</summary>
internal static class PngProbe
{
    public static (int Width, int Height, int DistinctColours, bool HasPolicyBlue) Inspect(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }), "not a PNG file");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at < bytes.Length;)
        {
            var length = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            if (type == "IHDR")
            {
                width = (bytes[at + 8] << 24) | (bytes[at + 9] << 16) | (bytes[at + 10] << 8) | bytes[at + 11];
                height = (bytes[at + 12] << 24) | (bytes[at + 13] << 16) | (bytes[at + 14] << 8) | bytes[at + 15];
                Assert.Equal(8, bytes[at + 16]);                 // bit depth
                channels = bytes[at + 17] switch { 2 => 3, 6 => 4, var c => throw new InvalidDataException($"PNG colour type {c}") };
                Assert.Equal(0, bytes[at + 20]);                 // not interlaced
            }
            else if (type == "IDAT")
            {
                idat.Write(bytes, at + 8, length);
            }

            at += 12 + length;
        }

        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        var data = raw.ToArray();
        var stride = width * channels;
        var prev = new byte[stride];
        var row = new byte[stride];
        var colours = new HashSet<int>();
        var blue = false;
        for (var y = 0; y < height; y++)
        {
            var filter = data[y * (stride + 1)];
            Array.Copy(data, (y * (stride + 1)) + 1, row, 0, stride);
            for (var i = 0; i < stride; i++)
            {
                int a = i >= channels ? row[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
                row[i] = (byte)(row[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"PNG filter {filter}"),
                });
            }

            for (var x = 0; x < width; x++)
            {
                var o = x * channels;
                var rgb = (row[o] << 16) | (row[o + 1] << 8) | row[o + 2];
                colours.Add(rgb);
                blue |= Math.Abs(row[o] - 0x00) < 12 && Math.Abs(row[o + 1] - 0x72) < 12 && Math.Abs(row[o + 2] - 0xB2) < 12;
            }

            (prev, row) = (row, prev);
        }

        return (width, height, colours.Count, blue);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}

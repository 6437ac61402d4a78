using System.Text.Json;
using Predictor.TestSupport;
using static Predictor.Cli.Tests.CliRun;

namespace Predictor.Cli.Tests.Replay;

public sealed class ReplayCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-cli-replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ShippedScenario(string name) => RepoPaths.InRepo("datasets", "scenarios", name + ".json");

    /// <summary>A scenario on one real NAB series (absolute path, so it can live in the temp folder) with <paramref name="user"/> as the user partition.</summary>
    private string WriteScenario(string user, string format = "nab")
    {
        var trace = Path.Combine(RepoPaths.SharedDatasets, "nab", "data", "realAWSCloudwatch", "rds_cpu_utilization_cc0c53.csv");
        var path = Path.Combine(_dir, "s.json");
        File.WriteAllText(path, $$"""
            {
              "name": "small",
              "source": { "trace": {{JsonSerializer.Serialize(trace)}}, "format": "{{format}}" },
              "partitions": { "user": {{user}}, "system": { "series": ["*/rds_cpu_utilization_cc0c53"], "scale": 0.5 } },
              "budget": { "total": "auto" },
              "policies": ["threshold", "vpa"]
            }
            """);
        return path;
    }

    [Fact]
    public void Replay_ShippedNabHost_PrintsEveryPolicyAndWritesJsonAndReport()
    {
        var (code, output, err) = Run("replay", "--scenario", ShippedScenario("nab-host"), "--out", _dir);

        Assert.True(code == 0, err);
        string[] policies = ["threshold", "vpa", "autopilot", "predictive/ssa-first7d"];
        foreach (var p in policies)
        {
            Assert.Contains(" " + p + " ", output, StringComparison.Ordinal);
        }

        Assert.Contains("under-provisioned ticks", output, StringComparison.Ordinal);
        Assert.Contains("The predictive policy predictive/ssa-first7d", output, StringComparison.Ordinal);
        Assert.Contains("4032 ticks of 5m (14 days), 2016 measured", output, StringComparison.Ordinal);
        Assert.Contains("does NOT beat threshold, autopilot", output, StringComparison.Ordinal);
        // Captured stderr is not a terminal: no progress bar, nothing else written there.
        Assert.Equal("", err);

        var json = Path.Combine(_dir, "nab-host.json");
        var html = Path.Combine(_dir, "nab-host.html");
        Assert.Contains(json, output, StringComparison.Ordinal);
        Assert.Contains(html, output, StringComparison.Ordinal);
        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(html), StringComparison.OrdinalIgnoreCase);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal("predictor.replay-result/1", root.GetProperty("schema").GetString());
        Assert.Equal("nab-host", root.GetProperty("scenario").GetString());
        // NAB has wall-clock timestamps (2014-02-14 onwards).
        Assert.True(root.GetProperty("startUnixMs").GetInt64() >= 1_392_336_000_000);
        var listed = root.GetProperty("policies").EnumerateArray().ToList();
        Assert.Equal(policies, listed.Select(p => p.GetProperty("name").GetString()));
        foreach (var p in listed)
        {
            var m = p.GetProperty("metrics");
            Assert.InRange(m.GetProperty("underProvisionedShare").GetDouble(), 0, 1);
            Assert.InRange(m.GetProperty("relativeSlack").GetDouble(), 0, 1);
            Assert.True(m.GetProperty("changesPerPartitionDay").GetDouble() >= 0);
            Assert.Equal(2, p.GetProperty("partitions").GetArrayLength());
        }

        // The table prints what the JSON holds: the threshold policy's under-provisioned share, to one decimal.
        var share = listed[0].GetProperty("metrics").GetProperty("underProvisionedShare").GetDouble();
        Assert.Contains((share * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " %", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_JsonAndReportOptions_WriteWhereAsked()
    {
        var json = Path.Combine(_dir, "a", "r.json");
        var html = Path.Combine(_dir, "b", "r.html");

        var (code, _, err) = Run("replay", "--scenario", WriteScenario("""{ "series": ["*/rds_cpu_*"] }"""), "--json", json, "--report", html);

        Assert.True(code == 0, err);
        Assert.True(File.Exists(json));
        Assert.True(File.Exists(html));
    }

    [Fact]
    public void Replay_Series_WritesEachPartitionsDemandAndAllocationTickByTick()
    {
        var scenario = WriteScenario("""{ "series": ["*/rds_cpu_*"] }""");
        var (code, _, err) = Run("replay", "--scenario", scenario, "--json", Path.Combine(_dir, "plain.json"), "--report", Path.Combine(_dir, "plain.html"));
        Assert.True(code == 0, err);
        (code, _, err) = Run("replay", "--scenario", scenario, "--json", Path.Combine(_dir, "series.json"), "--report", Path.Combine(_dir, "series.html"), "--series");
        Assert.True(code == 0, err);

        using var plain = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "plain.json")));
        Assert.False(plain.RootElement.GetProperty("policies")[0].GetProperty("partitions")[0].TryGetProperty("demand", out _));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "series.json")));
        var ticks = doc.RootElement.GetProperty("ticks").GetInt32();
        foreach (var policy in doc.RootElement.GetProperty("policies").EnumerateArray())
        {
            foreach (var partition in policy.GetProperty("partitions").EnumerateArray())
            {
                var demand = partition.GetProperty("demand").EnumerateArray().Select(v => v.GetDouble()).ToList();
                var allocation = partition.GetProperty("allocation").EnumerateArray().Select(v => v.GetDouble()).ToList();
                Assert.Equal(ticks, demand.Count);
                Assert.Equal(ticks, allocation.Count);
                // The traces are what the metrics were computed from: count the under-provisioned ticks again.
                Assert.Equal(partition.GetProperty("underProvisionedTicks").GetInt32(), demand.Zip(allocation).Count(x => x.First > x.Second));
            }
        }
    }

    [Fact]
    public void Replay_StoreSource_ReadsTheImportedSeries()
    {
        var nab = Path.Combine(RepoPaths.SharedDatasets, "nab", "data", "realAWSCloudwatch");
        var (code, _, err) = Run("import", "--format", "nab", Path.Combine(nab, "rds_cpu_utilization_cc0c53.csv"), Path.Combine(nab, "ec2_cpu_utilization_53ea38.csv"), "--store", Path.Combine(_dir, "s.db"));
        Assert.True(code == 0, err);
        var path = Path.Combine(_dir, "store.json");
        // A relative store path: resolved against the scenario file's folder, not the working directory.
        File.WriteAllText(path, """
            {
              "name": "from-store",
              "source": { "store": "s.db" },
              "partitions": { "user": { "series": ["nab/rds_cpu_utilization_cc0c53"] }, "system": { "series": ["nab/ec2_cpu_utilization_53ea38"] } },
              "budget": { "total": "auto" },
              "policies": ["autopilot", "predictive"]
            }
            """);

        (code, var output, err) = Run("replay", "--scenario", path, "--out", _dir);

        Assert.True(code == 0, err);
        Assert.Contains("4032 ticks", output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "from-store.json")));
        Assert.Equal(["autopilot", "predictive/naive"], doc.RootElement.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }

    [Fact]
    public void Replay_TickCoarserThanTheRecording_SaysItAveragedAndWritesItInTheJsonAndReport()
    {
        var store = RepoPaths.InRepo("datasets", "build-recording.db");
        var path = Path.Combine(_dir, "coarse.json");
        File.WriteAllText(path, $$"""
            {
              "name": "coarse",
              "source": { "store": {{JsonSerializer.Serialize(store)}} },
              "tickSeconds": 5,
              "partitions": { "user": { "series": ["host/cpu/user"] }, "system": { "series": ["host/cpu/system"] } },
              "budget": { "total": "auto" },
              "policies": ["threshold"]
            }
            """);

        var outDir = Path.Combine(_dir, "out");
        var (code, output, err) = Run("replay", "--scenario", path, "--out", outDir);

        Assert.True(code == 0, err);
        const string Note = "averaged 2 of 2 series, recorded every 0.1 s, into steps of 5 s (epoch-aligned means, NaN left out";
        Assert.Contains("demand: " + Note, output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "coarse.json")));
        Assert.StartsWith(Note, doc.RootElement.GetProperty("downsampleNote").GetString(), StringComparison.Ordinal);
        Assert.Contains("Demand: " + Note, File.ReadAllText(Path.Combine(outDir, "coarse.html")), StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_MissingScenarioFile_ExitsOneWithOneLineNamingTheFile()
    {
        var missing = Path.Combine(_dir, "nope.json");

        var (code, output, err) = Run("replay", "--scenario", missing);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("predictor: error: ", line, StringComparison.Ordinal);
        Assert.Contains("nope.json", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_BadField_ExitsOneNamingTheJsonPath()
    {
        var (code, _, err) = Run("replay", "--scenario", WriteScenario("""{ "series": ["*/rds_cpu_*"], "scale": "big" }"""), "--out", _dir);

        Assert.Equal(1, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("$.partitions.user.scale", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "small.json")));
    }

    [Fact]
    public void Replay_UnknownFormat_ExitsOneNamingTheFormatField()
    {
        var (code, _, err) = Run("replay", "--scenario", WriteScenario("""{ "series": ["*/rds_cpu_*"] }""", format: "parquet"));

        Assert.Equal(1, code);
        Assert.Contains("$.source.format", err, StringComparison.Ordinal);
        Assert.Contains("parquet", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_PatternMatchingNothing_ExitsOneNamingThePattern()
    {
        var (code, _, err) = Run("replay", "--scenario", WriteScenario("""{ "series": ["*/no_such_series"] }"""));

        Assert.Equal(1, code);
        Assert.Contains("$.partitions.user.series[0]", err, StringComparison.Ordinal);
    }

    /// <summary>The small scenario with a predictive policy on one model, <c>m</c>, read from <paramref name="model"/>.</summary>
    private string WriteScenarioWithModel(string model)
    {
        var path = WriteScenario("""{ "series": ["*/rds_cpu_*"] }""");
        File.WriteAllText(path, File.ReadAllText(path).Replace(
            "\"policies\": [\"threshold\", \"vpa\"]",
            $"\"policies\": [\"threshold\", \"predictive\"], \"models\": [{{ \"name\": \"m\", \"path\": {JsonSerializer.Serialize(model)} }}]",
            StringComparison.Ordinal));
        return path;
    }

    [Fact]
    public void Replay_BrokenModelFile_ExitsOneNamingTheModelAndWritesNothing()
    {
        var model = Path.Combine(_dir, "broken.onnx");
        File.WriteAllText(model, "not an onnx model");
        var path = WriteScenarioWithModel(model);

        var (code, output, err) = Run("replay", "--scenario", path, "--out", _dir);

        // A replay judges models: a row called predictive/m must never hold the naive forecaster's numbers.
        Assert.Equal(1, code);
        Assert.Contains("predictor: error: scenario ", err, StringComparison.Ordinal);
        Assert.Contains("model 'm'", err, StringComparison.Ordinal);
        Assert.Contains("broken.onnx", err, StringComparison.Ordinal);
        Assert.DoesNotContain("predictive/m", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Using the naive forecaster", err, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, "*.html"));
    }

    [Fact]
    public void Replay_EmptyModelFile_SaysItIsEmpty()
    {
        var model = Path.Combine(_dir, "empty.onnx");
        File.WriteAllBytes(model, []);
        var path = WriteScenarioWithModel(model);

        var (code, _, err) = Run("replay", "--scenario", path, "--out", _dir);

        Assert.Equal(1, code);
        Assert.Contains("model 'm' (" + model + ") cannot be used: Model file '" + model + "' is empty (0 bytes), not an ONNX model", err, StringComparison.Ordinal);
        Assert.DoesNotContain("onnxruntime::", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_OutputsNamingTheScenarioOrEachOther_AreRefusedBeforeReadingAndNothingIsWritten()
    {
        // The scenario is named "small" and stored as small.json: --out at its own folder would write the result over it.
        var path = WriteScenario("""{ "series": ["*/rds_cpu_*"] }""");
        var scenario = Path.Combine(_dir, "small.json");
        File.Move(path, scenario);
        var before = File.ReadAllText(scenario);
        var afile = Path.Combine(_dir, "afile");
        File.WriteAllText(afile, "x");

        var over = Run("replay", "--scenario", scenario, "--out", _dir);
        var same = Run("replay", "--scenario", scenario, "--json", Path.Combine(_dir, "r.out"), "--report", Path.Combine(_dir, "r.out"));
        var outIsAFile = Run("replay", "--scenario", scenario, "--out", afile);

        Assert.Equal(1, over.Code);
        Assert.Equal("", over.Out);
        Assert.Contains("the JSON result (--out) '" + scenario + "' is the --scenario this command reads", over.Err, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(scenario));
        Assert.Equal(1, same.Code);
        Assert.Contains("--report and --json are the same file", same.Err, StringComparison.Ordinal);
        Assert.Equal(1, outIsAFile.Code);
        Assert.Contains("--out '" + afile + "' is a file; give the folder", outIsAFile.Err, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, "*.html"));
        Assert.False(File.Exists(Path.Combine(_dir, "r.out")));
    }

    [Fact]
    public void Replay_Help_DescribesEveryOption()
    {
        var (code, output, _) = Run("replay", "--help");

        Assert.Equal(0, code);
        foreach (var option in new[] { "--scenario", "--out", "--json", "--report", "--series" })
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }

        Assert.Contains("HTML report", output, StringComparison.Ordinal);
    }
}

using System.Text.Json.Nodes;
using Predictor.Engine.Placement;
using Predictor.Engine.Replay;

namespace Predictor.Engine.Tests.Replay;

public sealed class ScenarioFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("predictor-scenario-");

    public ScenarioFileTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir.FullName, "traces"));
        File.WriteAllText(Path.Combine(_dir.FullName, "traces", "a.csv"), "timestamp,value\n");
        Directory.CreateDirectory(Path.Combine(_dir.FullName, "models"));
        File.WriteAllText(Path.Combine(_dir.FullName, "models", "ssa.onnx"), "");
        File.WriteAllText(Path.Combine(_dir.FullName, "models", "ridge.onnx"), "");
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private const string Valid = """
        {
          // comments are allowed
          "name": "test",
          "source": { "trace": "traces", "format": "nab" },
          "unit": "cores",
          "partitions": {
            "user": { "series": ["nab/rds_*", "nab/ec2_cpu_utilization_53ea38"], "scale": 0.08 },
            "system": { "series": ["nab/ec2_cpu_utilization_5f5533"] }
          },
          "budget": { "total": "auto", "headroomFactor": 1.25 },
          "locations": [
            { "id": "core0", "cpus": [0], "cpuCapacity": 1.0 },
            { "id": "gpu0", "kind": "accelerator", "cpus": [1], "cpuCapacity": 2.0, "capabilities": ["accelerator:gpu"] }
          ],
          "modules": [ { "name": "web", "series": ["azure/vm_1*"], "scale": 0.01, "location": "core0", "stateBytes": 1048576 } ],
          "policies": ["threshold", "vpa", "autopilot", { "kind": "predictive" }],
          "models": [ { "name": "ssa", "path": "models/ssa.onnx" }, { "name": "ridge", "path": "models/ridge.onnx" } ],
          "surge": { "threshold": 0.8, "horizonTicks": 6 }
        }
        """;

    private ScenarioOptions Parse(string json) => ScenarioFile.Parse(json, "s.json", _dir.FullName);

    private ScenarioException Fails(Action<JsonObject> mutate)
    {
        var doc = JsonNode.Parse(Valid, documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.AsObject();
        mutate(doc);
        return Assert.Throws<ScenarioException>(() => Parse(doc.ToJsonString()));
    }

    [Fact]
    public void Parse_ValidScenario_BuildsOptions()
    {
        var s = Parse(Valid);

        Assert.Equal("test", s.Name);
        Assert.Equal(Predictor.Engine.Telemetry.Import.TraceFormat.Nab, s.Source.Format);
        Assert.Equal(Path.Combine(_dir.FullName, "traces"), s.Source.TracePath);
        Assert.Equal(["user", "system"], s.Partitions.Select(p => p.Name));
        Assert.Equal(0.08, s.Partitions[0].Scale);
        Assert.Equal(1.0, s.Partitions[1].Scale);
        Assert.True(s.Budget.IsAuto);
        Assert.Equal(LocationKind.Accelerator, s.Locations[1].Kind);
        Assert.Contains("accelerator:gpu", s.Locations[1].Capabilities);
        Assert.Equal("core0", s.Modules[0].Location);
        Assert.Equal(["threshold", "vpa", "autopilot", "predictive/ssa", "predictive/ridge"], s.Policies.Select(p => p.Name));
        Assert.Equal(0.8, s.Surge.Threshold);
        Assert.Equal(6, s.Surge.HorizonTicks);
    }

    [Fact]
    public void Resolve_AutoBudget_IsFactorTimesPeakAndSaysSo()
    {
        var (total, note) = Parse(Valid).Budget.Resolve(80);

        Assert.Equal(100, total, 12);
        Assert.Contains("1.25 × peak of summed demand (80)", note, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ExplicitBudgetWithReason_KeepsNumberAndReason()
    {
        var json = Valid.Replace("\"total\": \"auto\", \"headroomFactor\": 1.25", "\"total\": 16, \"reason\": \"the host has 16 cores\"", StringComparison.Ordinal);

        var (total, note) = Parse(json).Budget.Resolve(3);

        Assert.Equal(16, total);
        Assert.Equal("the host has 16 cores", note);
    }

    [Fact]
    public void Parse_PredictiveWithNamedModel_OnePolicy()
    {
        var s = Parse(Valid.Replace("{ \"kind\": \"predictive\" }", "{ \"kind\": \"predictive\", \"model\": \"ridge\" }", StringComparison.Ordinal));

        Assert.Equal("predictive/ridge", s.Policies[^1].Name);
        Assert.Equal(4, s.Policies.Count);
    }

    [Theory]
    [InlineData("7d", 7 * 86_400_000.0)]
    [InlineData("30s", 30_000.0)]
    [InlineData("1.5h", 5_400_000.0)]
    [InlineData("250ms", 250.0)]
    public void Parse_WarmUp_ReadsNumberAndUnit(string text, double expectedMs)
    {
        var doc = JsonNode.Parse(Valid, documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.AsObject();
        doc["warmUp"] = text;

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Parse(doc.ToJsonString()).WarmUp);
        Assert.Equal(TimeSpan.Zero, Parse(Valid).WarmUp);
    }

    [Theory]
    [InlineData(null, ScenarioDownsample.Mean)]
    [InlineData("mean", ScenarioDownsample.Mean)]
    [InlineData("max", ScenarioDownsample.Max)]
    [InlineData("last", ScenarioDownsample.Last)]
    public void Parse_Downsample_ReadsTheChoiceMeanByDefault(string? text, ScenarioDownsample expected)
    {
        var doc = JsonNode.Parse(Valid, documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.AsObject();
        if (text is not null)
        {
            doc["downsample"] = text;
        }

        Assert.Equal(expected, Parse(doc.ToJsonString()).Downsample);
    }

    [Fact]
    public void Parse_TickSecondsNotAWholeNumberOfMilliseconds_PointsAtTheField()
    {
        var e = Fails(d => d["tickSeconds"] = 0.0015);

        Assert.Equal("$.tickSeconds", e.JsonPath);
        Assert.Contains("0.0015 s is not a whole number of milliseconds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownDownsample_PointsAtTheFieldAndListsTheChoices()
    {
        var e = Fails(d => d["downsample"] = "median");

        Assert.Equal("$.downsample", e.JsonPath);
        Assert.Contains("unknown downsample 'median'", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"mean\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"last\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WarmUpWithoutUnit_PointsAtTheFieldAndShowsTheForm()
    {
        var e = Fails(d => d["warmUp"] = 7);

        Assert.Equal("$.warmUp", e.JsonPath);
        Assert.Contains("expected a duration such as \"30s\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("found the number 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidJson_ReportsLineAndColumn()
    {
        var e = Assert.Throws<ScenarioException>(() => Parse("{\n  \"name\": \"x\",\n  \"source\": { oops }\n}"));

        Assert.Equal(3, e.Line);
        Assert.StartsWith("scenario s.json:3:", e.Message, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
        // The position once, 1-based in front, not again 0-based in the parser's words.
        Assert.DoesNotContain("LineNumber", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AffinityNoLocationOffers_PointsAtItAndListsWhatIsOffered()
    {
        var e = Fails(d => d["modules"]![0]!["affinity"] = new JsonArray("accelerator:tpu"));

        Assert.Equal("$.modules[0].affinity[0]", e.JsonPath);
        Assert.Contains("no location offers the capability 'accelerator:tpu'; expected one of the locations' capabilities: accelerator:gpu.", e.Message, StringComparison.Ordinal);
        Assert.Equal(["accelerator:gpu"], Parse(Valid.Replace("\"stateBytes\": 1048576 }", "\"stateBytes\": 1048576, \"affinity\": [\"accelerator:gpu\"] }", StringComparison.Ordinal)).Modules[0].Affinity);
    }

    [Fact]
    public void Parse_SeriesEntryNotAString_PointsAtTheEntry()
    {
        var e = Fails(d => d["partitions"]!["user"]!["series"]!.AsArray().Add(42));

        Assert.Equal("$.partitions.user.series[2]", e.JsonPath);
        Assert.Contains("expected a series name or glob pattern", e.Message, StringComparison.Ordinal);
        Assert.Contains("found the number 42", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownField_NamesItAndListsExpected()
    {
        var e = Fails(d => d["partitons"] = new JsonObject());

        Assert.Equal("$.partitons", e.JsonPath);
        Assert.Contains("unknown field; expected one of: name, description, source", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingRequiredField_SaysRequired()
    {
        var e = Fails(d => d["partitions"]!.AsObject().Remove("system"));

        Assert.Equal("$.partitions.system", e.JsonPath);
        Assert.Contains("is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WrongType_SaysExpectedAndFound()
    {
        var e = Fails(d => d["partitions"] = new JsonArray());

        Assert.Equal("$.partitions", e.JsonPath);
        Assert.Contains("expected an object {…}, found an array []", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownFormat_ListsFormats()
    {
        var e = Fails(d => d["source"]!["format"] = "parquet");

        Assert.Equal("$.source.format", e.JsonPath);
        Assert.Contains("nab, azure-v1, aggregate, google2011, bitbrains, alibaba, csv", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_StoreAndTrace_AsksForExactlyOne()
    {
        var e = Fails(d => d["source"]!["store"] = "x.db");

        Assert.Equal("$.source", e.JsonPath);
        Assert.Contains("exactly one of", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingTracePath_SaysResolvedPath()
    {
        var e = Fails(d => d["source"]!["trace"] = "nowhere/at/all");

        Assert.Equal("$.source.trace", e.JsonPath);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_dir.FullName, "nowhere", "at", "all"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BudgetTotalNotAutoOrNumber_Explains()
    {
        var e = Fails(d => d["budget"]!["total"] = "lots");

        Assert.Equal("$.budget.total", e.JsonPath);
        Assert.Contains("expected \"auto\" or a positive number", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ExplicitBudgetWithoutReason_AsksHowItWasChosen()
    {
        var e = Fails(d => d["budget"] = new JsonObject { ["total"] = 16 });

        Assert.Equal("$.budget.reason", e.JsonPath);
        Assert.Contains("how it was chosen", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HeadroomBelowOne_OutOfRange()
    {
        var e = Fails(d => d["budget"]!["headroomFactor"] = 0.5);

        Assert.Equal("$.budget.headroomFactor", e.JsonPath);
        Assert.Contains("0.5 is out of range; expected a factor ≥ 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ModuleOnUnknownLocation_ListsLocations()
    {
        var e = Fails(d => d["modules"]![0]!["location"] = "core9");

        Assert.Equal("$.modules[0].location", e.JsonPath);
        Assert.Contains("expected one of: core0, gpu0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateLocationId_Rejected()
    {
        var e = Fails(d => d["locations"]![1]!["id"] = "core0");

        Assert.Equal("$.locations[1].id", e.JsonPath);
    }

    [Fact]
    public void Parse_NonIntegerCpu_Rejected()
    {
        var e = Fails(d => d["locations"]![0]!["cpus"]![0] = 1.5);

        Assert.Equal("$.locations[0].cpus[0]", e.JsonPath);
        Assert.Contains("integer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PredictiveWithUnknownModel_PointsAtModel()
    {
        var e = Fails(d => d["policies"]![3] = new JsonObject { ["kind"] = "predictive", ["model"] = "gbdt" });

        Assert.Equal("$.policies[3].model", e.JsonPath);
        Assert.Contains("one of $.models: ssa, ridge", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PredictiveSettings_SetsWhatIsGivenAndKeepsTheRestAtDefaults()
    {
        var s = Parse(Valid.Replace("{ \"kind\": \"predictive\" }", """
            { "kind": "predictive", "model": "ssa", "name": "tight" },
            { "kind": "predictive", "model": "ssa", "name": "loose",
              "settings": { "headroom": 0.075, "deadBand": 0.01, "shrinkAfterTicks": 6, "maxStepShare": 0.5, "usageFloor": 0,
                            "noiseBand": 2.5, "growBand": 0.5, "noiseHalfLifeTicks": 48, "usageFloorTicks": 3, "leadSteps": "horizon", "upperTracking": { "learningRate": 0.1 } } },
            { "kind": "predictive", "model": "ridge", "name": "lead2-untracked", "settings": { "leadSteps": 2, "upperTracking": false } }
            """, StringComparison.Ordinal));

        Assert.Null(s.Policies[3].Settings);
        var loose = s.Policies[4].Settings!;
        Assert.Equal(0.075, loose.Policy.Headroom);
        Assert.Equal(0.01, loose.Policy.DeadBandShare);
        Assert.Equal(6, loose.Policy.ShrinkAfterTicks);
        Assert.Equal(0.5, loose.Policy.MaxStepShare);
        Assert.Equal(0, loose.Policy.UsageFloor);
        Assert.Equal(2.5, loose.Policy.NoiseBand);
        Assert.Equal(0.5, loose.Policy.GrowBand);
        Assert.Equal(48, loose.Policy.NoiseHalfLifeTicks);
        Assert.Equal(3, loose.Policy.UsageFloorTicks);
        Assert.Null(loose.LeadSteps);
        Assert.Equal(0.1, loose.UpperTracking!.LearningRate);
        Assert.Equal(new Predictor.Engine.Forecasting.UpperTrackerOptions().ScaleHalfLife, loose.UpperTracking.ScaleHalfLife);
        var lead2 = s.Policies[5].Settings!;
        Assert.Equal(2, lead2.LeadSteps);
        Assert.Null(lead2.UpperTracking);
        Assert.Equal(new Predictor.Engine.Partitioning.PredictivePolicyOptions().Headroom, lead2.Policy.Headroom);
        Assert.Equal("ridge", s.Policies[5].Model);
    }

    [Theory]
    [InlineData("{ \"headroom\": -0.1 }", "$.policies[3].settings.headroom", "out of range")]
    [InlineData("{ \"leadSteps\": 0 }", "$.policies[3].settings.leadSteps", "\"horizon\"")]
    [InlineData("{ \"leadSteps\": \"all\" }", "$.policies[3].settings.leadSteps", "\"horizon\"")]
    [InlineData("{ \"shrinkAfterTicks\": 2.5 }", "$.policies[3].settings.shrinkAfterTicks", "whole number")]
    [InlineData("{ \"usageFloorTicks\": 65 }", "$.policies[3].settings.usageFloorTicks", "1 to 64")]
    [InlineData("{ \"noiseBand\": -1 }", "$.policies[3].settings.noiseBand", "out of range")]
    [InlineData("{ \"growBand\": -1 }", "$.policies[3].settings.growBand", "out of range")]
    [InlineData("{ \"noiseHalfLifeTicks\": 0 }", "$.policies[3].settings.noiseHalfLifeTicks", "whole number of ticks")]
    [InlineData("{ \"headrom\": 0.1 }", "$.policies[3].settings.headrom", "headroom, maxStepShare")]
    [InlineData("{ \"upperTracking\": 1 }", "$.policies[3].settings.upperTracking", "true, false")]
    [InlineData("{ \"upperTracking\": { \"learningRate\": 0 } }", "$.policies[3].settings.upperTracking.learningRate", "out of range")]
    [InlineData("[]", "$.policies[3].settings", "expected an object")]
    public void Parse_BadPredictiveSettings_PointsAtTheField(string settings, string path, string expected)
    {
        var e = Fails(d => d["policies"]![3] = JsonNode.Parse($$"""{ "kind": "predictive", "model": "ssa", "settings": {{settings}} }"""));

        Assert.Equal(path, e.JsonPath);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SettingsOnABaseline_Rejected()
    {
        var e = Fails(d => d["policies"]![1] = JsonNode.Parse("""{ "kind": "vpa", "settings": { "headroom": 0.1 } }"""));

        Assert.Equal("$.policies[1].settings", e.JsonPath);
        Assert.Contains("only a predictive policy takes settings", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownPolicy_ListsPolicies()
    {
        var e = Fails(d => d["policies"]![1] = "kubernetes");

        Assert.Equal("$.policies[1]", e.JsonPath);
        Assert.Contains("threshold, vpa, autopilot, predictive", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicatePolicyName_Rejected()
    {
        var e = Fails(d => d["policies"]!.AsArray().Add("vpa"));

        Assert.Equal("$.policies[4]", e.JsonPath);
        Assert.Contains("'vpa' appears twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ModelFileNotOnnx_Rejected()
    {
        var e = Fails(d => d["models"]![0]!["path"] = "traces/a.csv");

        Assert.Equal("$.models[0].path", e.JsonPath);
        Assert.Contains("not an .onnx file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SurgeThresholdOutOfRange_Rejected()
    {
        var e = Fails(d => d["surge"]!["threshold"] = 0);

        Assert.Equal("$.surge.threshold", e.JsonPath);
    }

    [Fact]
    public void Parse_ModulesWithoutLocations_Rejected()
    {
        var e = Fails(d => d.Remove("locations"));

        Assert.Equal("$.modules[0].location", e.JsonPath);
        Assert.Contains("no locations are declared", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_PatternMatchingNothing_PointsAtThePattern()
    {
        var s = Parse(Valid);
        var e = Assert.Throws<ScenarioException>(() =>
            s.Select(s.Partitions[0].Series, ["nab/rds_cpu_utilization_cc0c53", "nab/ec2_cpu_utilization_24ae8d"]));

        Assert.Equal("$.partitions.user.series[1]", e.JsonPath);
        Assert.Contains("'nab/ec2_cpu_utilization_53ea38' matches no series", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_GlobAndName_ReturnsEachMatchOnceInSourceOrder()
    {
        var s = Parse(Valid);
        string[] available = ["nab/ec2_cpu_utilization_53ea38", "nab/rds_cpu_utilization_e47b3b", "nab/rds_cpu_utilization_cc0c53", "other"];

        var chosen = s.Select(s.Partitions[0].Series, available);

        Assert.Equal(["nab/ec2_cpu_utilization_53ea38", "nab/rds_cpu_utilization_e47b3b", "nab/rds_cpu_utilization_cc0c53"], chosen);
    }

    [Fact]
    public void Load_MissingFile_SaysSo()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioFile.Load(Path.Combine(_dir.FullName, "none.json")));

        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nab/rds_*", "nab/rds_cpu_utilization_cc0c53", true)]
    [InlineData("*/vm_1633748", "azure/vm_1633748", true)]
    [InlineData("*/vm_1633748", "azure/vm_16337480", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("*a*b*", "xxaxxbxx", true)]
    [InlineData("*a*b", "xxaxxbxxc", false)]
    [InlineData("exact", "exact", true)]
    [InlineData("exact", "Exact", false)]
    [InlineData("*", "", true)]
    public void IsMatch_GlobPatterns_MatchWholeNameCaseSensitively(string pattern, string name, bool expected)
    {
        Assert.Equal(expected, new SeriesPattern(pattern, "$").IsMatch(name));
    }
}

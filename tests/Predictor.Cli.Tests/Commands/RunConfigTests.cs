using Microsoft.Extensions.Configuration;
using Predictor.Cli.Commands;
using Predictor.Hosting;
using Predictor.TestSupport;
using static Predictor.Cli.Tests.CliRun;

namespace Predictor.Cli.Tests.Commands;

/// <summary>
/// <c>predictor run --config FILE</c>: the file's "Predictor" section sets the loop's options as AddPredictor binds them,
/// the command line overrides only what it names, relative paths follow the file, and a bad file is one line naming it.
/// </summary>
[Collection(LiveLoopCollection.Name)]
public sealed class RunConfigTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("predictor-run-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Run_Config_TheFilesOptionsApplyAndItsRelativePathsFollowTheFile()
    {
        File.Copy(RepoPaths.InRepo("models", "naive.onnx"), Path.Combine(_directory, "host.onnx"));
        var config = Write("predictor.json", """
            {
              "Logging": { "LogLevel": { "Default": "Warning" } },
              "Predictor": {
                "Backend": "Simulated",
                "Policy": "Threshold",
                "TickInterval": "00:00:00.040",
                "InferenceEveryTicks": 5,
                "CpuBudgetMillicores": 1500,
                "ModelPaths": [ "host.onnx" ],
                "StorePath": "rec.db"
              }
            }
            """);

        var (code, output, error) = Run("run", "--config", config, "--ticks", "3");

        Assert.True(code == 0, error);
        var start = StartLine(output);
        Assert.Contains("backend Simulated, policy Threshold, tick 40 ms, inference every 5 ticks,", start, StringComparison.Ordinal);
        Assert.Contains("cpu budget 1500 millicores", start, StringComparison.Ordinal);
        // Relative to the file, not to the working directory (the test's bin folder): the run would not start otherwise,
        // the validator refusing a model path that does not exist.
        Assert.Contains($"models {Path.Combine(_directory, "host.onnx")},", start, StringComparison.Ordinal);
        Assert.Contains($"store {Path.Combine(_directory, "rec.db")},", start, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_directory, "rec.db")));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "rec.db")));
        // The budget reached the loop: every decision splits 1500 millicores.
        Assert.All(output.Split('\n').Where(l => l.Contains(" cpu[", StringComparison.Ordinal)),
            l => Assert.Contains("total=1500]", l, StringComparison.Ordinal));
    }

    [Fact]
    public void Run_ConfigAndCommandLine_OnlyTheOptionsGivenOverrideTheFile()
    {
        var config = Write("predictor.json", """
            { "Predictor": { "Backend": "Simulated", "Policy": "Threshold", "TickInterval": "00:00:00.040", "StorePath": "rec.db",
                             "Modules": [ { "Name": "web", "Pid": 1 } ] } }
            """);
        var other = Path.Combine(_directory, "other.db");

        var (code, output, error) = Run("run", "--config", config, "--ticks", "2", "--policy", "vpa", "--store", other, "--module", $"self={Environment.ProcessId}");

        Assert.True(code == 0, error);
        var start = StartLine(output);
        // Given on the command line: policy, store and the module list (replaced, not appended).
        Assert.Contains("policy VpaStyle,", start, StringComparison.Ordinal);
        Assert.Contains($"store {other},", start, StringComparison.Ordinal);
        Assert.Contains($"modules self={Environment.ProcessId} (from --config", start, StringComparison.Ordinal);
        // Not given: the file's values stand, though the command line has defaults for them (dry-run, 100ms).
        Assert.Contains("backend Simulated,", start, StringComparison.Ordinal);
        Assert.Contains("tick 40 ms,", start, StringComparison.Ordinal);
        Assert.True(File.Exists(other));
        Assert.False(File.Exists(Path.Combine(_directory, "rec.db")));
    }

    [Theory]
    [InlineData("""{ "Predictor": { "Backnd": "Simulated" } }""", "'Backnd'", "Backend (DryRun, Simulated, Linux)")]
    [InlineData("""{ "Predictor": { "Backend": "Simulatd" } }""", "'Simulatd' at 'Predictor:Backend'", "Backend (DryRun, Simulated, Linux)")]
    [InlineData("""{ "Backend": "Simulated", "StorePath": "rec.db" }""", "has no \"Predictor\" section (top-level keys: Backend, StorePath)", "{ \"Predictor\": {")]
    [InlineData("""{ "Predictor": { "Backend": "Simulated", "StorePath": "rec.db", }""", "is not a JSON object of settings:", "JSON")]
    [InlineData("""{ "Predictor": { "StorePath": "rec.db", "TickInterval": "00:00:00" } }""", "Predictor:TickInterval = 00:00:00 is out of range", "use 1 ms to 10 min")]
    public void Run_BadConfig_OneLineNamingTheFileAndTheFixAndNothingStarts(string json, string what, string fix)
    {
        var config = Write("bad.json", json);

        var (code, output, error) = Run("run", "--config", config, "--ticks", "2");

        Assert.Equal(1, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("predictor: error: ", line, StringComparison.Ordinal);
        if (!what.StartsWith("Predictor:", StringComparison.Ordinal))
        {
            Assert.Contains($"--config {config}", line, StringComparison.Ordinal);
        }

        Assert.Contains(what, line, StringComparison.Ordinal);
        Assert.Contains(fix, line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, output);
        Assert.False(File.Exists(Path.Combine(_directory, "rec.db")));
    }

    [Fact]
    public void Run_ConfigMissing_OneLineNamingTheFile()
    {
        var missing = Path.Combine(_directory, "nowhere.json");

        var (code, output, error) = Run("run", "--config", missing, "--ticks", "2");

        Assert.Equal(1, code);
        Assert.Equal($"predictor: error: --config {missing}: cannot read it (Could not find file '{missing}'); give a JSON file with a \"Predictor\" section (README, \"Hosting and predictor run\").", error.Trim());
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public void Run_ConfigIsADirectory_OneLineSayingSo()
    {
        var (code, output, error) = Run("run", "--config", _directory, "--ticks", "2");

        Assert.Equal(1, code);
        Assert.Equal($"predictor: error: --config {_directory} is a directory; give a JSON file with a \"Predictor\" section, e.g. {Path.Combine(_directory, "predictor.json")}.", error.Trim());
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public void Run_ConfigWithAnEmptySection_TheDefaultsAndTheCommandLineApply()
    {
        var config = Write("empty.json", """{ "Predictor": {} }""");

        var (code, output, error) = Run("run", "--config", config, "--ticks", "2", "--backend", "simulated", "--tick", "40ms");

        Assert.True(code == 0, error);
        Assert.Contains("backend Simulated, policy Predictive, tick 40 ms, inference every 10 ticks,", StartLine(output), StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_TheEnvironmentOverridesTheFileKeyByKey_AndOnlyTheFilesPathsFollowTheFile()
    {
        var file = ConfigFile.Read(Write("predictor.json", """
            { "Predictor": { "Backend": "Simulated", "Policy": "VpaStyle", "StorePath": "rec.db", "ModelPaths": [ "a.onnx", "b.onnx" ] } }
            """));
        var environment = ConfigFile.FromEnvironment(new System.Collections.Hashtable
        {
            ["Predictor__Policy"] = "Threshold",
            ["PREDICTOR__MODELPATHS__1"] = "c.onnx", // names are case-insensitive, as .NET's environment provider reads them
            ["PREDICTOR_ONNXRUNTIME"] = "/opt/ort", // one underscore: not an option
            ["PredictorX__Backend"] = "Linux",
            ["PATH"] = "/usr/bin",
        });

        Assert.Equal(["PREDICTOR__MODELPATHS__1", "Predictor__Policy"], environment.Select(e => e.Key));
        var options = new PredictorOptions();
        ConfigFile.Compose(file, environment).Bind(options);
        Assert.Equal(BackendKind.Simulated, options.Backend);
        Assert.Equal(PolicyKind.Threshold, options.Policy);
        Assert.Equal(Path.Combine(_directory, "rec.db"), options.StorePath);
        // Item 0 from the file (made absolute), item 1 from the environment (left as given: relative to the working directory).
        Assert.Equal([Path.Combine(_directory, "a.onnx"), "c.onnx"], options.ModelPaths);
    }

    [Fact]
    public void Run_FileThenEnvironmentThenCommandLine_EachOverridesTheOneBefore()
    {
        var config = Write("predictor.json", """
            { "Predictor": { "Backend": "Simulated", "Policy": "VpaStyle", "TickInterval": "00:00:00.040", "CpuBudgetMillicores": 1500 } }
            """);
        var environment = new Dictionary<string, string>
        {
            ["Predictor__Policy"] = "Threshold",
            ["Predictor__TickInterval"] = "00:00:00.030",
            ["Predictor__InferenceEveryTicks"] = "5",
        };

        var (code, output, error) = RunChild(environment, "run", "--config", config, "--tick", "50ms", "--ticks", "3");

        Assert.True(code == 0, error);
        var start = StartLine(output);
        Assert.Contains("backend Simulated, policy Threshold, tick 50 ms, inference every 5 ticks,", start, StringComparison.Ordinal);
        Assert.Contains("cpu budget 1500 millicores", start, StringComparison.Ordinal);
        Assert.EndsWith(
            $"(from --config {config} and environment Predictor__InferenceEveryTicks, Predictor__Policy, Predictor__TickInterval and the command line)",
            start.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_EnvironmentWithoutAFile_AppliesOverTheDefaults_AndABadValueIsOneLineNamingTheVariable()
    {
        var (code, output, error) = RunChild(new Dictionary<string, string> { ["Predictor__Backend"] = "Simulated" }, "run", "--ticks", "2", "--tick", "40ms");

        Assert.True(code == 0, error);
        Assert.Contains("backend Simulated, policy Predictive, tick 40 ms,", StartLine(output), StringComparison.Ordinal);

        (code, output, error) = RunChild(new Dictionary<string, string> { ["Predictor__Backend"] = "Kubernetes" }, "run", "--ticks", "2");

        Assert.Equal(1, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("predictor: error: environment Predictor__Backend: ", line, StringComparison.Ordinal);
        Assert.Contains("'Kubernetes' at 'Predictor:Backend'", line, StringComparison.Ordinal);
        Assert.Contains("Backend (DryRun, Simulated, Linux)", line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public void Run_StoreFromAnEarlierRun_FillsTheModelsWindowAtTheStart()
    {
        // Naive forecaster at a step of 50 ticks × 20 ms = 1 s: its 48-step window needs 48 s of live ticks without the store.
        var config = Write("predictor.json", """
            { "Predictor": { "Backend": "Simulated", "TickInterval": "00:00:00.020", "InferenceEveryTicks": 50, "StorePath": "rec.db" } }
            """);

        var first = Run("run", "--config", config, "--ticks", "200");
        var second = Run("run", "--config", config, "--ticks", "2");

        Assert.True(first.Code == 0, first.Err);
        Assert.True(second.Code == 0, second.Err);
        Assert.Contains("warm start: naive (default): 0 of 48 window steps from the store (nothing recent recorded", first.Out, StringComparison.Ordinal);
        // The first run recorded about 4 s: that many one-second steps (as long as the second run starts within the 48 s
        // the window spans; a step with no sample between the runs repeats the last value).
        var line = Assert.Single(second.Out.Split('\n'), l => l.StartsWith("warm start: naive (default): ", StringComparison.Ordinal));
        var filled = int.Parse(line["warm start: naive (default): ".Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(filled, 3, 48);
    }

    [Fact]
    public void Run_StoreWhoseHistoryCannotBeRead_StartsColdAndSaysWhy()
    {
        var config = Write("predictor.json", """
            { "Predictor": { "Backend": "Simulated", "TickInterval": "00:00:00.020", "InferenceEveryTicks": 50, "StorePath": "rec.db" } }
            """);
        var first = Run("run", "--config", config, "--ticks", "100");
        Assert.True(first.Code == 0, first.Err);
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory, "rec.db")};Pooling=False"))
        {
            db.Open();
            using var corrupt = db.CreateCommand();
            corrupt.CommandText = "UPDATE chunks SET data = x'ff00ff00ff00'";
            Assert.True(corrupt.ExecuteNonQuery() > 0);
        }

        var (code, output, error) = Run("run", "--config", config, "--ticks", "2");

        Assert.True(code == 0, error);
        Assert.Contains("warm start: the store's history could not be read (", output, StringComparison.Ordinal);
        Assert.Contains("); the windows fill live", output, StringComparison.Ordinal);
        Assert.Contains("ran ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Retention_DeletesWhatTheStoreRecordedBeforeIt_AndSaysSo()
    {
        var path = Path.Combine(_directory, "rec.db");
        var threeDaysAgo = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() - (3 * 86_400_000L);
        using (var store = Predictor.Engine.Storage.TimeSeriesStore.Open(path))
        {
            var id = store.Register(new Predictor.Engine.Telemetry.SeriesInfo("archive/old", "value", TimeSpan.FromSeconds(1)));
            await store.AppendAsync(id, [threeDaysAgo, threeDaysAgo + 1000], [1, 2]);
            await store.FlushAsync();
        }

        var (code, output, error) = Run("run", "--backend", "simulated", "--tick", "20ms", "--ticks", "3", "--store", path, "--retention", "2d");

        Assert.True(code == 0, error);
        Assert.Contains($"store {path} (keeping 2d),", StartLine(output), StringComparison.Ordinal);
        Assert.Contains("; 1 chunks older than 2d deleted", output, StringComparison.Ordinal);
        Assert.DoesNotContain("retention: ", output, StringComparison.Ordinal); // the naive forecaster's window is 48 s
        using var kept = Predictor.Engine.Storage.TimeSeriesStore.Open(path);
        Assert.Equal(0, kept.ReadRange("archive/old", long.MinValue, long.MaxValue).Count);
    }

    [Fact]
    public void Run_RetentionShorterThanAModelWindow_SaysSo()
    {
        // The naive forecaster at 100 ms × 10 ticks per step: a 48-step window spans 48 s, more than 10 s.
        var (code, output, error) = Run("run", "--backend", "simulated", "--ticks", "2", "--store", Path.Combine(_directory, "rec.db"), "--retention", "10s");

        Assert.True(code == 0, error);
        Assert.Contains("retention: the retention (00:00:10) is shorter than the window of the default forecaster (00:00:48): a restart fills only part of it from the store", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--store rec.db --retention 2x", "--retention '2x' is not a duration")]
    [InlineData("--retention 2d", "Predictor:StoreRetention is set but Predictor:StorePath is not")]
    public void Run_BadRetention_IsOneLineAndRecordsNothing(string arguments, string expected)
    {
        var (code, output, error) = Run(["run", "--backend", "simulated", "--ticks", "3", .. arguments.Replace("rec.db", Path.Combine(_directory, "rec.db"), StringComparison.Ordinal).Split(' ')]);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains(expected, Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "rec.db")));
    }

    private static string StartLine(string output) =>
        Assert.Single(output.Split('\n'), l => l.StartsWith("run: ", StringComparison.Ordinal));

    private string Write(string name, string json)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, json);
        return path;
    }
}

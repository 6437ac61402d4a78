using System.Globalization;
using System.Text;
using System.Text.Json;
using static Predictor.Cli.Tests.CliRun;

namespace Predictor.Cli.Tests.Train;

public sealed class TrainCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-train-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Writes a NAB-format CSV: a daily cycle plus noise, 5-minute steps, seeded.</summary>
    private string WriteNab(string name, int points, Func<int, double>? value = null, int seed = 1)
    {
        var rng = new Random(seed);
        value ??= t => 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (8 * Math.Sin(2 * Math.PI * t / 24)) + (rng.NextDouble() * 2);
        var start = new DateTime(2014, 2, 14, 0, 0, 0, DateTimeKind.Utc);
        var sb = new StringBuilder("timestamp,value\n");
        for (int t = 0; t < points; t++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{start.AddMinutes(5 * t):yyyy-MM-dd HH:mm:ss},{value(t).ToString("R", CultureInfo.InvariantCulture)}\n");
        }

        string path = Path.Combine(_dir, name + ".csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private string[] TrainArgs(string dataset, string output, params string[] extra) =>
        ["train", "--format", "nab", "--dataset", dataset, "--series", "nab/*", "--window", "24", "--kinds", "ridge,ssa", "--out", output, .. extra];

    [Fact]
    public void Train_NabCsv_WritesTheModelTheTableAndTheJson()
    {
        string csv = WriteNab("cycle", 1500);
        string model = Path.Combine(_dir, "m.onnx");
        string json = Path.Combine(_dir, "m.json");

        var (code, output, error) = Run(TrainArgs(csv, model, "--json", json));

        Assert.True(code == 0, error);
        Assert.True(File.Exists(model));
        Assert.Contains("selected", output, StringComparison.Ordinal);
        Assert.Contains("seasonal_naive", output, StringComparison.Ordinal);
        Assert.Contains("decayed_p90", output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var series = doc.RootElement.GetProperty("series")[0];
        Assert.Equal("nab/cycle", series.GetProperty("name").GetString());
        Assert.Equal("selected", series.GetProperty("models")[0].GetProperty("role").GetString());
        Assert.Equal(12, doc.RootElement.GetProperty("horizon").GetInt32());
    }

    /// <summary>Writes a long CSV (timestamp in epoch seconds, series, value) of one series, one row per step from 2014-02-14.</summary>
    private string WriteLong(string name, TimeSpan step, IReadOnlyList<double> values)
    {
        long start = new DateTimeOffset(2014, 2, 14, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        var sb = new StringBuilder("timestamp,series,value\n");
        for (int t = 0; t < values.Count; t++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{start + (long)(t * step.TotalSeconds)},host/cpu/user,{values[t].ToString("R", CultureInfo.InvariantCulture)}\n");
        }

        string path = Path.Combine(_dir, name + ".csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    [Fact]
    public void Train_Step_AveragesAFinerRecordingIntoTheModelsSteps_ExactlyAsAveragedData()
    {
        // Five days at one-minute steps, and the same averaged into five-minute steps here (sum in order, then divide:
        // the mean the loop and --step compute). Trained with --step 5m, the first must give the second's model byte for byte.
        var rng = new Random(3);
        var minutes = Enumerable.Range(0, 5 * 1440).Select(t => 40 + (20 * Math.Sin(2 * Math.PI * t / 1440)) + (rng.NextDouble() * 4)).ToList();
        var averaged = Enumerable.Range(0, minutes.Count / 5).Select(k =>
        {
            double sum = 0;
            for (int j = 0; j < 5; j++)
            {
                sum += minutes[(5 * k) + j];
            }

            return sum / 5;
        }).ToList();
        string fine = WriteLong("fine", TimeSpan.FromMinutes(1), minutes);
        string coarse = WriteLong("coarse", TimeSpan.FromMinutes(5), averaged);
        string a = Path.Combine(_dir, "a.onnx"), b = Path.Combine(_dir, "b.onnx");
        string[] Args(string csv, string output, params string[] extra) =>
            ["train", "--format", "csv", "--dataset", csv, "--series", "host/*", "--window", "24", "--kinds", "ridge,ssa", "--out", output, .. extra];

        var fromFine = Run(Args(fine, a, "--step", "5m"));
        var fromCoarse = Run(Args(coarse, b));

        Assert.True(fromFine.Code == 0, fromFine.Err);
        Assert.True(fromCoarse.Code == 0, fromCoarse.Err);
        Assert.Contains("step 300 s)", fromFine.Out, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(b), File.ReadAllBytes(a));

        // evaluate averages the one-minute data into the model's steps by itself, says so, and scores what the averaged data scores.
        const string Averaged = "averaged 1 of 1 series, recorded every 1m, into steps of 5m (epoch-aligned means, NaN left out), as the running loop does\n";
        var onFine = Run("evaluate", a, "--format", "csv", "--dataset", fine, "--series", "host/*");
        var onCoarse = Run("evaluate", a, "--format", "csv", "--dataset", coarse, "--series", "host/*");
        Assert.True(onFine.Code == 0, onFine.Err);
        Assert.Equal(Averaged + onCoarse.Out, onFine.Out);
        Assert.StartsWith(Averaged, fromFine.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("averaged", fromCoarse.Out, StringComparison.Ordinal);

        // From a store the recording is averaged while it is read (never held whole at one minute): the same model, the same scores.
        string store = Path.Combine(_dir, "fine.db"), c = Path.Combine(_dir, "c.onnx");
        var imported = Run("import", "--store", store, "--format", "csv", fine);
        Assert.True(imported.Code == 0, imported.Err);
        var fromStore = Run("train", "--store", store, "--series", "host/*", "--window", "24", "--kinds", "ridge,ssa", "--out", c, "--step", "5m");
        Assert.True(fromStore.Code == 0, fromStore.Err);
        Assert.StartsWith(Averaged, fromStore.Out, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(b), File.ReadAllBytes(c));
        Assert.Equal(onFine.Out, Run("evaluate", a, "--store", store, "--series", "host/*").Out);

        // Not a whole multiple of the recording's step, or finer than it: refused, saying what would do.
        var uneven = Run(Args(fine, a, "--step", "90s"));
        Assert.Equal(1, uneven.Code);
        Assert.Contains("'host/cpu/user' is recorded every 60 s, so it cannot be averaged into steps of 90 s", uneven.Err, StringComparison.Ordinal);
        Assert.Contains("whole multiple of 60 s (e.g. 120 s)", uneven.Err, StringComparison.Ordinal);
        var coarseModelOnFinerSteps = Run("evaluate", a, "--format", "csv", "--dataset", WriteLong("ten-min", TimeSpan.FromMinutes(10), averaged), "--series", "host/*");
        Assert.Equal(1, coarseModelOnFinerSteps.Code);
        Assert.Contains("the model's step is 300 s. Series 'host/cpu/user' is recorded every 600 s", coarseModelOnFinerSteps.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_FineRecordingWithTheDefaultWindow_FailsSuggestingAStep()
    {
        string csv = WriteLong("ten-seconds", TimeSpan.FromSeconds(10), [.. Enumerable.Range(0, 200).Select(t => (double)(t % 7))]);

        var (code, _, error) = Run("train", "--format", "csv", "--dataset", csv, "--series", "host/*", "--out", Path.Combine(_dir, "m.onnx"));

        Assert.Equal(1, code);
        Assert.Contains("the default window (one season, 24 h) would be 8640 observations", error, StringComparison.Ordinal);
        Assert.Contains("--step 5m gives 288", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "m.onnx")));
    }

    [Fact]
    public void Train_SameCommandTwice_WritesIdenticalBytes()
    {
        string csv = WriteNab("cycle", 1500);
        string a = Path.Combine(_dir, "a.onnx"), b = Path.Combine(_dir, "b.onnx");

        Assert.Equal(0, Run(TrainArgs(csv, a)).Code);
        Assert.Equal(0, Run(TrainArgs(csv, b)).Code);

        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void Evaluate_TrainedModel_PrintsTheModelBesideTheBaselines()
    {
        string csv = WriteNab("cycle", 1500);
        string model = Path.Combine(_dir, "m.onnx");
        Assert.Equal(0, Run(TrainArgs(csv, model)).Code);
        string other = WriteNab("other", 1500, seed: 9);

        var (code, output, error) = Run("evaluate", model, "--format", "nab", "--dataset", other, "--series", "nab/other", "--json", Path.Combine(_dir, "e.json"));

        Assert.True(code == 0, error);
        Assert.Contains("nab/other", output, StringComparison.Ordinal);
        Assert.Contains(" model ", output, StringComparison.Ordinal);
        Assert.Contains("naive", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "e.json")));
    }

    [Fact]
    public async Task Train_FromTheStore_TrainsOnTheStoredSeries()
    {
        string storePath = Path.Combine(_dir, "store.db");
        var rng = new Random(3);
        long[] ts = [.. Enumerable.Range(0, 1500).Select(t => 1_600_000_000_000L + (t * 300_000L))];
        double[] vs = [.. Enumerable.Range(0, 1500).Select(t => 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (8 * Math.Sin(2 * Math.PI * t / 24)) + rng.NextDouble())];
        using (var store = Predictor.Engine.Storage.TimeSeriesStore.Open(storePath))
        {
            int id = store.Register(new Predictor.Engine.Telemetry.SeriesInfo("host/cpu/user", "percent", TimeSpan.FromSeconds(300)));
            await store.AppendAsync(id, ts, vs);
            await store.FlushAsync();
        }

        string model = Path.Combine(_dir, "m.onnx");
        var (code, output, error) = Run("train", "--store", storePath, "--series", "host/*", "--window", "24", "--kinds", "ridge", "--out", model);

        Assert.True(code == 0, error);
        Assert.Contains("host/cpu/user", output, StringComparison.Ordinal);
        Assert.True(File.Exists(model));
    }

    [Fact]
    public void Train_StoreAndDatasetTogether_FailsSayingWhichToGive()
    {
        string csv = WriteNab("cycle", 1500);

        var (code, _, error) = Run("train", "--store", Path.Combine(_dir, "s.db"), "--format", "nab", "--dataset", csv, "--series", "*", "--out", Path.Combine(_dir, "m.onnx"));

        Assert.Equal(1, code);
        Assert.Contains("either --store", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_MissingStore_FailsNamingIt()
    {
        var (code, _, error) = Run("train", "--store", Path.Combine(_dir, "absent.db"), "--series", "*", "--out", Path.Combine(_dir, "m.onnx"));

        Assert.Equal(1, code);
        Assert.Contains("absent.db", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_PatternMatchingNothing_FailsListingTheSeries()
    {
        string csv = WriteNab("cycle", 1500);

        var (code, _, error) = Run("train", "--format", "nab", "--dataset", csv, "--series", "azure/*", "--out", Path.Combine(_dir, "m.onnx"));

        Assert.Equal(1, code);
        Assert.Contains("matches none", error, StringComparison.Ordinal);
        Assert.Contains("nab/cycle", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_TooLittleData_FailsSayingHowMuchIsNeeded()
    {
        string csv = WriteNab("short", 300);

        var (code, _, error) = Run(TrainArgs(csv, Path.Combine(_dir, "m.onnx")));

        Assert.Equal(1, code);
        Assert.Contains("has 300 points (1.0 days)", error, StringComparison.Ordinal);
        Assert.Contains("needs at least", error, StringComparison.Ordinal);
        Assert.Contains("two days (the daily season)", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "m.onnx")));
    }

    [Fact]
    public void Train_ConstantSeries_FailsSayingItIsConstant()
    {
        string csv = WriteNab("flat", 1500, _ => 7.5);

        var (code, _, error) = Run(TrainArgs(csv, Path.Combine(_dir, "m.onnx")));

        Assert.Equal(1, code);
        Assert.Contains("constant", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_BadQuantile_FailsNamingTheOption()
    {
        string csv = WriteNab("cycle", 1500);

        var (code, _, error) = Run(TrainArgs(csv, Path.Combine(_dir, "m.onnx"), "--quantile", "1.5"));

        Assert.Equal(1, code);
        Assert.Contains("--quantile", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_MissingModelFile_FailsNamingIt()
    {
        var (code, _, error) = Run("evaluate", Path.Combine(_dir, "none.onnx"), "--format", "nab", "--dataset", _dir, "--series", "*");

        Assert.Equal(1, code);
        Assert.Contains("none.onnx", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_SeriesOfTwoSteps_SaysWhichStepWouldServeBoth()
    {
        var sb = new StringBuilder("timestamp,series,value\n");
        for (int i = 0; i < 1200; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{1_700_000_000 + (300 * i)},s/x,{i % 7}\n");
        }

        for (int i = 0; i < 6000; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{1_700_000_000 + (120 * i)},m/x,{i % 5}\n");
        }

        string csv = Path.Combine(_dir, "mixed.csv");
        File.WriteAllText(csv, sb.ToString());

        var (code, _, error) = Run("train", "--format", "csv", "--dataset", csv, "--series", "*/x", "--out", Path.Combine(_dir, "m.onnx"));

        Assert.Equal(1, code);
        Assert.Contains("is recorded every 300 s but", error, StringComparison.Ordinal);
        Assert.Contains("give --step a whole multiple of both (e.g. --step 600s)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_SelectedModelFarWorseThanNaive_WarnsThatItIsNotToBeTrusted()
    {
        // Idle for three days, then busy: ridge, the only kind allowed, learns from a handful of rows and blows up.
        var rng = new Random(3);
        var values = Enumerable.Range(0, 1300).Select(i => i < 900 ? 0.5 : 30 + (20 * Math.Sin(2 * Math.PI * i / 288)) + (4 * rng.NextDouble())).ToList();
        string idle = WriteLong("idle", TimeSpan.FromMinutes(5), values);
        string cycle = WriteNab("cycle", 1500);

        var (code, _, error) = Run("train", "--format", "csv", "--dataset", idle, "--series", "host/cpu/user", "--kinds", "ridge", "--out", Path.Combine(_dir, "idle.onnx"));
        var (okCode, _, okError) = Run(TrainArgs(cycle, Path.Combine(_dir, "cycle.onnx")));

        Assert.True(code == 0, error);
        Assert.Contains("predictor: warning: on 'host/cpu/user' the selected ridge scores a calibration MASE of", error, StringComparison.Ordinal);
        Assert.Contains("its forecasts and upper bound are not to be trusted", error, StringComparison.Ordinal);
        Assert.True(okCode == 0, okError);
        Assert.DoesNotContain("warning", okError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_OutNamingTheInput_IsRefusedBeforeTrainingAndTheInputIsKept()
    {
        string csv = WriteNab("cycle", 1500);
        byte[] before = File.ReadAllBytes(csv);
        string storePath = Path.Combine(_dir, "store.db");
        using (var store = Predictor.Engine.Storage.TimeSeriesStore.Open(storePath))
        {
            int id = store.Register(new Predictor.Engine.Telemetry.SeriesInfo("host/cpu/user", "percent", TimeSpan.FromSeconds(300)));
            await store.AppendAsync(id, [.. Enumerable.Range(0, 1500).Select(t => 1_600_000_000_000L + (t * 300_000L))], [.. Enumerable.Range(0, 1500).Select(t => (double)(t % 288))]);
            await store.FlushAsync();
        }

        byte[] storeBefore = File.ReadAllBytes(storePath);

        var (code, output, error) = Run(TrainArgs(csv, csv));
        var (storeCode, _, storeError) = Run("train", "--store", storePath, "--series", "host/*", "--window", "24", "--kinds", "ridge", "--out", storePath);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("is the --dataset this command reads", error, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(csv));
        Assert.Equal(1, storeCode);
        Assert.Contains("is the --store this command reads", storeError, StringComparison.Ordinal);
        Assert.Equal(storeBefore, File.ReadAllBytes(storePath));
    }

    [Fact]
    public void Train_JsonSameAsOutOrOutADirectory_IsRefusedBeforeTrainingAndWritesNothing()
    {
        string csv = WriteNab("cycle", 1500);
        string model = Path.Combine(_dir, "m.onnx");
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "models")).FullName;

        var same = Run(TrainArgs(csv, model, "--json", model));
        var onFolder = Run(TrainArgs(csv, folder));
        var jsonOnFolder = Run(TrainArgs(csv, model, "--json", folder));

        Assert.Equal(1, same.Code);
        Assert.Contains("--json and --out are the same file", same.Err, StringComparison.Ordinal);
        Assert.Equal(1, onFolder.Code);
        Assert.Contains("--out '" + folder + "' is a directory", onFolder.Err, StringComparison.Ordinal);
        Assert.Equal(1, jsonOnFolder.Code);
        Assert.Contains("--json '" + folder + "' is a directory", jsonOnFolder.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(model));
        Assert.False(File.Exists(folder + ".tmp"));
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void Train_JsonInAMissingFolder_CreatesItAsOutDoes()
    {
        string csv = WriteNab("cycle", 1500);
        string json = Path.Combine(_dir, "new", "deeper", "m.json");

        var (code, _, error) = Run(TrainArgs(csv, Path.Combine(_dir, "m.onnx"), "--json", json));

        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("nab/cycle", doc.RootElement.GetProperty("series")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Evaluate_Json_RecordsTheModelsOwnHorizonAndQuantile()
    {
        string csv = WriteNab("cycle", 1500);
        string model = Path.Combine(_dir, "m.onnx");
        Assert.Equal(0, Run(TrainArgs(csv, model, "--horizon", "6", "--quantile", "0.5")).Code);
        string json = Path.Combine(_dir, "e.json");

        var (code, _, error) = Run("evaluate", model, "--format", "nab", "--dataset", csv, "--series", "nab/cycle", "--json", json);

        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(6, doc.RootElement.GetProperty("horizon").GetInt32());
        Assert.Equal(0.5, doc.RootElement.GetProperty("quantile").GetDouble());
    }

    [Fact]
    public void Evaluate_NaiveModelOfWindowOne_IsScored()
    {
        string csv = WriteNab("cycle", 1500);
        string model = Path.Combine(_dir, "w1.onnx");
        Assert.Equal(0, Run("models", "write-baseline", "--kind", "naive", "--window", "1", "--step-seconds", "300", "--out", model).Code);

        var (code, output, error) = Run("evaluate", model, "--format", "nab", "--dataset", csv, "--series", "nab/cycle");

        Assert.True(code == 0, error);
        Assert.Contains(" model ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_GbdtTreesDefault_SharedTreesAndPerStepWritesAnEnsemblePerStep()
    {
        string csv = WriteNab("cycle", 1500);
        string byDefault = Path.Combine(_dir, "default.onnx");
        string perStep = Path.Combine(_dir, "per-step.onnx");
        string shared = Path.Combine(_dir, "shared.onnx");
        string[] gbdt = ["train", "--format", "nab", "--dataset", csv, "--series", "nab/*", "--kinds", "gbdt"];

        var a = Run([.. gbdt, "--gbdt-trees", "per-step", "--out", perStep]);
        var b = Run([.. gbdt, "--gbdt-trees", "shared", "--out", shared]);
        var c = Run([.. gbdt, "--out", byDefault]);

        Assert.True(a.Code == 0, a.Err);
        Assert.True(b.Code == 0, b.Err);
        Assert.True(c.Code == 0, c.Err);
        int Trees(string path)
        {
            // The card as `predictor models inspect` prints it: "  predictor.gbdt.trees   = N".
            var (code, output, error) = Run("models", "inspect", path);
            Assert.True(code == 0, error);
            string line = output.Split('\n').Single(l => l.TrimStart().StartsWith("predictor.gbdt.trees", StringComparison.Ordinal));
            return int.Parse(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
        }

        // Shared: at most one tree per round (100 by default); per step: an ensemble for each of the 12 steps. The
        // default is shared trees (with equalised step gains): the same bytes as asking for them.
        Assert.InRange(Trees(shared), 1, 100);
        Assert.True(Trees(perStep) > Trees(shared), $"per-step {Trees(perStep)} trees, shared {Trees(shared)}.");
        Assert.Equal(File.ReadAllBytes(shared), File.ReadAllBytes(byDefault));
    }

    [Fact]
    public void Train_GbdtSeasonMoves_OnByDefaultOffReadsTheLast24ValuesAlone()
    {
        string csv = WriteNab("cycle", 1500);
        string byDefault = Path.Combine(_dir, "moves.onnx");
        string off = Path.Combine(_dir, "no-moves.onnx");
        string[] gbdt = ["train", "--format", "nab", "--dataset", csv, "--series", "nab/*", "--kinds", "gbdt"];

        var a = Run([.. gbdt, "--out", byDefault]);
        var b = Run([.. gbdt, "--gbdt-season-moves", "off", "--out", off]);

        Assert.True(a.Code == 0, a.Err);
        Assert.True(b.Code == 0, b.Err);

        // On: a window of one day (288 five-minute steps) for yesterday's 11 moves over the coming hour, 24 lags.
        Assert.Equal("11", Card(byDefault, "predictor.gbdt.season_moves"));
        Assert.Equal("24", Card(byDefault, "predictor.gbdt.lags"));
        Assert.Contains("(W=288,", a.Out, StringComparison.Ordinal);

        // Off: the last 24 values and the calendar, a window of 24.
        Assert.Equal("0", Card(off, "predictor.gbdt.season_moves"));
        Assert.Contains("(W=24,", b.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_RefitBeforeTest_OnByDefaultOffScoresTheTestPartWithTheTrainingPartFit()
    {
        string csv = WriteNab("cycle", 1500);
        string Json(string tag) => Path.Combine(_dir, tag + ".json");

        var byDefault = Run(TrainArgs(csv, Path.Combine(_dir, "a.onnx"), "--json", Json("a")));
        var off = Run(TrainArgs(csv, Path.Combine(_dir, "b.onnx"), "--refit-before-test", "off", "--json", Json("b")));
        var bad = Run(TrainArgs(csv, Path.Combine(_dir, "c.onnx"), "--refit-before-test", "maybe"));

        Assert.True(byDefault.Code == 0, byDefault.Err);
        Assert.True(off.Code == 0, off.Err);
        Dictionary<string, (double Validation, double Test)> Models(string tag) =>
            JsonDocument.Parse(File.ReadAllText(Json(tag))).RootElement.GetProperty("series")[0].GetProperty("models").EnumerateArray()
                .ToDictionary(m => m.GetProperty("model").GetString()!, m => (m.GetProperty("validation_mase").GetDouble(), m.GetProperty("mase").GetDouble()));
        var (a, b) = (Models("a"), Models("b"));
        Assert.Equal(b.Keys.Order(), a.Keys.Order());
        Assert.All(a, m => Assert.Equal(b[m.Key].Validation, m.Value.Validation));
        Assert.Equal(b["seasonal_naive"].Test, a["seasonal_naive"].Test);
        Assert.NotEqual(b["ridge"].Test, a["ridge"].Test);
        Assert.NotEqual(0, bad.Code);
        Assert.Contains("'maybe' not recognized", bad.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "c.onnx")));
    }

    /// <summary>The value `predictor models inspect` prints for a card key.</summary>
    private static string Card(string path, string key)
    {
        string line = Inspect(path).Split('\n').Single(l => l.TrimStart().StartsWith(key + " ", StringComparison.Ordinal));
        return line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static string Inspect(string path)
    {
        var (code, output, error) = Run("models", "inspect", path);
        Assert.True(code == 0, error);
        return output;
    }

    [Fact]
    public void Train_SsaCentring_ChoiceIsWrittenIntoTheCardAndAnUnknownValueIsRefused()
    {
        string csv = WriteNab("cycle", 1500);
        string a = Path.Combine(_dir, "a.onnx"), b = Path.Combine(_dir, "b.onnx"), c = Path.Combine(_dir, "c.onnx"), d = Path.Combine(_dir, "d.onnx");

        string[] ssa = ["train", "--format", "nab", "--dataset", csv, "--series", "nab/*", "--window", "24", "--kinds", "ssa"];
        var byDefault = Run([.. ssa, "--out", a]);
        var centred = Run([.. ssa, "--ssa-centring", "lag-vectors", "--out", b]);
        var gated = Run([.. ssa, "--ssa-centring", "level-shift", "--out", d]);
        var bad = Run(TrainArgs(csv, c, "--ssa-centring", "double"));

        Assert.True(byDefault.Code == 0, byDefault.Err);
        Assert.True(centred.Code == 0, centred.Err);
        Assert.DoesNotContain("predictor.ssa_centring", Inspect(a), StringComparison.Ordinal);
        Assert.Equal("lag-vectors", Card(b, "predictor.ssa_centring"));
        Assert.True(gated.Code == 0, gated.Err);
        Assert.Equal("series", Card(d, "predictor.ssa_centring")); // a steady cycle: no level shift, basic SSA
        Assert.NotEqual(0, bad.Code);
        Assert.All(new[] { "'double' not recognized", "'series'", "'lag-vectors'", "'level-shift'" }, part => Assert.Contains(part, bad.Err, StringComparison.Ordinal));
        Assert.False(File.Exists(c));
    }

    [Fact]
    public void Train_GbdtRefitRounds_TrainingFitChangesOnlyTheRefitsAndIsWrittenIntoTheCard()
    {
        // The level steps up for the last fifth: the early-stopped refits hold the newest rows out, the training-fit
        // refits learn from them; the training-part fit, and so every calibration score, is the same in both runs.
        string csv = WriteNab("step", 3000, t => 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (t >= 2400 ? 15 : 0) + (0.5 * Math.Sin(t * 1.7)));
        string a = Path.Combine(_dir, "a.onnx"), b = Path.Combine(_dir, "b.onnx");
        string Json(string tag) => Path.Combine(_dir, tag + ".json");
        string[] gbdt = ["train", "--format", "nab", "--dataset", csv, "--series", "nab/*", "--kinds", "gbdt"];

        var byDefault = Run([.. gbdt, "--out", a, "--json", Json("a")]);
        var everyRow = Run([.. gbdt, "--gbdt-refit-rounds", "training-fit", "--out", b, "--json", Json("b")]);

        Assert.True(byDefault.Code == 0, byDefault.Err);
        Assert.True(everyRow.Code == 0, everyRow.Err);
        (double Validation, double Test) Gbdt(string tag) =>
            JsonDocument.Parse(File.ReadAllText(Json(tag))).RootElement.GetProperty("series")[0].GetProperty("models").EnumerateArray()
                .Where(m => m.GetProperty("model").GetString() == "gbdt")
                .Select(m => (m.GetProperty("validation_mase").GetDouble(), m.GetProperty("mase").GetDouble())).Single();
        Assert.Equal(Gbdt("a").Validation, Gbdt("b").Validation);
        Assert.NotEqual(Gbdt("a").Test, Gbdt("b").Test);
        Assert.DoesNotContain("predictor.gbdt_refit_rounds", Inspect(a), StringComparison.Ordinal);
        Assert.Equal("training-fit", Card(b, "predictor.gbdt_refit_rounds"));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void Train_GbdtLossAbsolute_ChangesTheTreesIsDeterministicAndIsWrittenIntoTheCard()
    {
        // A daily cycle with rare large spikes: the leaves of squared and absolute loss (means against medians) differ.
        string csv = WriteNab("spiky", 3000, t => 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (t % 97 == 5 ? 60 : 0) + (0.5 * Math.Sin(t * 1.7)));
        string a = Path.Combine(_dir, "a.onnx"), b = Path.Combine(_dir, "b.onnx"), c = Path.Combine(_dir, "c.onnx");
        string[] gbdt = ["train", "--format", "nab", "--dataset", csv, "--series", "nab/*", "--kinds", "gbdt"];

        var squared = Run([.. gbdt, "--gbdt-loss", "squared", "--out", a]);
        var absolute = Run([.. gbdt, "--gbdt-loss", "absolute", "--out", b]);
        var again = Run([.. gbdt, "--gbdt-loss", "absolute", "--out", c]);

        Assert.True(squared.Code == 0, squared.Err);
        Assert.True(absolute.Code == 0, absolute.Err);
        Assert.True(again.Code == 0, again.Err);
        Assert.DoesNotContain("predictor.gbdt_loss", Inspect(a), StringComparison.Ordinal);
        Assert.Equal("absolute", Card(b, "predictor.gbdt_loss"));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.Equal(File.ReadAllBytes(b), File.ReadAllBytes(c));
    }

    [Fact]
    public void Train_GbdtLossChoose_KeepsTheLossWithTheLowerCalibrationScoreAndShipsThatModel()
    {
        // The same spiky cycle trained three times: choose must ship, byte for byte, the run whose gbdt candidate has the
        // lower calibration (validation) MASE, and report that score.
        string csv = WriteNab("spiky", 3000, t => 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (t % 97 == 5 ? 60 : 0) + (0.5 * Math.Sin(t * 1.7)));
        string Model(string tag) => Path.Combine(_dir, tag + ".onnx");
        string Json(string tag) => Path.Combine(_dir, tag + ".json");
        string[] gbdt = ["train", "--format", "nab", "--dataset", csv, "--series", "nab/*", "--kinds", "gbdt"];
        foreach (var loss in new[] { "squared", "absolute", "choose" })
        {
            var run = Run([.. gbdt, "--gbdt-loss", loss, "--out", Model(loss), "--json", Json(loss)]);
            Assert.True(run.Code == 0, run.Err);
        }

        double Calibration(string tag) =>
            JsonDocument.Parse(File.ReadAllText(Json(tag))).RootElement.GetProperty("series")[0].GetProperty("models").EnumerateArray()
                .Single(m => m.GetProperty("model").GetString() == "gbdt").GetProperty("validation_mase").GetDouble();
        Assert.NotEqual(Calibration("squared"), Calibration("absolute"));
        string winner = Calibration("absolute") < Calibration("squared") ? "absolute" : "squared";
        Assert.Equal(Calibration(winner), Calibration("choose"));
        Assert.Equal(File.ReadAllBytes(Model(winner)), File.ReadAllBytes(Model("choose")));
    }

    [Fact]
    public void Train_Threads_OneThreadAndEveryCoreWriteTheSameBytes()
    {
        // Shared trees split each node's work by feature over the threads; --threads changes the wall clock only.
        string csv = WriteNab("spiky", 3000, t => 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (t % 97 == 5 ? 60 : 0) + (0.5 * Math.Sin(t * 1.7)));
        string[] gbdt = ["train", "--format", "nab", "--dataset", csv, "--series", "nab/*", "--kinds", "gbdt"];
        var models = new List<byte[]>();
        foreach (var threads in new[] { "1", "0", "3" })
        {
            string model = Path.Combine(_dir, $"t{threads}.onnx");
            var run = Run([.. gbdt, "--threads", threads, "--out", model]);
            Assert.True(run.Code == 0, run.Err);
            models.Add(File.ReadAllBytes(model));
        }

        Assert.Equal(models[0], models[1]);
        Assert.Equal(models[0], models[2]);
    }

    [Theory]
    [InlineData("--threads", "-1", "--threads -1: must lie in [0, 1024] (0: every core")]
    [InlineData("--gbdt-loss", "huber", "'huber' not recognized|'squared'|'absolute'|'choose'")]
    [InlineData("--gbdt-refit-rounds", "late", "'late' not recognized|'early-stopping'|'training-fit'")]
    [InlineData("--gbdt-season-moves", "maybe", "'maybe' not recognized|'on'|'off'")]
    [InlineData("--gbdt-trees", "both", "'both' not recognized|'per-step'|'shared'")]
    [InlineData("--gbdt-learning-rate", "0", "--gbdt-learning-rate 0: must lie in (0, 1]")]
    [InlineData("--gbdt-learning-rate", "1.5", "--gbdt-learning-rate 1.5: must lie in (0, 1]")]
    [InlineData("--gbdt-max-depth", "-1", "--gbdt-max-depth -1: must lie in [0, 64]")]
    [InlineData("--gbdt-max-leaves", "1", "--gbdt-max-leaves 1: must lie in [2, 4096]")]
    [InlineData("--gbdt-max-trees", "0", "--gbdt-max-trees 0: must lie in [1, 100000]")]
    public void Train_GbdtOptionOutOfRange_FailsSayingWhatIsAccepted(string flag, string value, string expected) // expected: |-separated parts
    {
        string csv = WriteNab("cycle", 1500);
        string model = Path.Combine(_dir, "m.onnx");

        var (code, _, error) = Run(TrainArgs(csv, model, flag, value));

        Assert.NotEqual(0, code);
        Assert.All(expected.Split('|'), part => Assert.Contains(part, error, StringComparison.Ordinal));
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void Train_SelectionPerStep_ShipsOneModelWhoseStepsComeFromTheKindsThatWinThem()
    {
        // A daily cycle with a fast 2-hour component and a persistent AR(1) disturbance (φ = 0.95): the last value wins
        // step 1, the value one day ago wins step 12 (the 2-hour component has moved half a cycle by then).
        var rng = new Random(3);
        double ar = 0;
        string csv = WriteNab("ar", 3000, t =>
        {
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            ar = (0.95 * ar) + (6 * Math.Sqrt(1 - 0.9025) * gaussian);
            return 40 + (20 * Math.Sin(2 * Math.PI * t / 288)) + (15 * Math.Sin(2 * Math.PI * t / 24)) + ar;
        });
        string[] args = ["train", "--format", "nab", "--dataset", csv, "--series", "nab/*", "--kinds", "naive,seasonal_naive"];

        var whole = Run([.. args, "--out", Path.Combine(_dir, "whole.onnx")]);
        var perStep = Run([.. args, "--selection", "per-step", "--out", Path.Combine(_dir, "per-step.onnx")]);

        Assert.True(whole.Code == 0, whole.Err);
        Assert.True(perStep.Code == 0, perStep.Err);
        Assert.Contains("selected seasonal_naive (", whole.Out, StringComparison.Ordinal);
        Assert.Contains("selected per_step [naive,", perStep.Out, StringComparison.Ordinal);
        Assert.Contains(",seasonal_naive] (", perStep.Out, StringComparison.Ordinal);
        var (code, inspect, error) = Run("models", "inspect", Path.Combine(_dir, "per-step.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("predictor.step_kinds", inspect, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_UnknownSelection_FailsListingTheChoices()
    {
        string csv = WriteNab("cycle", 1500);

        var (code, _, error) = Run(TrainArgs(csv, Path.Combine(_dir, "m.onnx"), "--selection", "best"));

        Assert.NotEqual(0, code);
        Assert.Contains("whole-horizon", error, StringComparison.Ordinal);
        Assert.Contains("per-step", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_Help_ListsTheOptions()
    {
        var (code, output, _) = Run("train", "--help");

        Assert.Equal(0, code);
        Assert.Contains("--horizon", output, StringComparison.Ordinal);
        Assert.Contains("--series", output, StringComparison.Ordinal);
        Assert.Contains("--json", output, StringComparison.Ordinal);
    }
}

public sealed class DefaultModelsTests
{
    [Fact]
    public void Train_TheModelsReadmeCommand_ReproducesTheShippedModelByteForByte()
    {
        string output = Path.Combine(Path.GetTempPath(), $"predictor-e47b3b-{Guid.NewGuid():N}.onnx");
        string dataset = Path.Combine(Predictor.TestSupport.RepoPaths.SharedDatasets, "nab", "data", "realAWSCloudwatch");
        try
        {
            var err = new StringWriter();
            int code = Program.Run(
                ["train", "--format", "nab", "--dataset", dataset, "--series", "nab/rds_cpu_utilization_e47b3b", "--horizon", "12", "--out", output],
                new StringWriter(), err);

            Assert.True(code == 0, err.ToString());
            Assert.Equal(File.ReadAllBytes(Predictor.TestSupport.RepoPaths.InRepo("models", "nab_rds_e47b3b.onnx")), File.ReadAllBytes(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Train_FromAStoreHoldingTheSameSeries_ReproducesTheShippedModelByteForByte()
    {
        string dir = Directory.CreateTempSubdirectory("predictor-store-train-").FullName;
        try
        {
            string csv = Path.Combine(Predictor.TestSupport.RepoPaths.SharedDatasets, "nab", "data", "realAWSCloudwatch", "rds_cpu_utilization_e47b3b.csv");
            string store = Path.Combine(dir, "s.db");
            string model = Path.Combine(dir, "m.onnx");
            var err = new StringWriter();
            Assert.True(Program.Run(["import", csv, "--store", store, "--format", "nab"], new StringWriter(), err) == 0, err.ToString());

            int code = Program.Run(["train", "--store", store, "--series", "nab/*", "--horizon", "12", "--out", model], new StringWriter(), err);

            Assert.True(code == 0, err.ToString());
            Assert.Equal(File.ReadAllBytes(Predictor.TestSupport.RepoPaths.InRepo("models", "nab_rds_e47b3b.onnx")), File.ReadAllBytes(model));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

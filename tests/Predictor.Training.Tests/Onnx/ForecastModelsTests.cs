using Google.Protobuf;
using Predictor.Engine;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.Training.Onnx;
using Predictor.Training.Onnx.Proto;
using static Predictor.Training.Tests.Onnx.OnnxReferenceEvaluator;

namespace Predictor.Training.Tests.Onnx;

public sealed class ForecastModelsTests
{
    [Theory]
    [MemberData(nameof(SampleModels.Kinds), MemberType = typeof(SampleModels))]
    public void Build_EveryKind_ParsesBackWithTheContract(string kind)
    {
        var model = ModelProto.Parser.ParseFrom(SampleModels.Build(kind));

        Assert.Equal(GraphBuilder.IrVersion, model.IrVersion);
        var onnxOpset = Assert.Single(model.OpsetImport, o => o.Domain == "");
        Assert.True(onnxOpset.Version >= 13, "the contract requires ai.onnx opset ≥ 13");

        bool withCalendar = kind == "linear_calendar";
        Assert.Equal(withCalendar ? [ModelContract.WindowInput, ModelContract.CalendarInput] : [ModelContract.WindowInput], model.Graph.Input.Select(i => i.Name));
        AssertShape(model.Graph.Input[0], SampleModels.Window);
        if (withCalendar)
        {
            AssertShape(model.Graph.Input[1], CalendarFeatures.Width);
        }

        Assert.Equal([ModelContract.ForecastOutput, ModelContract.UpperOutput], model.Graph.Output.Select(o => o.Name));
        AssertShape(model.Graph.Output[0], SampleModels.Horizon);
        AssertShape(model.Graph.Output[1], SampleModels.Horizon);
        Assert.All(model.Graph.Initializer, t => Assert.NotEqual(0, t.RawData.Length));
    }

    [Theory]
    [MemberData(nameof(SampleModels.Kinds), MemberType = typeof(SampleModels))]
    public void Build_EveryKind_MetadataRoundTripsToTheSameCard(string kind)
    {
        var model = ModelProto.Parser.ParseFrom(SampleModels.Build(kind));
        var metadata = model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)).ToList();

        var card = ModelCard.FromMetadata(metadata, "test");

        foreach (string key in ModelContract.Card.Required)
        {
            Assert.Contains(metadata, m => m.Key == key);
        }

        Assert.Contains(metadata, m => m.Key == ModelContract.Card.Series && m.Value == """["nab/rds_cc0c53","azure/vm 7"]""");
        Assert.Contains(metadata, m => m.Key == ModelContract.Card.Metrics && m.Value == """{"mase":0.81}""");
        Assert.Contains(metadata, m => m.Key == ModelContract.Card.TrainingDataSha256);
        Assert.Equal(SampleModels.Window, card.Window);
        Assert.Equal(SampleModels.Horizon, card.Horizon);
        Assert.Equal(300.0, card.StepSeconds);
        Assert.Equal(0.9, card.Quantile);
        Assert.Equal(["nab/rds_cc0c53", "azure/vm 7"], card.Series);
        Assert.Equal(metadata, card.ToMetadata());
        if (kind == "seasonal_naive")
        {
            Assert.Equal("24", card.Extra[ForecastModels.SeasonKey]);
        }
    }

    [Theory]
    [MemberData(nameof(SampleModels.Kinds), MemberType = typeof(SampleModels))]
    public void Build_SameArgumentsTwice_GivesIdenticalBytes(string kind)
    {
        byte[] first = SampleModels.Build(kind);
        byte[] second = SampleModels.Build(kind);

        Assert.Equal(first, second);
        string a = Path.Combine(Path.GetTempPath(), $"predictor-det-{Guid.NewGuid():N}.onnx");
        string b = a + ".2.onnx";
        try
        {
            ForecastModels.WriteFile(a, first);
            ForecastModels.WriteFile(b, SampleModels.Build(kind));
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }

    [Fact]
    public void Naive_Evaluated_RepeatsTheLastValueAndAddsOffsets()
    {
        var model = ModelProto.Parser.ParseFrom(SampleModels.Build("naive"));
        var window = Window(2, (row, k) => (row * 100) + k);
        window.Data[5] = float.NaN; // a NaN inside the window must not reach the forecast

        var outputs = Run(model, new Dictionary<string, Tensor> { ["window"] = window });

        var offsets = SampleModels.Offsets();
        for (int row = 0; row < 2; row++)
        {
            for (int h = 0; h < SampleModels.Horizon; h++)
            {
                float last = (row * 100) + SampleModels.Window - 1;
                Assert.Equal(last, outputs["forecast"].Data[(row * SampleModels.Horizon) + h]);
                Assert.Equal(last + offsets[h], outputs["upper"].Data[(row * SampleModels.Horizon) + h]);
            }
        }
    }

    [Fact]
    public void SeasonalNaive_Evaluated_ForecastsOneSeasonAgo()
    {
        var model = ModelProto.Parser.ParseFrom(SampleModels.Build("seasonal_naive"));
        // Value = time index t − (W − 1): the origin is 0, one season ago is −24.
        var window = Window(1, (_, k) => k - (SampleModels.Window - 1));

        var forecast = Run(model, new Dictionary<string, Tensor> { ["window"] = window })["forecast"].Data;

        for (int h = 1; h <= SampleModels.Horizon; h++)
        {
            int expected = h - (SampleModels.Season * (int)Math.Ceiling(h / (double)SampleModels.Season));
            Assert.Equal(expected, forecast[h - 1]);
        }
    }

    [Fact]
    public void SeasonalIndices_HorizonLongerThanSeason_WrapsToTheLastSeason()
    {
        // W = 5, S = 3: steps 1..7 read x(t−2), x(t−1), x(t), x(t−2), x(t−1), x(t), x(t−2) = indices 2,3,4,2,3,4,2.
        Assert.Equal([2L, 3, 4, 2, 3, 4, 2], ForecastModels.SeasonalIndices(5, 7, 3));
    }

    [Fact]
    public void SeasonalNaive_WindowShorterThanSeason_ThrowsSayingWhatWindowIsNeeded()
    {
        var card = SampleModels.Card(ForecastModels.SeasonalNaiveKind) with { Window = 12 };

        var ex = Assert.Throws<PredictorException>(() => ForecastModels.SeasonalNaive(card, 24, SampleModels.Offsets()));

        Assert.Contains("window ≥ 24", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Linear_Evaluated_MatchesReferenceMatMulPlusBias(bool withCalendar)
    {
        int features = SampleModels.Window + (withCalendar ? CalendarFeatures.Width : 0);
        var model = ModelProto.Parser.ParseFrom(SampleModels.Build(withCalendar ? "linear_calendar" : "linear"));
        var window = Window(3, (row, k) => MathF.Sin((row * 7) + (k * 0.3f)) * 10);
        var calendar = new Tensor(new float[3 * CalendarFeatures.Width], [3, CalendarFeatures.Width]);
        for (int row = 0; row < 3; row++)
        {
            CalendarFeatures.Compute(1_700_000_000_000 + (row * 3_600_000L), calendar.Data.AsSpan(row * CalendarFeatures.Width, CalendarFeatures.Width));
        }

        var inputs = new Dictionary<string, Tensor> { ["window"] = window };
        if (withCalendar)
        {
            inputs["calendar"] = calendar;
        }

        var outputs = Run(model, inputs);

        float[] a = SampleModels.Weights(features), b = SampleModels.Bias(), offsets = SampleModels.Offsets();
        for (int row = 0; row < 3; row++)
        {
            float[] x = [.. window.Data.AsSpan(row * SampleModels.Window, SampleModels.Window), .. withCalendar ? calendar.Data.AsSpan(row * CalendarFeatures.Width, CalendarFeatures.Width) : []];
            for (int h = 0; h < SampleModels.Horizon; h++)
            {
                double expected = b[h];
                for (int k = 0; k < features; k++)
                {
                    expected += (double)x[k] * a[(k * SampleModels.Horizon) + h];
                }

                Assert.Equal(expected, outputs["forecast"].Data[(row * SampleModels.Horizon) + h], 1e-5);
                Assert.Equal(expected + offsets[h], outputs["upper"].Data[(row * SampleModels.Horizon) + h], 1e-5);
            }
        }
    }

    [Theory]
    [InlineData(WindowNormalization.Level)]
    [InlineData(WindowNormalization.LevelAndScale)]
    public void Linear_NormalisedGraph_FollowsTheSeriesLevelAndScale(WindowNormalization normalization)
    {
        // With in-graph normalisation the forecast of a·x + c is a·forecast(x) + c (for a > 0; exactly for Level,
        // up to ε for LevelAndScale), so one model serves series of any level (and scale).
        var model = ModelProto.Parser.ParseFrom(
            ForecastModels.Linear(SampleModels.Card("ssa"), SampleModels.Weights(SampleModels.Window), SampleModels.Bias(), withCalendar: false, normalization, SampleModels.Offsets()));
        var x = Window(1, (_, k) => MathF.Sin(k * 0.4f) + (0.1f * k));
        float a = normalization == WindowNormalization.Level ? 1f : 8f, c = 500f;
        var shifted = new Tensor([.. x.Data.Select(v => (a * v) + c)], x.Shape);

        var f = Run(model, new Dictionary<string, Tensor> { ["window"] = x })["forecast"].Data;
        var g = Run(model, new Dictionary<string, Tensor> { ["window"] = shifted })["forecast"].Data;

        for (int h = 0; h < SampleModels.Horizon; h++)
        {
            Assert.Equal((a * f[h]) + c, g[h], 1e-2);
        }

        OnnxChecker.AssertAccepted(model.ToByteArray(), normalization.ToString());
    }

    [Fact]
    public void Linear_WrongWeightCount_ThrowsNamingTheExpectedShape()
    {
        var ex = Assert.Throws<PredictorException>(() =>
            ForecastModels.Linear(SampleModels.Card("linear"), new float[10], SampleModels.Bias(), withCalendar: false, SampleModels.Offsets()));

        Assert.Contains("[48×12]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Naive_OffsetsOfWrongLengthOrNaN_Throw()
    {
        var card = SampleModels.Card(ForecastModels.NaiveKind);

        Assert.Throws<PredictorException>(() => ForecastModels.Naive(card, new float[3]));
        var nan = SampleModels.Offsets();
        nan[4] = float.NaN;
        var ex = Assert.Throws<PredictorException>(() => ForecastModels.Naive(card, nan));
        Assert.Contains("step 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Naive_CardOfAnotherKind_Throws()
    {
        Assert.Throws<PredictorException>(() => ForecastModels.Naive(SampleModels.Card("ssa"), SampleModels.Offsets()));
    }

    [Fact]
    public void WriteFile_UnwritableDirectory_ThrowsPredictorExceptionNamingThePath()
    {
        string blocker = Path.Combine(Path.GetTempPath(), $"predictor-blocker-{Guid.NewGuid():N}");
        File.WriteAllText(blocker, "a file where a directory should be");
        try
        {
            var ex = Assert.Throws<PredictorException>(() => ForecastModels.WriteFile(Path.Combine(blocker, "m.onnx"), [1, 2, 3]));
            Assert.Contains(blocker, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    public void WriteFile_OntoADirectory_ThrowsAndLeavesNoTemporaryFileBeside()
    {
        var folder = Directory.CreateTempSubdirectory("predictor-write-onto-");
        try
        {
            var ex = Assert.Throws<PredictorException>(() => ForecastModels.WriteFile(folder.FullName, [1, 2, 3]));

            Assert.Contains(folder.FullName, ex.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(folder.FullName + ".tmp"));
            Assert.True(Directory.Exists(folder.FullName));
        }
        finally
        {
            folder.Delete(recursive: true);
            File.Delete(folder.FullName + ".tmp");
        }
    }

    private static Tensor Window(int rows, Func<int, int, float> value)
    {
        var data = new float[rows * SampleModels.Window];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < SampleModels.Window; k++)
            {
                data[(r * SampleModels.Window) + k] = value(r, k);
            }
        }

        return new Tensor(data, [rows, SampleModels.Window]);
    }

    private static void AssertShape(ValueInfoProto info, long width)
    {
        var tensor = info.Type.TensorType;
        Assert.Equal((int)TensorProto.Types.DataType.Float, tensor.ElemType);
        Assert.Equal(2, tensor.Shape.Dim.Count);
        Assert.Equal("N", tensor.Shape.Dim[0].DimParam);
        Assert.Equal(width, tensor.Shape.Dim[1].DimValue);
    }
}

using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;

namespace Predictor.Engine.Tests.Onnx;

/// <summary>The contract check on hand-made descriptions: every kind of problem, all reported at once.</summary>
public class ModelContractCheckTests
{
    private static TensorInfo Float(string name, params long[] shape)
        => new(name, true, TensorElementType.Float, shape, shape.Select(d => d < 0 ? "N" : "").ToArray());

    private static Dictionary<string, string> Card(int window = 48, int horizon = 12) => new()
    {
        [ModelContract.Card.Kind] = "linear",
        [ModelContract.Card.Window] = window.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [ModelContract.Card.Horizon] = horizon.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [ModelContract.Card.StepSeconds] = "10",
        [ModelContract.Card.Quantile] = "0.9",
        [ModelContract.Card.SchemaVersion] = "1",
    };

    private static ModelDescription Model(IReadOnlyList<TensorInfo> inputs, IReadOnlyList<TensorInfo> outputs, Dictionary<string, string> card)
        => new(inputs, outputs, card, "test", "g", "", 1, "1.30.0");

    [Fact]
    public void Check_ContractModel_FitsWithShapeFromCard()
    {
        var fit = ModelContractCheck.Check(Model(
            [Float("window", -1, 48), Float("calendar", -1, CalendarFeatures.Width)],
            [Float("forecast", -1, 12), Float("upper", -1, 12)],
            Card()));

        Assert.True(fit.Fits, string.Join(" | ", fit.Problems));
        Assert.Equal(new ForecastShape(48, 12, CalendarFeatures.Width, TimeSpan.FromSeconds(10), 0.9), fit.Shape);
        Assert.Null(fit.StaticBatch);
    }

    [Fact]
    public void Check_StaticBatch_IsReported()
    {
        var fit = ModelContractCheck.Check(Model([Float("window", 1, 48)], [Float("forecast", 1, 12), Float("upper", 1, 12)], Card()));

        Assert.True(fit.Fits);
        Assert.Equal(1, fit.StaticBatch);
    }

    [Fact]
    public void Check_WrongTypesRanksAndWidths_ListsEveryProblem()
    {
        var fit = ModelContractCheck.Check(Model(
            [
                new TensorInfo("window", true, TensorElementType.Double, [-1, 48], ["N", ""]),
                Float("calendar", -1, 5),
            ],
            [Float("forecast", -1, 12, 1), Float("upper", -1, 6)],
            Card()));

        Assert.False(fit.Fits);
        Assert.Null(fit.Shape);
        Assert.Contains(fit.Problems, p => p.Contains("input 'window' is float64", StringComparison.Ordinal));
        Assert.Contains(fit.Problems, p => p.Contains("input 'calendar' has 5 columns", StringComparison.Ordinal));
        Assert.Contains(fit.Problems, p => p.Contains("output 'forecast' has shape float32[N,12,1] (rank 3)", StringComparison.Ordinal));
        Assert.Contains(fit.Problems, p => p.Contains("card says horizon 12 but the outputs have 6 columns", StringComparison.Ordinal));
        Assert.Equal(4, fit.Problems.Count);
    }

    [Fact]
    public void Check_CardDisagreesWithGraphAndBadValues_ListsEveryProblem()
    {
        var card = Card(window: 24, horizon: 12);
        card[ModelContract.Card.Quantile] = "1.5";
        card[ModelContract.Card.StepSeconds] = "ten";
        card[ModelContract.Card.SchemaVersion] = "2";
        card.Remove(ModelContract.Card.Kind);

        var fit = ModelContractCheck.Check(Model([Float("window", -1, 48)], [Float("forecast", -1, 12), Float("upper", -1, 12)], card));

        Assert.Equal(
            [
                "card key 'predictor.kind' is missing from metadata_props.",
                "card says window 24 but input 'window' has 48 columns.",
                "card key 'predictor.step_seconds' is 'ten'; it must be a positive number of seconds, at most 31536000 (a year), written in the invariant culture (e.g. 10 or 0.5).",
                "card key 'predictor.quantile' is '1.5'; it must be a number strictly between 0 and 1 (e.g. 0.9).",
                "card schema version is '2'; this engine reads schema version 1 only.",
            ],
            fit.Problems);
    }

    [Fact]
    public void Check_CardWindowHorizonOrStepBeyondTheContractsLimits_AreProblemsNotAShape()
    {
        var card = Card(window: 24, horizon: 12);
        card[ModelContract.Card.Window] = "2000000000";
        card[ModelContract.Card.Horizon] = "10001";
        card[ModelContract.Card.StepSeconds] = "1e300";

        var fit = ModelContractCheck.Check(Model([Float("window", -1, -1)], [Float("forecast", -1, -1), Float("upper", -1, -1)], card));

        Assert.Null(fit.Shape);
        Assert.Equal(
            [
                "card key 'predictor.window' is '2000000000'; it must be an integer from 1 to 100000.",
                "card key 'predictor.horizon' is '10001'; it must be an integer from 1 to 10000.",
                "card key 'predictor.step_seconds' is '1e300'; it must be a positive number of seconds, at most 31536000 (a year), written in the invariant culture (e.g. 10 or 0.5).",
            ],
            fit.Problems);
    }

    [Fact]
    public void Check_BatchDiffersBetweenTensors_IsAProblem()
    {
        var fit = ModelContractCheck.Check(Model([Float("window", 2, 48)], [Float("forecast", 3, 12), Float("upper", -1, 12)], Card()));

        var problem = Assert.Single(fit.Problems);
        Assert.Contains("'window' 2, 'forecast' 3", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NonTensorOutput_IsAProblem()
    {
        var fit = ModelContractCheck.Check(Model(
            [Float("window", -1, 48)],
            [Float("forecast", -1, 12), new TensorInfo("upper", false, TensorElementType.Undefined, [], [])],
            Card()));

        Assert.Equal(["output 'upper' is not a tensor; the contract wants float32 [N,H]."], fit.Problems);
    }
}

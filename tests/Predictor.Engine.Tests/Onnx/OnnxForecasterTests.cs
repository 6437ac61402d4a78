using Predictor.Engine.Forecasting;
using Predictor.Engine.Onnx;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Onnx;

/// <summary>Every model kind the writer emits, run on ONNX Runtime, against a C# reference (max abs error ≤ 1e-5).</summary>
public sealed class OnnxForecasterTests : IDisposable
{
    private const float Tolerance = 1e-5f;
    private readonly TestModels _models = new();

    public void Dispose() => _models.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void Forecast_Naive_MatchesReference(int n)
    {
        const int W = 48, H = 12;
        using var forecaster = ForecasterLoader.OpenOnnx(_models.Write("naive.onnx", TestModels.Naive(W, H)));
        var window = OnnxReference.RandomSeries(n * W, seed: n);
        var (forecast, upper) = Run(forecaster, window, [], n);

        var expectedForecast = new float[n * H];
        var expectedUpper = new float[n * H];
        OnnxReference.Naive(window, n, W, H, TestModels.Offsets(H), expectedForecast, expectedUpper);
        Assert.True(OnnxReference.MaxAbsDifference(expectedForecast, forecast) <= Tolerance);
        Assert.True(OnnxReference.MaxAbsDifference(expectedUpper, upper) <= Tolerance);
        Assert.Equal(new ForecastShape(W, H, 0, TimeSpan.FromSeconds(10), 0.9), forecaster.Shape);
    }

    [Theory]
    [InlineData(24, 12, 5)]
    [InlineData(48, 30, 12)]
    public void Forecast_SeasonalNaive_MatchesReference(int season, int horizon, int n)
    {
        const int W = 48;
        using var forecaster = ForecasterLoader.OpenOnnx(_models.Write("seasonal.onnx", TestModels.SeasonalNaive(W, horizon, season)));
        var window = OnnxReference.RandomSeries(n * W, seed: season);
        var (forecast, upper) = Run(forecaster, window, [], n);

        var expectedForecast = new float[n * horizon];
        var expectedUpper = new float[n * horizon];
        OnnxReference.SeasonalNaive(window, n, W, horizon, season, TestModels.Offsets(horizon), expectedForecast, expectedUpper);
        Assert.True(OnnxReference.MaxAbsDifference(expectedForecast, forecast) <= Tolerance);
        Assert.True(OnnxReference.MaxAbsDifference(expectedUpper, upper) <= Tolerance);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 64)]
    [InlineData(true, 7)]
    public void Forecast_Linear_MatchesReference(bool withCalendar, int n)
    {
        const int W = 48, H = 12;
        int c = withCalendar ? CalendarFeatures.Width : 0;
        byte[] model = TestModels.Linear(W, H, withCalendar, out var weights, out var bias);
        using var forecaster = ForecasterLoader.OpenOnnx(_models.Write("linear.onnx", model));
        // Utilisation as a fraction in [0, 1): outputs are O(1), where float32 resolves 1e-7, so the contract's
        // absolute bound of 1e-5 is meaningful (at a scale of 100 a single float32 ulp is already 7.6e-6).
        var window = OnnxReference.RandomSeries(n * W, seed: 11).Select(v => v / 100f).ToArray();
        var calendar = new float[n * c];
        for (int r = 0; r < n && c > 0; r++)
        {
            CalendarFeatures.Compute(1_700_000_000_000L + (r * 3_600_000L), calendar.AsSpan(r * c, c));
        }

        var (forecast, upper) = Run(forecaster, window, calendar, n);

        var expectedForecast = new float[n * H];
        var expectedUpper = new float[n * H];
        OnnxReference.Linear(window, calendar, n, W, c, H, weights, bias, TestModels.Offsets(H), expectedForecast, expectedUpper);
        Assert.Equal(c, forecaster.Shape.CalendarWidth);
        Assert.True(OnnxReference.MaxAbsDifference(expectedForecast, forecast) <= Tolerance, $"max abs error {OnnxReference.MaxAbsDifference(expectedForecast, forecast)}");
        Assert.True(OnnxReference.MaxAbsDifference(expectedUpper, upper) <= Tolerance, $"max abs error {OnnxReference.MaxAbsDifference(expectedUpper, upper)}");
    }

    [Fact]
    public void SessionOptions_SpinningOffWithTwoThreads_ModelStillForecasts()
    {
        var options = new OnnxSessionOptions { IntraOpThreads = 2, AllowSpinning = false };
        using var forecaster = ForecasterLoader.OpenOnnx(_models.Write("naive.onnx", TestModels.Naive(48, 12)), new OnnxForecasterOptions { Session = options });
        var window = Enumerable.Range(0, 2 * 48).Select(i => (float)i).ToArray();
        var forecast = new float[2 * 12];
        var upper = new float[2 * 12];

        forecaster.Forecast(window, [], 2, forecast, upper);

        Assert.All(forecast[..12], f => Assert.Equal(47f, f));
        Assert.All(forecast[12..], f => Assert.Equal(95f, f));
    }

    [Fact]
    public void Forecast_DifferentBatchSizesInTurn_EachRowEqualsItsSingleRowResult()
    {
        const int W = 48, H = 12;
        byte[] model = TestModels.Linear(W, H, withCalendar: false, out _, out _);
        using var forecaster = ForecasterLoader.OpenOnnx(_models.Write("linear.onnx", model), new OnnxForecasterOptions { MaxBatch = 8 });
        var window = OnnxReference.RandomSeries(8 * W, seed: 5);

        var (all, _) = Run(forecaster, window, [], 8);
        var (three, _) = Run(forecaster, window.AsSpan(0, 3 * W).ToArray(), [], 3);
        for (int r = 0; r < 8; r++)
        {
            var (one, _) = Run(forecaster, window.AsSpan(r * W, W).ToArray(), [], 1);
            Assert.Equal(one, all.AsSpan(r * H, H).ToArray());
        }

        Assert.Equal(all.AsSpan(0, 3 * H).ToArray(), three);
        Assert.Throws<ArgumentOutOfRangeException>(() => Run(forecaster, new float[9 * W], [], 9));
    }

    [Fact]
    public void Forecast_AfterWarmUp_AllocatesZeroManagedBytes()
    {
        const int W = 48, H = 12, N = 64;
        byte[] model = TestModels.Linear(W, H, withCalendar: true, out _, out _);
        using var forecaster = ForecasterLoader.OpenOnnx(_models.Write("linear.onnx", model));
        var window = OnnxReference.RandomSeries(N * W, seed: 1);
        var calendar = new float[N * CalendarFeatures.Width];
        var forecast = new float[N * H];
        var upper = new float[N * H];
        for (int i = 0; i < 10; i++)
        {
            forecaster.Forecast(window, calendar, N, forecast, upper);
            forecaster.Forecast(window.AsSpan(0, W), calendar.AsSpan(0, CalendarFeatures.Width), 1, forecast, upper);
        }

        Allocations.AssertSteadyStateAllocatesNothing(500, () =>
        {
            forecaster.Forecast(window, calendar, N, forecast, upper);
            forecaster.Forecast(window.AsSpan(0, W), calendar.AsSpan(0, CalendarFeatures.Width), 1, forecast, upper);
        });
    }

    [Fact]
    public void Open_RenamedInputAndOutputs_ThrowsModelContractExceptionNamingEachProblem()
    {
        // The length byte in front keeps "predictor.window" (a card key) out of the rename.
        byte[] model = TestModels.Rename(TestModels.Rename(TestModels.Naive(48, 12), "\u0006window", "\u0006wind0w"), "\u0005upper", "\u0005uppr2");
        string path = _models.Write("renamed.onnx", model);

        var ex = Assert.Throws<ModelContractException>(() => ForecasterLoader.OpenOnnx(path));

        Assert.Equal(
            [
                "input 'window' (float32 [N,W]) is missing; the model's inputs are 'wind0w' float32[N,48].",
                "input 'wind0w' is not part of the contract (allowed: 'window', optional 'calendar'); the engine cannot feed it.",
                "output 'upper' (float32 [N,H]) is missing; the model's outputs are 'forecast' float32[N,12], 'uppr2' float32[N,12].",
            ],
            ex.Problems);
        Assert.Contains(Path.GetFullPath(path), ex.Message, StringComparison.Ordinal);
        Assert.Contains("(3 problems)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CardDisagreesWithShapeAndLacksKeys_ThrowsModelContractExceptionNamingEachProblem()
    {
        byte[] model = TestModels.Naive(48, 12);
        // metadata_props entry: key, then field 2 (0x12), length 2, "48" → "24": the card now says W = 24.
        model = TestModels.Rename(model, "predictor.window\u0012\u000248", "predictor.window\u0012\u000224");
        model = TestModels.Rename(model, "predictor.quantile", "predictor.quantilX");
        model = TestModels.Rename(model, "predictor.kind", "predictor.kinX");
        string path = _models.Write("card.onnx", model);

        var ex = Assert.Throws<ModelContractException>(() => ForecasterLoader.OpenOnnx(path));

        Assert.Equal(
            [
                "card key 'predictor.kind' is missing from metadata_props.",
                "card key 'predictor.quantile' is missing from metadata_props.",
                "card says window 24 but input 'window' has 48 columns.",
            ],
            ex.Problems);
    }

    [Fact]
    public void Forecast_SpansOfWrongLength_ThrowArgumentExceptionSayingTheSizes()
    {
        using var forecaster = ForecasterLoader.OpenOnnx(_models.Write("naive.onnx", TestModels.Naive(48, 12)));

        var ex = Assert.Throws<ArgumentException>(() => forecaster.Forecast(new float[47], [], 1, new float[12], new float[12]));
        Assert.Contains("1 series × W=48 need 48", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => forecaster.Forecast(new float[48], new float[4], 1, new float[12], new float[12]));
        Assert.Throws<ArgumentException>(() => forecaster.Forecast(new float[48], [], 1, new float[11], new float[12]));
    }

    private static (float[] Forecast, float[] Upper) Run(IForecaster forecaster, float[] window, float[] calendar, int n)
    {
        var forecast = new float[n * forecaster.Shape.Horizon];
        var upper = new float[n * forecaster.Shape.Horizon];
        forecaster.Forecast(window, calendar, n, forecast, upper);
        return (forecast, upper);
    }
}

using Predictor.Engine.Forecasting;
using Predictor.Training.Features;
using Predictor.Training.Onnx;
using Predictor.Training.Trees;

namespace Predictor.Training.Tests.Trees;

/// <summary>
/// The exported file run by the official ONNX Runtime (1.30, through the engine's own binding, exactly as the control
/// loop runs it) computes what <see cref="GbdtModel.Predict(ReadOnlySpan{float}, Span{float})"/> computes.
/// </summary>
public sealed class GbdtOnnxRuntimeTests
{
    private const int Horizon = 12;

    private static readonly float[] Offsets = [.. Enumerable.Range(1, Horizon).Select(h => 0.25f * h)];

    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public GbdtOnnxRuntimeTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(true, true, GbdtTreeLayout.PerStep)]
    [InlineData(false, false, GbdtTreeLayout.PerStep)]
    [InlineData(true, true, GbdtTreeLayout.Shared)]
    [InlineData(false, false, GbdtTreeLayout.Shared)]
    public void Forecast_ExportedModelInOnnxRuntime_MatchesPredictOnHeldOutRows(bool calendar, bool difference, GbdtTreeLayout trees)
    {
        const int window = 24;
        var (values, stamps) = NabSeries.Read(NabSeries.Asg, maxPoints: 8640);
        var train = SupervisedWindows.Build(values, stamps, window, Horizon, calendar, lastOrigin: 6000);
        var test = SupervisedWindows.Build(values, stamps, window, Horizon, calendar, firstOrigin: 6013, stride: 5);
        var model = GradientBoostedTrees.Fit(train, window, new GbdtOptions { MaxIterations = 60, PredictDifference = difference, Trees = trees });

        // A NaN inside the window (not the last value, which is added back) fails every ≤ and goes right in both.
        var (forecast, upper) = RunInOnnxRuntime(model, test, calendar ? CalendarFeatures.Width : 0, nanAt: 3);
        test.Features[3] = float.NaN;
        Assert.All(forecast.AsSpan(0, Horizon).ToArray(), v => Assert.True(float.IsFinite(v)));

        double worst = AssertMatchesPredict(model, test, forecast, upper, values.Max() - values.Min());
        _output.WriteLine($"{test.Rows} rows × {Horizon} steps, {model.TreeCount} trees ({trees}; per step {string.Join(' ', model.TreesPerHorizon)}): max |ORT − Predict| = {worst:G3}.");
        if (trees == GbdtTreeLayout.Shared)
        {
            // Some steps stop before others, so leaves leave out the weights of steps after their best round.
            Assert.True(model.TreesPerHorizon.Min() < model.TreeCount, "Every step kept every tree.");
        }
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Forecast_SeasonMovesModelInOnnxRuntime_ReadsTheRawWindowAndMatchesPredict(GbdtTreeLayout trees)
    {
        var features = new TreeFeatures(Window: 288, Lags: 24, SeasonMoves: Horizon - 1);
        var (values, stamps) = NabSeries.Read(NabSeries.Asg, maxPoints: 8640);
        var train = SupervisedWindows.Build(values, stamps, features, Horizon, true, lastOrigin: 6000);
        var test = SupervisedWindows.Build(values, stamps, features, Horizon, true, firstOrigin: 6013, stride: 5);
        var raw = SupervisedWindows.Build(values, stamps, features.Window, Horizon, true, firstOrigin: 6013, stride: 5);
        var model = GradientBoostedTrees.Fit(train, features, new GbdtOptions { MaxIterations = 60, Trees = trees });

        // The graph is fed the raw 288-wide windows and builds the moves and lags itself.
        var (forecast, upper) = RunInOnnxRuntime(model, raw, CalendarFeatures.Width);

        Assert.Equal(test.Rows, raw.Rows);
        double worst = AssertMatchesPredict(model, test, forecast, upper, values.Max() - values.Min());
        _output.WriteLine($"{test.Rows} rows, {model.TreeCount} trees ({trees}), season moves {features.SeasonMoves}: max |ORT − Predict| = {worst:G3}.");
    }

    /// <summary>Exports <paramref name="model"/> and runs it on ONNX Runtime over the rows of <paramref name="raw"/>
    /// (its first W floats are the window the graph reads, then <paramref name="calendar"/> calendar floats).</summary>
    private static (float[] Forecast, float[] Upper) RunInOnnxRuntime(GbdtModel model, SupervisedWindows raw, int calendar, int? nanAt = null)
    {
        int w = model.Window;
        var card = new ModelCard { Kind = GbdtOnnx.Kind, Window = w, Horizon = Horizon, StepSeconds = 300 };
        string path = Path.Combine(Path.GetTempPath(), $"predictor-gbdt-{Guid.NewGuid():N}.onnx");
        ForecastModels.WriteFile(path, GbdtOnnx.Export(model, card, Offsets));
        try
        {
            int n = raw.Rows;
            var windows = new float[n * w];
            var calendars = new float[n * calendar];
            for (int r = 0; r < n; r++)
            {
                raw.Features.AsSpan(r * raw.FeatureWidth, w).CopyTo(windows.AsSpan(r * w));
                raw.Features.AsSpan((r * raw.FeatureWidth) + w, calendar).CopyTo(calendars.AsSpan(r * calendar));
            }

            if (nanAt is int i)
            {
                windows[i] = float.NaN;
            }

            var forecast = new float[n * Horizon];
            var upper = new float[n * Horizon];
            using var forecaster = ForecasterLoader.OpenOnnx(path, new Engine.Onnx.OnnxForecasterOptions { MaxBatch = n });
            Assert.Equal(new ForecastShape(w, Horizon, calendar, TimeSpan.FromSeconds(300), 0.9), forecaster.Shape);
            forecaster.Forecast(windows, calendars, n, forecast, upper);
            return (forecast, upper);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Asserts ORT's forecast is Predict's to within 1e-4 of the series' range and upper = forecast + offsets; returns the largest difference.</summary>
    private static double AssertMatchesPredict(GbdtModel model, SupervisedWindows rows, float[] forecast, float[] upper, double scale)
    {
        var expected = model.Predict(rows);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(forecast[i] - expected[i]));
            Assert.Equal(forecast[i] + Offsets[i % Horizon], upper[i], 1e-3);
        }

        Assert.True(worst <= 1e-4 * scale, $"ONNX Runtime differs from GbdtModel.Predict by up to {worst} (scale {scale:F1}, {rows.Rows} rows).");
        return worst;
    }
}

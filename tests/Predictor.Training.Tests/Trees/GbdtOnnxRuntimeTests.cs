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
        const int horizon = 12;
        var (values, stamps) = NabSeries.Read(NabSeries.Asg, maxPoints: 8640);
        var train = SupervisedWindows.Build(values, stamps, window, horizon, calendar, lastOrigin: 6000);
        var test = SupervisedWindows.Build(values, stamps, window, horizon, calendar, firstOrigin: 6013, stride: 5);
        var model = GradientBoostedTrees.Fit(train, window, new GbdtOptions { MaxIterations = 60, PredictDifference = difference, Trees = trees });
        var offsets = Enumerable.Range(1, horizon).Select(h => 0.25f * h).ToArray();
        var card = new ModelCard { Kind = GbdtOnnx.Kind, Window = window, Horizon = horizon, StepSeconds = 300 };
        string path = Path.Combine(Path.GetTempPath(), $"predictor-gbdt-{Guid.NewGuid():N}.onnx");
        ForecastModels.WriteFile(path, GbdtOnnx.Export(model, card, offsets));
        try
        {
            int n = test.Rows;
            int c = calendar ? CalendarFeatures.Width : 0;
            var windows = new float[n * window];
            var calendars = new float[n * c];
            for (int r = 0; r < n; r++)
            {
                test.Features.AsSpan(r * test.FeatureWidth, window).CopyTo(windows.AsSpan(r * window));
                test.Features.AsSpan((r * test.FeatureWidth) + window, c).CopyTo(calendars.AsSpan(r * c));
            }

            var forecast = new float[n * horizon];
            var upper = new float[n * horizon];
            using var forecaster = ForecasterLoader.OpenOnnx(path, new Engine.Onnx.OnnxForecasterOptions { MaxBatch = n });
            Assert.Equal(new ForecastShape(window, horizon, c, TimeSpan.FromSeconds(300), 0.9), forecaster.Shape);

            // A NaN inside the window (not the last value, which is added back) fails every ≤ and goes right in both.
            windows[3] = float.NaN;
            test.Features[3] = float.NaN;
            forecaster.Forecast(windows, calendars, n, forecast, upper);
            Assert.All(forecast.AsSpan(0, horizon).ToArray(), v => Assert.True(float.IsFinite(v)));

            var expected = model.Predict(test);
            double scale = values.Max() - values.Min();
            double worst = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(forecast[i] - expected[i]));
                Assert.Equal(forecast[i] + offsets[i % horizon], upper[i], 1e-3);
            }

            _output.WriteLine($"{n} rows × {horizon} steps, {model.TreeCount} trees ({trees}; per step {string.Join(' ', model.TreesPerHorizon)}): max |ORT − Predict| = {worst:G3} (range {scale:F1}).");
            if (trees == GbdtTreeLayout.Shared)
            {
                // Some steps stop before others, so leaves leave out the weights of steps after their best round.
                Assert.True(model.TreesPerHorizon.Min() < model.TreeCount, "Every step kept every tree.");
            }

            Assert.True(worst <= 1e-4 * scale, $"ONNX Runtime differs from GbdtModel.Predict by up to {worst} (scale {scale:F1}, {n} rows).");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Forecast_SeasonMovesModelInOnnxRuntime_ReadsTheRawWindowAndMatchesPredict(GbdtTreeLayout trees)
    {
        const int horizon = 12;
        var features = new TreeFeatures(Window: 288, Lags: 24, SeasonMoves: horizon - 1);
        var (values, stamps) = NabSeries.Read(NabSeries.Asg, maxPoints: 8640);
        var train = SupervisedWindows.Build(values, stamps, features, horizon, true, lastOrigin: 6000);
        var test = SupervisedWindows.Build(values, stamps, features, horizon, true, firstOrigin: 6013, stride: 5);
        var raw = SupervisedWindows.Build(values, stamps, features.Window, horizon, true, firstOrigin: 6013, stride: 5);
        var model = GradientBoostedTrees.Fit(train, features, new GbdtOptions { MaxIterations = 60, Trees = trees });
        var offsets = Enumerable.Range(1, horizon).Select(h => 0.25f * h).ToArray();
        var card = new ModelCard { Kind = GbdtOnnx.Kind, Window = features.Window, Horizon = horizon, StepSeconds = 300 };
        string path = Path.Combine(Path.GetTempPath(), $"predictor-gbdt-moves-{Guid.NewGuid():N}.onnx");
        ForecastModels.WriteFile(path, GbdtOnnx.Export(model, card, offsets));
        try
        {
            int n = raw.Rows;
            int w = features.Window;
            int c = CalendarFeatures.Width;
            var windows = new float[n * w];
            var calendars = new float[n * c];
            for (int r = 0; r < n; r++)
            {
                raw.Features.AsSpan(r * raw.FeatureWidth, w).CopyTo(windows.AsSpan(r * w));
                raw.Features.AsSpan((r * raw.FeatureWidth) + w, c).CopyTo(calendars.AsSpan(r * c));
            }

            var forecast = new float[n * horizon];
            var upper = new float[n * horizon];
            using var forecaster = ForecasterLoader.OpenOnnx(path, new Engine.Onnx.OnnxForecasterOptions { MaxBatch = n });
            Assert.Equal(new ForecastShape(w, horizon, c, TimeSpan.FromSeconds(300), 0.9), forecaster.Shape);
            forecaster.Forecast(windows, calendars, n, forecast, upper);

            var expected = model.Predict(test);
            double scale = values.Max() - values.Min();
            double worst = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(forecast[i] - expected[i]));
                Assert.Equal(forecast[i] + offsets[i % horizon], upper[i], 1e-3);
            }

            _output.WriteLine($"{n} rows, {model.TreeCount} trees ({trees}), season moves {features.SeasonMoves}: max |ORT − Predict| = {worst:G3} (range {scale:F1}).");
            Assert.True(worst <= 1e-4 * scale, $"ONNX Runtime differs from GbdtModel.Predict by up to {worst} (scale {scale:F1}, {n} rows).");
        }
        finally
        {
            File.Delete(path);
        }
    }
}

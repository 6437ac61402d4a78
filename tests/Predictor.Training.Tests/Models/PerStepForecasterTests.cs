using Predictor.Engine.Forecasting;
using Predictor.Training.Features;
using Predictor.Training.Models;
using Predictor.Training.Onnx;
using Predictor.Training.Tests.Onnx;
using Predictor.Training.Tests.Trees;
using Predictor.Training.Trees;

namespace Predictor.Training.Tests.Models;

public sealed class PerStepForecasterTests
{
    private const int Window = 288;
    private const int Horizon = 12;

    /// <summary>Five members of every branch type: gathers (naive, seasonal naive), a level-normalised linear map, a
    /// nested combination (two linear maps, one with the calendar, and seasonal naive) and W = 24 trees with the calendar.</summary>
    private static readonly Lazy<(IExportableForecaster[] Members, double[] Values, long[] Stamps)> Built = new(Build);

    private static (IExportableForecaster[] Members, double[] Values, long[] Stamps) Members() => Built.Value;

    private static (IExportableForecaster[] Members, double[] Values, long[] Stamps) Build()
    {
        var (values, stamps) = NabSeries.Read(NabSeries.Asg, maxPoints: 4000);
        var rng = new Random(5);
        float[] Weights(int features) => [.. Enumerable.Range(0, features * Horizon).Select(_ => (float)((rng.NextDouble() - 0.5) * 0.02))];
        float[] Bias() => [.. Enumerable.Range(0, Horizon).Select(_ => (float)(rng.NextDouble() - 0.5))];
        var ssaLike = new LinearMapForecaster("ssa", Window, Horizon, Weights(Window), new float[Horizon], withCalendar: false, WindowNormalization.Level);
        var ridgeLike = new LinearMapForecaster("ridge", Window, Horizon, Weights(Window + CalendarFeatures.Width), Bias(), withCalendar: true, WindowNormalization.LevelAndScale);
        var rows = SupervisedWindows.Build(values, stamps, 24, Horizon, withCalendar: true, lastOrigin: 3000);
        var trees = new GbdtForecaster(GradientBoostedTrees.Fit(rows, 24, new GbdtOptions { MaxIterations = 20 }));
        IExportableForecaster[] members =
        [
            new NaiveForecaster(Window),
            new SeasonalNaiveForecaster(Window),
            ssaLike,
            new CombinationForecaster([ssaLike, ridgeLike, new SeasonalNaiveForecaster(Window)], Horizon),
            trees,
        ];
        return (members, values, stamps);
    }

    [Fact]
    public void Export_FiveKindsOfBranch_PassesTheCheckerAndOnnxRuntimeMatchesTheCSharpCompositeColumnByColumn()
    {
        var (members, values, stamps) = Members();
        int[] stepMember = [4, 0, 2, 3, 1, 1, 2, 3, 4, 4, 0, 2];
        var composite = new PerStepForecaster(members, stepMember);
        float[] offsets = [.. Enumerable.Range(1, Horizon).Select(h => 0.5f * h)];
        byte[] bytes = composite.Export(new ModelCard { Kind = "x", Window = 1, Horizon = Horizon, StepSeconds = 300 }, offsets);
        OnnxChecker.AssertAccepted(bytes, "per_step");

        string path = Path.Combine(Path.GetTempPath(), $"predictor-per-step-{Guid.NewGuid():N}.onnx");
        ForecastModels.WriteFile(path, bytes);
        try
        {
            int[] origins = [.. Enumerable.Range(0, 16).Select(i => 3100 + (53 * i))];
            int n = origins.Length, c = CalendarFeatures.Width;
            var windows = new float[n * Window];
            var calendars = new float[n * c];
            for (int r = 0; r < n; r++)
            {
                for (int k = 0; k < Window; k++)
                {
                    windows[(r * Window) + k] = (float)values[origins[r] - Window + 1 + k];
                }

                CalendarFeatures.Compute(stamps[origins[r]], calendars.AsSpan(r * c, c));
            }

            using var engine = ForecasterLoader.OpenOnnx(path, new Engine.Onnx.OnnxForecasterOptions { MaxBatch = n });
            Assert.Equal(new ForecastShape(Window, Horizon, c, TimeSpan.FromSeconds(300), 0.9), engine.Shape);
            var forecast = new float[n * Horizon];
            var upper = new float[n * Horizon];
            engine.Forecast(windows, calendars, n, forecast, upper);

            var expected = new double[Horizon];
            var member = new double[Horizon];
            for (int r = 0; r < n; r++)
            {
                // The C# forecaster reads the float32 window the engine reads.
                double[] history = [.. windows.AsSpan(r * Window, Window).ToArray().Select(v => (double)v)];
                composite.Forecast(history, stamps[origins[r]], expected);
                for (int k = 0; k < Horizon; k++)
                {
                    members[stepMember[k]].Forecast(history, stamps[origins[r]], member);
                    Assert.Equal(member[k], expected[k]); // column k is member stepMember[k]'s column k
                    float got = forecast[(r * Horizon) + k];
                    Assert.True(Math.Abs(got - expected[k]) <= 1e-4 * Math.Max(1, Math.Abs(expected[k])), $"origin {origins[r]} step {k + 1}: ORT {got} vs C# {expected[k]}");
                    Assert.Equal(got + offsets[k], upper[(r * Horizon) + k], 1e-3);
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Export_Card_RecordsTheKindOfEveryStepAndTheMembers()
    {
        var (members, _, _) = Members();
        var composite = new PerStepForecaster([members[2], members[0]], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);

        byte[] bytes = composite.Export(new ModelCard { Kind = "x", Window = 1, Horizon = Horizon, StepSeconds = 300 }, new float[Horizon]);
        var model = Predictor.Training.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes);
        var card = ModelCard.FromMetadata(model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)), "per_step");

        Assert.Equal((PerStepForecaster.PerStepKind, Window, Horizon), (card.Kind, card.Window, card.Horizon));
        Assert.Equal("ssa,ssa,ssa,ssa,ssa,ssa,naive,naive,naive,naive,naive,naive", card.Extra[PerStepForecaster.StepKindsKey]);
        Assert.Equal("ssa,naive", card.Extra[CombinationForecaster.MembersKey]);
        Assert.Equal(bytes, composite.Export(new ModelCard { Kind = "x", Window = 1, Horizon = Horizon, StepSeconds = 300 }, new float[Horizon]));
    }

    [Fact]
    public void Constructor_MemberServingNoStep_Throws()
    {
        var (members, _, _) = Members();

        var ex = Assert.Throws<ArgumentException>(() => new PerStepForecaster([members[0], members[1], members[2]], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]));
        Assert.Contains("serves no step", ex.Message, StringComparison.Ordinal);
    }
}

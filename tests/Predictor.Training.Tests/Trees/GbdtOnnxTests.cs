using System.Diagnostics;
using Predictor.Engine;
using Predictor.Engine.Forecasting;
using Predictor.TestSupport;
using Predictor.Training.Features;
using Predictor.Training.Onnx;
using Predictor.Training.Onnx.Proto;
using Predictor.Training.Tests.Onnx;
using Predictor.Training.Trees;

namespace Predictor.Training.Tests.Trees;

public sealed class GbdtOnnxTests
{
    private const int Window = 24;
    private const int Horizon = 12;

    private static readonly Lazy<(GbdtModel Model, SupervisedWindows Test, double Scale)> AsgModel = new(() => FitAsg(GbdtTreeLayout.PerStep));

    private static readonly Lazy<(GbdtModel Model, SupervisedWindows Test, double Scale)> AsgSharedModel = new(() => FitAsg(GbdtTreeLayout.Shared));

    private static (GbdtModel Model, SupervisedWindows Test, double Scale) FitAsg(GbdtTreeLayout trees)
    {
        var (values, stamps) = NabSeries.Read(NabSeries.Asg, maxPoints: 8640);
        var train = SupervisedWindows.Build(values, stamps, Window, Horizon, true, lastOrigin: 6000);
        var test = SupervisedWindows.Build(values, stamps, Window, Horizon, true, firstOrigin: 6013, stride: 11);
        var model = GradientBoostedTrees.Fit(train, Window, new GbdtOptions { MaxIterations = 60, Trees = trees });
        return (model, test, values.Max() - values.Min());
    }

    private static (GbdtModel Model, SupervisedWindows Test, double Scale) Asg(GbdtTreeLayout trees) =>
        trees == GbdtTreeLayout.Shared ? AsgSharedModel.Value : AsgModel.Value;

    private static ModelCard Card(GbdtModel model) => new()
    {
        Kind = GbdtOnnx.Kind, Window = model.Window, Horizon = model.Horizon, StepSeconds = 300, Series = ["asg_misconfiguration"],
    };

    private static float[] Offsets(int horizon) => [.. Enumerable.Range(1, horizon).Select(h => 0.5f * h)];

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Export_FittedModel_OnnxCheckerAcceptsIt(GbdtTreeLayout trees)
    {
        var (model, _, _) = Asg(trees);

        var bytes = GbdtOnnx.Export(model, Card(model), Offsets(Horizon));

        OnnxChecker.AssertAccepted(bytes, "gbdt");
        var proto = ModelProto.Parser.ParseFrom(bytes);
        var ensemble = Assert.Single(proto.Graph.Node, n => n.OpType == "TreeEnsembleRegressor");
        Assert.Equal(GraphBuilder.MlDomain, ensemble.Domain);
        Assert.Equal(Horizon, ensemble.Attribute.Single(a => a.Name == "n_targets").I);
        Assert.Contains(proto.MetadataProps, p => p.Key == GbdtOnnx.TreesKey && p.Value == model.TreeCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(proto.OpsetImport, o => o.Domain == GraphBuilder.MlDomain && o.Version == GbdtOnnx.MlOpset);

        // One target weight per leaf and step it serves: its own step (per-step trees), or every step whose best
        // round the tree does not follow (shared trees).
        var modes = ensemble.Attribute.Single(a => a.Name == "nodes_modes").Strings;
        var nodeTrees = ensemble.Attribute.Single(a => a.Name == "nodes_treeids").Ints;
        var targetIds = ensemble.Attribute.Single(a => a.Name == "target_ids").Ints;
        var targetTrees = ensemble.Attribute.Single(a => a.Name == "target_treeids").Ints;
        int expected = 0;
        for (int i = 0; i < modes.Count; i++)
        {
            if (modes[i].ToStringUtf8() == "LEAF")
            {
                expected += trees == GbdtTreeLayout.Shared ? model.TreesPerHorizon.Count(b => nodeTrees[i] < b) : 1;
            }
        }

        Assert.Equal(expected, targetIds.Count);
        if (trees == GbdtTreeLayout.Shared)
        {
            Assert.All(Enumerable.Range(0, targetIds.Count), j => Assert.True(targetTrees[j] < model.TreesPerHorizon[(int)targetIds[j]]));
        }

        Assert.Equal(targetIds.Count, ensemble.Attribute.Single(a => a.Name == "target_weights").Floats.Count);
        Assert.Equal(model.TreeCount, ensemble.Attribute.Single(a => a.Name == "nodes_treeids").Ints.Distinct().Count());
        Assert.All(Enumerable.Range(0, Horizon), h => Assert.Contains((long)h, targetIds));
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Export_SameModelTwice_SameBytes(GbdtTreeLayout trees)
    {
        var (model, _, _) = Asg(trees);

        Assert.Equal(GbdtOnnx.Export(model, Card(model), Offsets(Horizon)), GbdtOnnx.Export(model, Card(model), Offsets(Horizon)));
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Export_HeldOutRows_IndependentWalkOfTheFileMatchesPredict(GbdtTreeLayout trees)
    {
        var (model, test, scale) = Asg(trees);
        var bytes = GbdtOnnx.Export(model, Card(model), Offsets(Horizon));

        var (forecast, upper) = EvaluateInPython(bytes, test, Window, CalendarFeatures.Width);

        var expected = model.Predict(test);
        var offsets = Offsets(Horizon);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(forecast[i] - expected[i]));
            Assert.Equal(forecast[i] + offsets[i % Horizon], upper[i], 1e-3);
        }

        Assert.True(worst <= 1e-4 * scale, $"The ONNX graph differs from GbdtModel.Predict by up to {worst} (scale {scale}).");
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Export_SeasonMoves_CheckerAcceptsAndAnIndependentWalkOfTheRawWindowsMatchesPredict(GbdtTreeLayout trees)
    {
        var features = new TreeFeatures(Window: 288, Lags: Window, SeasonMoves: Horizon - 1);
        var (values, stamps) = NabSeries.Read(NabSeries.Asg, maxPoints: 8640);
        var train = SupervisedWindows.Build(values, stamps, features, Horizon, true, lastOrigin: 6000);
        var test = SupervisedWindows.Build(values, stamps, features, Horizon, true, firstOrigin: 6013, stride: 11);
        var raw = SupervisedWindows.Build(values, stamps, features.Window, Horizon, true, firstOrigin: 6013, stride: 11);
        var model = GradientBoostedTrees.Fit(train, features, new GbdtOptions { MaxIterations = 60, Trees = trees });
        Assert.Contains(model.NodeFeatures.ToArray(), f => f >= 0 && f < features.SeasonMoves);

        var bytes = GbdtOnnx.Export(model, Card(model), Offsets(Horizon));

        OnnxChecker.AssertAccepted(bytes, "gbdt with season moves");
        var proto = ModelProto.Parser.ParseFrom(bytes);
        Assert.Contains(proto.MetadataProps, p => p.Key == GbdtOnnx.SeasonMovesKey && p.Value == "11");
        Assert.Contains(proto.MetadataProps, p => p.Key == GbdtOnnx.LagsKey && p.Value == "24");

        // Window columns are read with Slice (moves' later and start columns, the lags, x(t)), never Gather, which
        // ONNX Runtime 1.30 copies element by element (README, "Tree budget").
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "Gather");
        Assert.Equal(4, proto.Graph.Node.Count(n => n.OpType == "Slice"));
        Assert.Equal(test.Rows, raw.Rows);
        var (forecast, upper) = EvaluateInPython(bytes, raw, features.Window, CalendarFeatures.Width);
        var expected = model.Predict(test);
        double scale = values.Max() - values.Min();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(forecast[i] - expected[i]) <= 1e-4 * scale, $"Row {i / Horizon}, step {(i % Horizon) + 1}: graph {forecast[i]}, Predict {expected[i]}.");
            Assert.Equal(forecast[i] + Offsets(Horizon)[i % Horizon], upper[i], 1e-3);
        }
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Export_NoCalendarNoDifference_IndependentWalkMatchesPredict(GbdtTreeLayout trees)
    {
        var (values, stamps) = NabSeries.Read(NabSeries.RdsE47b3b);
        var train = SupervisedWindows.Build(values, stamps, 12, 3, false, lastOrigin: 3000);
        var test = SupervisedWindows.Build(values, stamps, 12, 3, false, firstOrigin: 3004, stride: 7);
        var model = GradientBoostedTrees.Fit(train, 12, new GbdtOptions { MaxIterations = 40, PredictDifference = false, MaxDepth = 4, Trees = trees });
        var card = new ModelCard { Kind = GbdtOnnx.Kind, Window = 12, Horizon = 3, StepSeconds = 300 };
        var bytes = GbdtOnnx.Export(model, card, [1f, 2f, 3f]);
        OnnxChecker.AssertAccepted(bytes, "gbdt without calendar");

        var (forecast, _) = EvaluateInPython(bytes, test, 12, 0);

        var expected = model.Predict(test);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], forecast[i], 1e-3);
        }
    }

    [Theory]
    [InlineData(GbdtTreeLayout.PerStep)]
    [InlineData(GbdtTreeLayout.Shared)]
    public void Export_ConstantSeriesWithoutTrees_StillAValidModelForecastingTheLastValue(GbdtTreeLayout trees)
    {
        var values = Enumerable.Repeat(7.0, 400).ToArray();
        var stamps = Enumerable.Range(0, 400).Select(i => i * 300_000L).ToArray();
        var data = SupervisedWindows.Build(values, stamps, 6, 2, true);
        var model = GradientBoostedTrees.Fit(data, 6, new GbdtOptions { Trees = trees });
        Assert.Equal(0, model.TreeCount);
        var bytes = GbdtOnnx.Export(model, new ModelCard { Kind = GbdtOnnx.Kind, Window = 6, Horizon = 2, StepSeconds = 300 }, [0f, 0f]);

        OnnxChecker.AssertAccepted(bytes, "gbdt without trees");
        var (forecast, _) = EvaluateInPython(bytes, data, 6, CalendarFeatures.Width);
        Assert.All(forecast, v => Assert.Equal(7f, v));
    }

    [Fact]
    public void Export_CardOfAnotherShape_ThrowsPredictorException()
    {
        var (model, _, _) = AsgModel.Value;
        var card = Card(model) with { Horizon = 6 };

        var e = Assert.Throws<PredictorException>(() => GbdtOnnx.Export(model, card, Offsets(6)));
        Assert.Contains("horizon 6", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs onnx_tree_eval.py on the file: forecast and upper, each [Rows, H].</summary>
    internal static (float[] Forecast, float[] Upper) EvaluateInPython(byte[] model, SupervisedWindows rows, int window, int calendar)
    {
        string dir = Directory.CreateTempSubdirectory("gbdt-onnx-").FullName;
        try
        {
            int n = rows.Rows;
            int width = rows.FeatureWidth;
            var w = new float[n * window];
            var c = new float[n * calendar];
            for (int r = 0; r < n; r++)
            {
                rows.Features.AsSpan(r * width, window).CopyTo(w.AsSpan(r * window));
                rows.Features.AsSpan((r * width) + window, calendar).CopyTo(c.AsSpan(r * calendar));
            }

            File.WriteAllBytes(Path.Combine(dir, "model.onnx"), model);
            File.WriteAllBytes(Path.Combine(dir, "window.f32"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()).ToArray());
            File.WriteAllBytes(Path.Combine(dir, "calendar.f32"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.AsSpan()).ToArray());
            var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string arg in new[]
            {
                RepoPaths.InRepo("tests", "Predictor.Training.Tests", "Trees", "onnx_tree_eval.py"),
                Path.Combine(dir, "model.onnx"), Path.Combine(dir, "window.f32"), calendar > 0 ? Path.Combine(dir, "calendar.f32") : "-",
                n.ToString(System.Globalization.CultureInfo.InvariantCulture), Path.Combine(dir, "out.f32"),
            })
            {
                start.ArgumentList.Add(arg);
            }

            using (var process = Process.Start(start)!)
            {
                string stderr = process.StandardError.ReadToEnd();
                process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"onnx_tree_eval.py failed: {stderr}");
            }

            var bytes = File.ReadAllBytes(Path.Combine(dir, "out.f32"));
            var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            int h = all.Length / (2 * n);
            return (all[..(n * h)], all[(n * h)..]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Predictor.Engine;
using Predictor.Engine.Telemetry;
using Predictor.Training.Backtesting;
using Predictor.Training.Data;
using Predictor.Training.Features;
using Predictor.Training.Models;
using Predictor.Training.Onnx;
using Predictor.Training.Regression;
using Predictor.Training.Ssa;
using Predictor.Training.Trees;

namespace Predictor.Training.Pipeline;

/// <summary>
/// Trains one model from one or more series: fits every candidate (SSA, ridge, gbdt, combination) on the training part
/// of each series (and, for the test part, again on training + calibration: <see cref="TrainingOptions.RefitBeforeTest"/>),
/// backtests candidates and baselines (naive, seasonal naive, decayed p90) from rolling origins, selects the
/// candidate or exportable baseline with the lowest mean calibration MASE, refits it on all the data, calibrates
/// <c>upper</c> by split conformal, and writes the ONNX model with its card. Deterministic: the same series and
/// options give the same bytes.
/// </summary>
public static class ModelTrainer
{
    /// <summary>SSA ranks tried (with the one from the spectrum's explained variance); selection keeps the best on calibration.</summary>
    internal static IReadOnlyList<int> SsaRankGrid { get; } = [1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96];

    /// <summary>Trains a model; throws <see cref="PredictorException"/> when the data cannot support it (and says why).</summary>
    public static TrainingResult Train(IReadOnlyList<RecordedSeries> series, TrainingOptions options, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var setup = Setup.From(series, options);
        var prepared = setup.Prepared;
        var backtests = prepared.Select(p => new Backtest(p, options.Horizon, setup.SeasonSteps, options.BacktestShare)).ToList();

        // Candidates, fitted on the training parts only; with RefitBeforeTest each is fitted again on the training and
        // calibration parts to forecast the test part (the second fit chooses nothing: rank, kind and offsets come from
        // the first).
        var candidates = new List<(IExportableForecaster Model, string Detail, IExportableForecaster TestModel)>();
        int stage = 0, stages = 5;
        bool combine = options.Kinds.Contains(CombinationForecaster.CombinationKind) && setup.Window == setup.SeasonSteps;
        bool refit = options.RefitBeforeTest;
        var trainParts = backtests.Select(b => (b.Series, b.TrainEnd)).ToList();
        var testParts = backtests.Select(b => (b.Series, b.CalibrationEnd)).ToList();
        var ssaCentring = SsaCentring.Series;
        IReadOnlyList<int>? gbdtRounds = null;
        var gbdtLoss = options.GbdtLoss == GbdtLossChoice.Absolute ? GbdtLoss.AbsoluteError : GbdtLoss.SquaredError;
        if (options.Kinds.Contains("ssa") || combine)
        {
            progress?.Report(new("fitting SSA", (double)stage++ / stages));
            ssaCentring = Resolve(options.SsaCentring, testParts, setup);
            var (ssa, rank) = FitSsaSelectingRank(backtests, setup, options, ssaCentring);
            candidates.Add((ssa, rank, refit ? FitSsa(testParts, setup, options, rank, ssaCentring) : ssa));
        }

        if (options.Kinds.Contains("ridge") || combine)
        {
            progress?.Report(new("fitting ridge", (double)stage++ / stages));
            var (ridge, alpha) = FitRidge(trainParts, setup, options);
            candidates.Add((ridge, alpha, refit ? FitRidge(testParts, setup, options).Model : ridge));
        }

        // Trees train on one series at a time; with several series gbdt sits out (or, asked for alone, is an error).
        if (options.Kinds.Contains(GbdtOnnx.Kind) && (backtests.Count == 1 || options.Kinds.Count == 1))
        {
            progress?.Report(new("fitting gradient-boosted trees", (double)stage / stages));
            GbdtForecaster gbdt;
            if (options.GbdtLoss == GbdtLossChoice.Choose)
            {
                // Both losses on the training part; the lower calibration score (the score selection reads, so the
                // test part chooses nothing here either) keeps its loss for the refit and the shipped fit. The two
                // fits are independent: with two threads or more they run side by side, each on half of them (the
                // models do not depend on the threads).
                int threads = options.Threads == 0 ? Environment.ProcessorCount : options.Threads;
                var half = threads >= 2 ? options with { Threads = threads / 2 } : options;
                GbdtForecaster? squared = null, absolute = null;
                Parallel.Invoke(
                    new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(2, threads)) },
                    () => squared = FitGbdt(trainParts, setup, half, null, GbdtLoss.SquaredError),
                    () => absolute = FitGbdt(trainParts, setup, half, null, GbdtLoss.AbsoluteError));
                gbdt = squared!;
                double Score(GbdtForecaster f) => Evaluate(GbdtOnnx.Kind, "", "candidate", _ => f, backtests, options, calibrationOnly: true).ValidationMase;
                if (Score(absolute!) < Score(gbdt))
                {
                    gbdt = absolute!;
                    gbdtLoss = GbdtLoss.AbsoluteError;
                }
            }
            else
            {
                gbdt = FitGbdt(trainParts, setup, options, null, gbdtLoss);
            }

            gbdtRounds = options.GbdtRefitRounds == GbdtRefitRounds.TrainingFit ? gbdt.TreesPerHorizon : null;
            candidates.Add((gbdt, "", refit ? FitGbdt(testParts, setup, options, gbdtRounds, gbdtLoss) : gbdt));
        }

        if (combine)
        {
            // The mean of SSA, ridge and seasonal naive (all read the same one-season window).
            var seasonal = new SeasonalNaiveForecaster(setup.SeasonSteps);
            candidates.Add((
                new CombinationForecaster([candidates[0].Model, candidates[1].Model, seasonal], options.Horizon), "",
                new CombinationForecaster([candidates[0].TestModel, candidates[1].TestModel, seasonal], options.Horizon)));
        }

        progress?.Report(new("backtesting", (double)stage++ / stages));
        var exportableBaselines = new IExportableForecaster[] { new NaiveForecaster(setup.Window), new SeasonalNaiveForecaster(setup.SeasonSteps) };
        var evaluations = new List<Evaluated>();
        foreach (var (model, detail, testModel) in candidates)
        {
            evaluations.Add(Evaluate(model.Kind, detail, "candidate", _ => model, backtests, options, testForecasterFor: _ => testModel));
        }

        foreach (var baseline in exportableBaselines)
        {
            evaluations.Add(Evaluate(baseline.Kind, "", "baseline", _ => baseline, backtests, options));
        }

        // The decayed percentile is online; its "fit" is the range of its histogram, read from the data it may see.
        var decayed = Evaluate("decayed_p" + Math.Round(options.Quantile * 100).ToString(CultureInfo.InvariantCulture), "", "baseline",
            b => new DecayedPercentileForecaster(MaxAbs(b.Series.Values.AsSpan(0, b.TrainEnd)), options.DecayHalfLife.TotalSeconds / setup.StepSeconds, options.Quantile),
            backtests, options, constantUpper: true,
            testForecasterFor: refit
                ? b => new DecayedPercentileForecaster(MaxAbs(b.Series.Values.AsSpan(0, b.CalibrationEnd)), options.DecayHalfLife.TotalSeconds / setup.StepSeconds, options.Quantile)
                : null);

        // Selection (Backtesting/ModelSelection): recency-weighted calibration MASE; a simpler kind within one
        // standard error of the best is preferred (candidates first on ties).
        var selectable = evaluations.Where(e => options.Kinds.Contains(e.Kind)).ToList();
        var selected = selectable[ModelSelection.Choose(
            [.. selectable.Select(e => e.Kind)],
            [.. selectable.Select(e => e.CalibrationLosses)],
            HalfLifeSteps(options, setup.StepSeconds),
            setup.SeasonSteps,
            options.SelectionStandardErrors)];

        // Horizon-aware selection (TrainingOptions.SelectPerStep): a step departs from the whole-horizon winner only
        // when another kind beats it there outside the standard errors; no departure leaves the single-kind model.
        int[]? stepChoice = options.SelectPerStep ? PerStepChoice(selectable, selected, backtests, setup, options) : null;
        if (stepChoice is not null)
        {
            selected = Composite(selectable, stepChoice, backtests, options);
        }

        progress?.Report(new("refitting on all data", (double)stage++ / stages));
        string ssaRank = evaluations.FirstOrDefault(e => e.Kind == "ssa")?.Detail ?? "";
        var allParts = prepared.Select(p => (p, p.Values.Length)).ToList();
        IExportableForecaster Refit(string kind) => kind switch
        {
            "ssa" => FitSsa(allParts, setup, options, ssaRank, ssaCentring),
            "ridge" => FitRidge(allParts, setup, options).Model,
            CombinationForecaster.CombinationKind => new CombinationForecaster(
                [FitSsa(allParts, setup, options, ssaRank, ssaCentring), FitRidge(allParts, setup, options).Model, new SeasonalNaiveForecaster(setup.SeasonSteps)],
                options.Horizon),
            GbdtOnnx.Kind => FitGbdt(allParts, setup, options, gbdtRounds, gbdtLoss),
            _ => exportableBaselines.First(b => b.Kind == kind),
        };

        IExportableForecaster final;
        IReadOnlyList<string> usedKinds;
        if (stepChoice is null)
        {
            final = Refit(selected.Kind);
            usedKinds = [selected.Kind];
        }
        else
        {
            // Members in order of the first step each serves (deterministic); each refitted once on all data.
            var memberIndex = stepChoice.Distinct().ToList();
            usedKinds = [.. memberIndex.Select(c => selectable[c].Kind)];
            final = new PerStepForecaster([.. usedKinds.Select(Refit)], [.. stepChoice.Select(c => memberIndex.IndexOf(c))]);
        }

        // Offsets for the shipped model: the conformal quantile of every backtest residual (calibration and test) of the
        // training-part fits, each residual out of sample for the fit that made it (the test part's metrics may come
        // from the refit, RefitBeforeTest; the offsets do not depend on it).
        var allResiduals = selected.CalibrationResiduals.Concat(selected.TrainFitTestResiduals).SelectMany(r => r).ToArray();
        var offsets = SplitConformal.Offsets(allResiduals, options.Horizon, options.Quantile).Select(v => (float)v).ToArray();

        var table = BuildTable(prepared, evaluations, decayed, selected);
        var card = new ModelCard
        {
            Kind = final.Kind,
            Window = final.Window,
            Horizon = options.Horizon,
            StepSeconds = setup.StepSeconds,
            Quantile = options.Quantile,
            Series = [.. prepared.Select(p => p.Name)],
            MetricsJson = MetricsJson.Write(table, options),
            TrainingDataSha256 = DataHash(prepared),
            Extra = CardExtras(selected, usedKinds, evaluations, offsets, final, setup, options, allResiduals.Length / options.Horizon, ssaCentring, gbdtLoss),
        };
        progress?.Report(new("writing ONNX", (double)stage / stages));
        byte[] bytes = final.Export(card, offsets);
        progress?.Report(new("done", 1));
        return new TrainingResult(bytes, card with { Kind = final.Kind, Window = final.Window }, table);
    }

    /// <summary>One kind's backtest: <see cref="ValidationMase"/> is the recency-weighted calibration MASE averaged over series; <see cref="CalibrationLosses"/> its per-origin MASE (mean |e| over the H steps ÷ scale) per series.
    /// <see cref="TestResiduals"/> (and <see cref="Test"/>) come from the fit that forecasts the test part (the refit with
    /// <see cref="TrainingOptions.RefitBeforeTest"/>), <see cref="TrainFitTestResiduals"/> from the training-part fit (the same
    /// arrays without the refit).</summary>
    internal sealed record Evaluated(
        string Kind, string Detail, string Role, double ValidationMase,
        IReadOnlyList<double[]> CalibrationResiduals, IReadOnlyList<double[]> TestResiduals, IReadOnlyList<BacktestMetrics> Test,
        IReadOnlyList<double[]> CalibrationLosses, IReadOnlyList<double[]> TrainFitTestResiduals);

    /// <summary>The selection half-life in steps (∞ when <see cref="TrainingOptions.SelectionHalfLife"/> is infinite).</summary>
    internal static double HalfLifeSteps(TrainingOptions options, double stepSeconds) =>
        options.SelectionHalfLife == Timeout.InfiniteTimeSpan ? double.PositiveInfinity : options.SelectionHalfLife.TotalSeconds / stepSeconds;

    /// <summary>
    /// Backtests one forecaster (built per series) on every series: calibration residuals → selection score and
    /// offsets, test → metrics. The test part is forecast by <paramref name="testForecasterFor"/> when given (the
    /// candidate fitted again on training + calibration, <see cref="TrainingOptions.RefitBeforeTest"/>), else by the same forecaster.
    /// </summary>
    internal static Evaluated Evaluate(
        string kind, string detail, string role, Func<Backtest, IPointForecaster> forecasterFor, IReadOnlyList<Backtest> backtests, TrainingOptions options,
        bool constantUpper = false, bool calibrationOnly = false, Func<Backtest, IPointForecaster>? testForecasterFor = null) =>
        Assemble(kind, detail, role, backtests, options, s =>
        {
            var b = backtests[s];
            var forecaster = forecasterFor(b);
            if (calibrationOnly)
            {
                return (b.Residuals(forecaster, b.CalibrationOrigins), [], []);
            }

            var trainFit = b.Residuals(forecaster, b.TestOrigins);
            var testForecaster = testForecasterFor?.Invoke(b);
            bool same = testForecaster is null || ReferenceEquals(testForecaster, forecaster);
            return (b.Residuals(forecaster, b.CalibrationOrigins), same ? trainFit : b.Residuals(testForecaster!, b.TestOrigins), trainFit);
        }, constantUpper, calibrationOnly);

    /// <summary>
    /// One candidate's backtest from its residuals on every series (<paramref name="residuals"/>(s) gives series s's
    /// calibration and test residuals): selection score, per-origin losses and, unless <paramref name="calibrationOnly"/>,
    /// the test metrics with split-conformal offsets from the calibration residuals.
    /// </summary>
    private static Evaluated Assemble(
        string kind, string detail, string role, IReadOnlyList<Backtest> backtests, TrainingOptions options,
        Func<int, (double[] Calibration, double[] Test, double[] TrainFitTest)> residuals, bool constantUpper, bool calibrationOnly)
    {
        var calibration = new List<double[]>();
        var test = new List<double[]>();
        var trainFitTest = new List<double[]>();
        var metrics = new List<BacktestMetrics>();
        var losses = new List<double[]>();
        double maseSum = 0;
        int maseCount = 0;
        for (int s = 0; s < backtests.Count; s++)
        {
            var b = backtests[s];
            var (cal, tst, trainFitTst) = residuals(s);
            // Selection compares recency-weighted MASE on the calibration part. (Trimming the worst origins was
            // tried and dropped: on spiky daily loads the "worst" origins are the daily peaks, exactly what must be forecast.)
            double[] originLoss = b.OriginLosses(cal);
            double score = ModelSelection.WeightedMean(originLoss, ModelSelection.RecencyWeights(originLoss.Length, HalfLifeSteps(options, b.Series.StepSeconds)));
            losses.Add(originLoss);
            if (!double.IsNaN(score))
            {
                maseSum += score;
                maseCount++;
            }

            calibration.Add(cal);
            test.Add(tst);
            trainFitTest.Add(trainFitTst);
            if (!calibrationOnly)
            {
                // A percentile estimator is already an upper bound: its upper is the estimate itself (offset 0).
                double[] offsets = constantUpper ? new double[options.Horizon] : SplitConformal.Offsets(cal, options.Horizon, options.Quantile);
                metrics.Add(b.Score(tst, b.TestOrigins, offsets, options.Quantile));
            }
        }

        return new Evaluated(kind, detail, role, maseCount == 0 ? double.NaN : maseSum / maseCount, calibration, test, metrics, losses, trainFitTest);
    }

    private static (IExportableForecaster Model, string Detail) FitSsaSelectingRank(IReadOnlyList<Backtest> backtests, Setup setup, TrainingOptions options, SsaCentring centring)
    {
        var ssaOptions = new SsaOptions { WindowLength = setup.SsaLength };
        var decomposition = SsaDecomposition.Fit([.. backtests.Select(b => Standardise(b.Series.Values.AsSpan(0, b.TrainEnd)))], ssaOptions.WindowLength, centring);
        int spectral = decomposition.RankFor(ssaOptions.ExplainedVariance, ssaOptions.MaxRank);
        var ranks = SsaRankGrid.Append(spectral).Where(r => r < setup.SsaLength).Distinct().Order().ToList();
        (LinearMapForecaster Model, int Rank, double Score)? best = null;
        foreach (int rank in ranks)
        {
            var model = SsaModel.From(decomposition, rank);
            var forecaster = SsaForecaster(model, setup, options);
            var score = Evaluate("ssa", "", "candidate", _ => forecaster, backtests, options, calibrationOnly: true).ValidationMase;
            if (best is null || score < best.Value.Score)
            {
                best = (forecaster, model.Rank, score);
            }
        }

        return (best!.Value.Model, best.Value.Rank.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// <see cref="SsaCentring.LevelShift"/> decided once for all SSA fits from the span selection reads (training +
    /// calibration; the test part is not read): <see cref="SsaCentring.LagVectors"/> when any series' standardised span
    /// holds a dominant level shift (each side at least one season), basic SSA otherwise. Other modes pass through.
    /// </summary>
    private static SsaCentring Resolve(SsaCentring centring, IReadOnlyList<(PreparedSeries Series, int End)> parts, Setup setup) =>
        centring != SsaCentring.LevelShift ? centring
        : parts.Any(p => LevelShift.Dominates(Standardise(p.Series.Values.AsSpan(0, p.End)), setup.SeasonSteps)) ? SsaCentring.LagVectors
        : SsaCentring.Series;

    /// <summary>SSA of the given rank and centring fitted on each series' values before its end (pooled, each standardised).</summary>
    private static LinearMapForecaster FitSsa(IReadOnlyList<(PreparedSeries Series, int End)> parts, Setup setup, TrainingOptions options, string rank, SsaCentring centring)
    {
        var decomposition = SsaDecomposition.Fit([.. parts.Select(p => Standardise(p.Series.Values.AsSpan(0, p.End)))], setup.SsaLength, centring);
        var model = SsaModel.From(decomposition, int.Parse(rank, CultureInfo.InvariantCulture));
        return SsaForecaster(model, setup, options);
    }

    /// <summary>SSA exported as a linear map of the level-centred window (the SSA is fitted on standardised series).</summary>
    internal static LinearMapForecaster SsaForecaster(SsaModel model, Setup setup, TrainingOptions options)
    {
        double[] map = model.ForecastMap(setup.Window, options.Horizon);
        return new LinearMapForecaster("ssa", setup.Window, options.Horizon, [.. map.Select(v => (float)v)], new float[options.Horizon], withCalendar: false, WindowNormalization.Level);
    }

    private static (IExportableForecaster Model, string Detail) FitRidge(IReadOnlyList<(PreparedSeries Series, int End)> parts, Setup setup, TrainingOptions options)
    {
        int w = setup.Window, h = options.Horizon;
        var featureRows = new List<double>();
        var targetRows = new List<double>();
        int rows = 0, width = 0;
        foreach (var (series, end) in parts)
        {
            var examples = SupervisedWindows.Build(series.Values.AsSpan(0, end), series.Timestamps.AsSpan(0, end), w, h, withCalendar: true);
            width = examples.FeatureWidth;
            var window = new double[w];
            for (int r = 0; r < examples.Rows; r++)
            {
                var row = examples.Features.AsSpan(r * width, width);
                for (int k = 0; k < w; k++)
                {
                    window[k] = row[k];
                }

                // The same normalisation the graph applies (WindowNormalization.LevelAndScale). Each row is then
                // weighted by s (features and targets times s), so the squared error is minimised in series units:
                // unweighted, quiet windows (small s) would dominate the fit in normalised units.
                var (mean, scale) = WindowNormalizer.Measure(window, WindowNormalization.LevelAndScale);
                for (int k = 0; k < width; k++)
                {
                    featureRows.Add((k < w ? (row[k] - mean) / scale : row[k]) * scale);
                }

                for (int j = 0; j < h; j++)
                {
                    targetRows.Add((examples.Targets[(r * h) + j] - mean) / scale * scale);
                }

                rows++;
            }
        }

        var fit = RidgeRegression.Solve([.. featureRows], [.. targetRows], rows, width, h, options.Threads);
        var model = new LinearMapForecaster("ridge", w, h, [.. fit.Weights.Select(v => (float)v)], [.. fit.Bias.Select(v => (float)v)], withCalendar: true, WindowNormalization.LevelAndScale);
        return (model, fit.Alpha.ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>Lags of the gbdt candidate: its trees read the last 24 steps, the calendar and, with
    /// <see cref="TrainingOptions.GbdtSeasonMoves"/>, yesterday's moves over the horizon (more lags add features that
    /// bin and split slowly and rarely help trees).</summary>
    internal const int GbdtLags = 24;

    /// <summary>The gbdt candidate's row: the last <see cref="GbdtLags"/> observations, after H − 1 season moves when
    /// they are asked for and the window is one season longer than H.</summary>
    internal static TreeFeatures GbdtFeatures(Setup setup, TrainingOptions options) =>
        options.GbdtSeasonMoves && setup.Window == setup.SeasonSteps && setup.Window > options.Horizon
            ? new TreeFeatures(setup.Window, Math.Min(setup.Window, GbdtLags), options.Horizon - 1)
            : TreeFeatures.Plain(Math.Min(setup.Window, GbdtLags));

    /// <summary>Gradient-boosted trees (Trees/, default options but the tree layout, learning rate and depth limit of <see cref="TrainingOptions"/>) on one series' rows; several series are not pooled (their rows would need one shared scale).</summary>
    /// <remarks>Fitted on <see cref="TrainingOptions.Threads"/> threads; the model is bit-identical on any number of them (Trees/ tests it).</remarks>
    /// <param name="treesPerStep">Fixed tree counts per horizon step (nothing held out), or <see langword="null"/> to early-stop
    /// on the latest rows (<see cref="TrainingOptions.GbdtRefitRounds"/>).</param>
    private static GbdtForecaster FitGbdt(IReadOnlyList<(PreparedSeries Series, int End)> parts, Setup setup, TrainingOptions options, IReadOnlyList<int>? treesPerStep, GbdtLoss loss)
    {
        if (parts.Count != 1)
        {
            throw new PredictorException($"--kinds gbdt trains on one series at a time; --series matched {parts.Count}. Narrow --series or drop gbdt from --kinds.");
        }

        var (series, end) = parts[0];
        var features = GbdtFeatures(setup, options);
        var rows = SupervisedWindows.Build(series.Values.AsSpan(0, end), series.Timestamps.AsSpan(0, end), features, options.Horizon, withCalendar: true);
        return new GbdtForecaster(GradientBoostedTrees.Fit(rows, features, new GbdtOptions { Trees = options.GbdtTrees, LearningRate = options.GbdtLearningRate, MaxDepth = options.GbdtMaxDepth, MaxLeaves = options.GbdtMaxLeaves, MaxIterations = options.GbdtMaxTrees, TreesPerStep = treesPerStep, Loss = loss, MaxDegreeOfParallelism = options.Threads }));
    }

    private static double[] Standardise(ReadOnlySpan<double> values)
    {
        double mean = 0;
        foreach (double v in values)
        {
            mean += v;
        }

        mean /= values.Length;
        double variance = 0;
        foreach (double v in values)
        {
            variance += (v - mean) * (v - mean);
        }

        double std = Math.Sqrt(variance / values.Length);
        double scale = std > 0 ? std : 1;
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = (values[i] - mean) / scale;
        }

        return result;
    }

    private static double MaxAbs(ReadOnlySpan<double> values)
    {
        double m = 0;
        foreach (double v in values)
        {
            m = Math.Max(m, Math.Abs(v));
        }

        return m;
    }

    private static List<SeriesScores> BuildTable(IReadOnlyList<PreparedSeries> prepared, List<Evaluated> evaluations, Evaluated decayed, Evaluated selected)
    {
        var ordered = new List<Evaluated> { selected with { Role = "selected" } };
        ordered.AddRange(evaluations.Where(e => e != selected));
        ordered.Add(decayed);
        return
        [
            .. prepared.Select((p, i) => new SeriesScores(
                p.Name,
                p.Values.Length,
                p.FilledCount,
                [.. ordered.Select(e => new ModelScore(e.Kind, e.Role, e.ValidationMase, e.Test[i]))])),
        ];
    }

    /// <summary>
    /// The candidate (index into <paramref name="selectable"/>) serving each step, or null when every step keeps the
    /// whole-horizon winner (or the chosen kinds read windows a composite cannot share: W differs outside gbdt).
    /// </summary>
    private static int[]? PerStepChoice(List<Evaluated> selectable, Evaluated whole, IReadOnlyList<Backtest> backtests, Setup setup, TrainingOptions options)
    {
        int h = options.Horizon;
        var stepLosses = selectable.Select(e => (IReadOnlyList<double[][]>)[.. backtests.Select((b, s) => StepLosses(e.CalibrationResiduals[s], b.Scale, h))]).ToList();
        int[] choice = ModelSelection.ChoosePerStep(
            [.. selectable.Select(e => e.Kind)], stepLosses, selectable.IndexOf(whole), HalfLifeSteps(options, setup.StepSeconds), setup.SeasonSteps, options.SelectionStandardErrors);
        if (choice.All(c => c == choice[0]))
        {
            return null;
        }

        // Linear and gather branches read the graph's whole window; only trees gather their own (shorter) tail.
        var windows = choice.Distinct().Select(c => selectable[c].Kind).Where(k => k != GbdtOnnx.Kind).Select(k => KindWindow(k, setup)).Distinct().Count();
        return windows <= 1 ? choice : null;
    }

    private static int KindWindow(string kind, Setup setup) => kind == "seasonal_naive" ? setup.SeasonSteps : setup.Window;

    /// <summary>Per step k, per origin: |residual| ÷ scale (NaN when the scale is 0).</summary>
    internal static double[][] StepLosses(double[] residuals, double scale, int horizon)
    {
        int origins = residuals.Length / horizon;
        var losses = new double[horizon][];
        for (int k = 0; k < horizon; k++)
        {
            losses[k] = new double[origins];
            for (int i = 0; i < origins; i++)
            {
                losses[k][i] = scale > 0 ? Math.Abs(residuals[(i * horizon) + k]) / scale : double.NaN;
            }
        }

        return losses;
    }

    /// <summary>The composite's backtest, assembled column by column from the chosen candidates' residuals (the composite forecasts exactly those columns).</summary>
    private static Evaluated Composite(List<Evaluated> selectable, int[] choice, IReadOnlyList<Backtest> backtests, TrainingOptions options)
    {
        int h = options.Horizon;
        double[] Pick(Func<Evaluated, double[]> part)
        {
            var parts = selectable.Select(part).ToArray();
            var result = new double[parts[0].Length];
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = parts[choice[i % h]][i];
            }

            return result;
        }

        string detail = string.Join(",", choice.Select(c => selectable[c].Kind));
        return Assemble(
            PerStepForecaster.PerStepKind, detail, "candidate", backtests, options,
            s => (Pick(e => e.CalibrationResiduals[s]), Pick(e => e.TestResiduals[s]), Pick(e => e.TrainFitTestResiduals[s])), constantUpper: false, calibrationOnly: false);
    }

    private static Dictionary<string, string> CardExtras(
        Evaluated selected, IReadOnlyList<string> usedKinds, List<Evaluated> evaluations, float[] offsets, IExportableForecaster final, Setup setup, TrainingOptions options, int residualCount,
        SsaCentring ssaCentring, GbdtLoss gbdtLoss)
    {
        var stepKinds = final is PerStepForecaster composite ? composite.StepKinds : null;
        var extra = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["predictor.selection"] = MetricsJson.Selection(selected.Kind, evaluations.Select(e => (e.Kind, e.ValidationMase)), options, stepKinds, stepKinds is null ? double.NaN : selected.ValidationMase),
            ["predictor.upper_offsets"] = "[" + string.Join(",", offsets.Select(o => o.ToString("R", CultureInfo.InvariantCulture))) + "]",
            ["predictor.conformal_residuals"] = residualCount.ToString(CultureInfo.InvariantCulture),
            ["predictor.season_steps"] = setup.SeasonSteps.ToString(CultureInfo.InvariantCulture),
        };
        if (stepKinds is not null)
        {
            extra[PerStepForecaster.StepKindsKey] = string.Join(",", stepKinds);
        }

        if (final is LinearMapForecaster linear)
        {
            extra["predictor.normalization"] = linear.Normalization.ToString().ToLowerInvariant();
            extra["predictor.calendar"] = linear.WithCalendar ? "true" : "false";
        }

        bool combination = usedKinds.Contains(CombinationForecaster.CombinationKind);
        if (usedKinds.Contains("ssa") || combination)
        {
            extra["predictor.ssa_window_length"] = setup.SsaLength.ToString(CultureInfo.InvariantCulture);
            extra["predictor.ssa_rank"] = evaluations.First(e => e.Kind == "ssa").Detail;
            if (options.SsaCentring != SsaCentring.Series)
            {
                // Since session 11; absent, the model is basic SSA (so the cards of earlier models keep their bytes).
                extra["predictor.ssa_centring"] = ssaCentring == SsaCentring.LagVectors ? "lag-vectors" : "series";
            }
        }

        if (usedKinds.Contains("ridge") || combination)
        {
            extra["predictor.ridge_alpha"] = evaluations.First(e => e.Kind == "ridge").Detail;
        }

        if (usedKinds.Contains(GbdtOnnx.Kind) && gbdtLoss == GbdtLoss.AbsoluteError)
        {
            // Since session 15 (--gbdt-loss absolute, or choose when absolute won); absent, the trees minimised squared
            // error (earlier cards keep their bytes).
            extra["predictor.gbdt_loss"] = "absolute";
        }

        if (usedKinds.Contains(GbdtOnnx.Kind) && options.GbdtRefitRounds == GbdtRefitRounds.TrainingFit)
        {
            // Since session 13; absent, the shipped trees early-stopped on their latest rows (earlier cards keep their bytes).
            extra["predictor.gbdt_refit_rounds"] = "training-fit";
        }

        return extra;
    }

    /// <summary>SHA-256 over every prepared series in order: name (UTF-8, NUL-terminated), then (timestamp, value) pairs little-endian.</summary>
    internal static string DataHash(IReadOnlyList<PreparedSeries> prepared)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[16];
        foreach (var p in prepared)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(p.Name + "\0"));
            for (int i = 0; i < p.Values.Length; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(buffer, p.Timestamps[i]);
                BinaryPrimitives.WriteDoubleLittleEndian(buffer[8..], p.Values[i]);
                hash.AppendData(buffer);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The longest default window (one season of steps) training accepts: 2,880 is a day at 30 s steps.</summary>
    internal const int MaxDefaultWindow = 2880;

    /// <summary>Validated, derived quantities shared by every stage.</summary>
    internal sealed record Setup(IReadOnlyList<PreparedSeries> Prepared, double StepSeconds, int SeasonSteps, int Window, int SsaLength)
    {
        public static Setup From(IReadOnlyList<RecordedSeries> series, TrainingOptions options)
        {
            if (series.Count == 0)
            {
                throw new PredictorException("No series to train on; check --series (a glob such as 'nab/*') against the names the dataset holds.");
            }

            if (options.Step is { } modelStep)
            {
                series = [.. series.Select(s => AtStep(s, modelStep))];
            }

            var step = series[0].Info.Step;
            foreach (var s in series)
            {
                if (s.Info.Step != step)
                {
                    long a = (long)s.Info.Step.TotalMilliseconds, b = (long)step.TotalMilliseconds;
                    long common = a > 0 && b > 0 ? a / (long)System.Numerics.BigInteger.GreatestCommonDivisor(a, b) * b : 0;
                    throw new PredictorException(string.Create(CultureInfo.InvariantCulture,
                        $"Series '{s.Info.Name}' is recorded every {s.Info.Step.TotalSeconds} s but '{series[0].Info.Name}' every {step.TotalSeconds} s; one model has one step: " +
                        $"give --step a whole multiple of both{(common > 0 ? $" (e.g. --step {common / 1000.0}s)" : "")}, or train one model per step."));
                }
            }

            double stepSeconds = step.TotalSeconds;
            int seasonSteps = (int)Math.Round(options.Season.TotalSeconds / stepSeconds);
            if (seasonSteps < 2)
            {
                throw new PredictorException(string.Create(CultureInfo.InvariantCulture,
                    $"The season ({options.Season.TotalHours} h) spans fewer than 2 steps of {step.TotalSeconds} s; a model needs at least two steps a day: use a --step of at most 12h, or finer data."));
            }

            // The default window is one season. At a fine step that is thousands of observations, and SSA's
            // eigen-decomposition (O(L³), L = W/2) and every window row grow with it: say so rather than run for hours.
            if (options.Window is null && seasonSteps > MaxDefaultWindow)
            {
                throw new PredictorException(string.Create(CultureInfo.InvariantCulture,
                    $"The series are at {stepSeconds} s steps, so the default window (one season, {options.Season.TotalHours} h) would be {seasonSteps} observations; " +
                    $"above {MaxDefaultWindow} training takes hours. Average them into a coarser step (--step 5m gives 288) or give --window."));
            }

            int window = options.Window ?? seasonSteps;
            int minLength = (int)Math.Ceiling(((2.0 * Math.Max(window, seasonSteps)) + options.Horizon) / (1 - options.BacktestShare)) + (4 * options.Horizon);
            var prepared = series.Select(s => PreparedSeries.From(s, minLength)).ToList();
            // A window of one (a naive model being evaluated) has no SSA candidate; its length is then unused.
            int ssaLength = Math.Clamp((int)Math.Round(window * options.SsaLengthShare), Math.Min(2, window), window);
            return new Setup(prepared, stepSeconds, seasonSteps, window, ssaLength);
        }

        /// <summary>
        /// The series averaged into steps of <paramref name="step"/>, a whole multiple of its own step (the same series when
        /// equal); otherwise a <see cref="PredictorException"/> that starts with <paramref name="context"/>.
        /// </summary>
        internal static RecordedSeries AtStep(RecordedSeries series, TimeSpan step, string context = "")
        {
            var own = series.Info.Step;
            if (step == own)
            {
                return series;
            }

            if (!StepGrid.Divides(own, step))
            {
                var multiple = own <= TimeSpan.Zero ? step : TimeSpan.FromTicks(Math.Max(2, (step.Ticks + own.Ticks - 1) / own.Ticks) * own.Ticks);
                throw new PredictorException(string.Create(CultureInfo.InvariantCulture,
                    $"{context}Series '{series.Info.Name}' is recorded every {own.TotalSeconds} s, so it cannot be averaged into steps of {step.TotalSeconds} s: " +
                    $"a step only averages samples, never invents them, so it must be a whole multiple of {own.TotalSeconds} s (e.g. {multiple.TotalSeconds} s)."));
            }

            return series.Downsample(step);
        }
    }
}

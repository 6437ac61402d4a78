using Predictor.Engine.Telemetry.Import;
using Predictor.Training.Pipeline;
using Predictor.Training.Ssa;
using Predictor.Training.Tests.Trees;

namespace Predictor.Training.Tests.Pipeline;

/// <summary>
/// <see cref="TrainingOptions.SsaCentring"/> = <see cref="SsaCentring.LevelShift"/> end to end on two real NAB traces
/// (docs/training-experiments.md, "SSA centring (sessions 10–13)"): cc0c53 jumps from 6 % to 14–15 % CPU inside its calibration part; the asg
/// trace has no dominant level shift.
/// </summary>
public sealed class SsaCentringTests
{
    private static readonly TrainingOptions SsaOnly = new() { Kinds = ["ssa"] };

    /// <summary>The NAB trace trained with ssa alone, basic and with <see cref="SsaCentring.LevelShift"/>.</summary>
    private static (TrainingResult Basic, TrainingResult Gated) TrainBoth(string relative)
    {
        var series = Assert.Single(TraceImporter.Import(TraceFormat.Nab, Path.Combine(NabSeries.DatasetsRoot(), "nab", "data", relative)).Series);
        return (ModelTrainer.Train([series], SsaOnly), ModelTrainer.Train([series], SsaOnly with { SsaCentring = SsaCentring.LevelShift }));
    }

    [Fact]
    public void Train_LevelShift_JumpInTheCalibrationPart_CentresTheLagVectorsAndForecastsTheTestPartBetter()
    {
        var (basic, gated) = TrainBoth(NabSeries.RdsCc0c53);

        Assert.Equal("lag-vectors", gated.Card.Extra["predictor.ssa_centring"]);
        Assert.False(basic.Card.Extra.ContainsKey("predictor.ssa_centring"), "the default writes the card it always wrote");
        var before = Assert.Single(basic.Series).Scores.Single(s => s.Model == "ssa");
        var after = Assert.Single(gated.Series).Scores.Single(s => s.Model == "ssa");
        Assert.True(after.Test.MaseAtHorizon < 0.95 * before.Test.MaseAtHorizon, $"test MASE@12 {after.Test.MaseAtHorizon:F3} vs basic {before.Test.MaseAtHorizon:F3}");
    }

    [Fact]
    public void Train_LevelShift_NoDominantShift_IsBasicSsaWithTheSameScores()
    {
        var (basic, gated) = TrainBoth(NabSeries.Asg);

        Assert.Equal("series", gated.Card.Extra["predictor.ssa_centring"]);
        Assert.Equal(basic.Card.Extra["predictor.ssa_rank"], gated.Card.Extra["predictor.ssa_rank"]);
        var before = Assert.Single(basic.Series).Scores;
        var after = Assert.Single(gated.Series).Scores;
        Assert.Equal(before.Select(s => (s.Model, s.ValidationMase, s.Test)), after.Select(s => (s.Model, s.ValidationMase, s.Test)));
    }
}

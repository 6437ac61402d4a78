using Predictor.Engine;

namespace Predictor.Training.Ssa;

/// <summary>Options of singular spectrum analysis (Golyandina's recurrent SSA).</summary>
internal sealed record SsaOptions
{
    /// <summary>L, the embedding window (rows of the trajectory matrix), in steps; 2 ≤ L. The model's W must be ≥ L.</summary>
    /// <value>The default value is 288 (one day at 5-minute steps).</value>
    public int WindowLength { get; init; } = 288;

    /// <summary>The rank r (number of eigen-triples kept); null to choose it from <see cref="ExplainedVariance"/>.</summary>
    /// <value>The default value is null.</value>
    public int? Rank { get; init; }

    /// <summary>When <see cref="Rank"/> is null: the smallest r whose eigenvalues hold this share of the total.</summary>
    /// <value>The default value is 0.9.</value>
    public double ExplainedVariance { get; init; } = 0.9;

    /// <summary>Upper bound on r chosen from the spectrum (noise spreads variance over many small components).</summary>
    /// <value>The default value is 40.</value>
    public int MaxRank { get; init; } = 40;

    /// <summary>Throws <see cref="PredictorException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (WindowLength < 2)
        {
            throw new PredictorException($"SSA: window length L = {WindowLength}; it must be ≥ 2 (typically one season, e.g. 288 at 5-minute steps).");
        }

        if (Rank is { } r && (r < 1 || r >= WindowLength))
        {
            throw new PredictorException($"SSA: rank {r} must lie in [1, L − 1] = [1, {WindowLength - 1}].");
        }

        if (!(ExplainedVariance > 0 && ExplainedVariance <= 1))
        {
            throw new PredictorException($"SSA: explained variance {ExplainedVariance} must lie in (0, 1].");
        }

        if (MaxRank < 1)
        {
            throw new PredictorException($"SSA: max rank {MaxRank} must be ≥ 1.");
        }
    }
}

/// <summary>How SSA centres the lag vectors before their covariance is decomposed.</summary>
public enum SsaCentring
{
    /// <summary>Not at all beyond the series' own standardisation (basic SSA): the level is part of the signal subspace.</summary>
    Series,

    /// <summary>Each lag vector on its own mean, with the constant vector put first in the basis (SSA with projection onto constants).</summary>
    LagVectors,

    /// <summary>
    /// <see cref="LagVectors"/> for every SSA fit of a training run whose training and calibration parts hold a dominant
    /// level shift (<see cref="Ssa.LevelShift.Dominates"/>, one season at least on each side), basic SSA otherwise. The
    /// trainer decides once, before the fits, from the span selection reads; the test part is not read.
    /// </summary>
    LevelShift,
}

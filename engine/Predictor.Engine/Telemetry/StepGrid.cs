namespace Predictor.Engine.Telemetry;

/// <summary>
/// The one definition of "the step a timestamp falls in": steps are aligned on the Unix epoch, step k covering
/// [k·step, (k+1)·step). The control loop's windows (<c>SeriesWindows</c>), the store's <c>Downsample</c> and training's
/// <c>--step</c> all use it, so a model trained on averaged data sees the values the running loop will give it.
/// </summary>
public static class StepGrid
{
    /// <summary>The index k of the step holding <paramref name="timestampMs"/> (floor division, also before 1970).</summary>
    public static long Index(long timestampMs, long stepMs) =>
        timestampMs >= 0 ? timestampMs / stepMs : ((timestampMs - stepMs + 1) / stepMs);

    /// <summary>
    /// Whether a series recorded every <paramref name="own"/> can be averaged into steps of <paramref name="step"/>: a
    /// whole multiple of a positive step (equal included). Averaging never invents samples, so nothing else can.
    /// </summary>
    public static bool Divides(TimeSpan own, TimeSpan step) => own > TimeSpan.Zero && step >= own && step.Ticks % own.Ticks == 0;
}

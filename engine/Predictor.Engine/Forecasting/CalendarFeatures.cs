namespace Predictor.Engine.Forecasting;

/// <summary>
/// The one definition of the <c>calendar</c> model input, shared by training and the engine so the two can never
/// compute a feature differently. Features describe the forecast origin (the time of the last observation in the
/// window), in UTC: sin and cos of the hour of day and of the day of week, so midnight follows 23:59 smoothly.
/// </summary>
public static class CalendarFeatures
{
    /// <summary>C, the number of calendar features per series.</summary>
    public const int Width = 4;

    private const double SecondsPerDay = 86_400.0;
    private const double SecondsPerWeek = 7 * SecondsPerDay;

    /// <summary>Writes the <see cref="Width"/> features of <paramref name="originUnixMs"/> into <paramref name="destination"/>.</summary>
    /// <param name="originUnixMs">The forecast origin, milliseconds since the Unix epoch (UTC).</param>
    /// <param name="destination">At least <see cref="Width"/> floats: [sin(day), cos(day), sin(week), cos(week)].</param>
    public static void Compute(long originUnixMs, Span<float> destination)
    {
        if (destination.Length < Width)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats; calendar features need {Width}.", nameof(destination));
        }

        double seconds = originUnixMs / 1000.0;
        // 1970-01-01 was a Thursday; shift so the weekly phase starts on Monday 00:00 UTC.
        double dayPhase = 2 * Math.PI * (Mod(seconds, SecondsPerDay) / SecondsPerDay);
        double weekPhase = 2 * Math.PI * (Mod(seconds + (3 * SecondsPerDay), SecondsPerWeek) / SecondsPerWeek);
        destination[0] = (float)Math.Sin(dayPhase);
        destination[1] = (float)Math.Cos(dayPhase);
        destination[2] = (float)Math.Sin(weekPhase);
        destination[3] = (float)Math.Cos(weekPhase);
    }

    /// <summary>
    /// Writes the features of <paramref name="originUnixMs"/> into each row of <paramref name="destination"/> (rows of
    /// <paramref name="rowWidth"/> floats, as <see cref="Compute"/> writes one): the same values for every series of a
    /// batch that shares the origin, computed once.
    /// </summary>
    /// <param name="originUnixMs">The forecast origin, milliseconds since the Unix epoch (UTC).</param>
    /// <param name="destination">A whole number of rows.</param>
    /// <param name="rowWidth">Floats per row, at least <see cref="Width"/>.</param>
    public static void Fill(long originUnixMs, Span<float> destination, int rowWidth)
    {
        if (rowWidth < Width || destination.Length % rowWidth != 0)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats, not a whole number of rows of {rowWidth} (at least {Width}).", nameof(destination));
        }

        var first = destination[..rowWidth];
        Compute(originUnixMs, first);
        for (var row = rowWidth; row < destination.Length; row += rowWidth)
        {
            first.CopyTo(destination.Slice(row, rowWidth));
        }
    }

    private static double Mod(double value, double period)
    {
        double r = value % period;
        return r < 0 ? r + period : r;
    }
}

namespace Predictor.Training.Features;

/// <summary>
/// The part of a regressor's feature row read from its input window (the calendar, when used, follows it), defined
/// once for the training rows (<see cref="SupervisedWindows"/>), <c>GbdtForecaster</c> and the ONNX graph
/// (<c>GbdtOnnx</c>). The window holds W observations, oldest first: <c>window[i] = x(t−W+1+i)</c>. The row is
/// <list type="number">
/// <item><description><see cref="SeasonMoves"/> values <c>window[j] − window[0]</c>, j = 1 … M, subtracted in float32
/// (ONNX: Slice, Slice, Sub). With W = one season S, <c>window[j] = x(t+1+j−S)</c>: these are yesterday's moves over
/// the coming hour, from the value one season before t+1 to the one a season before t+1+j, the shape of the path a
/// daily cycle is about to repeat. The trees predict x(t+k) − x(t), a move too, so the two compare directly;</description></item>
/// <item><description>then the last <see cref="Lags"/> observations <c>window[W−L] … window[W−1]</c>, the last being
/// x(t) (ONNX: Slice).</description></item>
/// </list>
/// <see cref="Plain(int)"/> (M = 0, L = W) is the row every regressor had before season moves: the window as it is.
/// </summary>
/// <param name="Window">W, observations the model reads (its input <c>window</c>).</param>
/// <param name="Lags">L, last observations in the row, 1 … W.</param>
/// <param name="SeasonMoves">M, moves from <c>window[0]</c> at the row's start, 0 … W − 1.</param>
public sealed record TreeFeatures(int Window, int Lags, int SeasonMoves)
{
    /// <summary>The row of the last <paramref name="window"/> observations and nothing else.</summary>
    public static TreeFeatures Plain(int window) => new(window, window, 0);

    /// <summary>M + L: floats the window part of the row holds; the last is x(t).</summary>
    public int Width => SeasonMoves + Lags;

    /// <summary>Throws when the numbers do not describe a row (see the parameters).</summary>
    public void Validate()
    {
        if (Window < 1 || Lags < 1 || Lags > Window || SeasonMoves < 0 || SeasonMoves > Window - 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(TreeFeatures),
                this,
                $"Tree features need 1 ≤ lags ≤ window and 0 ≤ season moves ≤ window − 1; got window {Window}, lags {Lags}, season moves {SeasonMoves}.");
        }
    }

    /// <summary>Writes the <see cref="Width"/> floats of the row read from <paramref name="window"/> (W values, oldest first).</summary>
    public void Fill(ReadOnlySpan<double> window, Span<float> row)
    {
        if (window.Length != Window || row.Length < Width)
        {
            throw new ArgumentException($"Tree features read {Window} values into {Width} floats; got {window.Length} values and room for {row.Length}.");
        }

        float start = (float)window[0];
        for (int j = 1; j <= SeasonMoves; j++)
        {
            row[j - 1] = (float)window[j] - start;
        }

        int first = Window - Lags;
        for (int k = 0; k < Lags; k++)
        {
            row[SeasonMoves + k] = (float)window[first + k];
        }
    }
}

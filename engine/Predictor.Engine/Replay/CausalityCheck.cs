namespace Predictor.Engine.Replay;

/// <summary>
/// Proves a replay cannot see the future (issue 6, item 2): a decision made at tick t may use data up to t only and is in
/// force from t + 1, so replacing every demand value after t by poison must leave the allocations in force at ticks
/// 0 … t + 1 exactly as they were. The procedure under test must be deterministic (same input, same output).
/// </summary>
public static class CausalityCheck
{
    /// <summary>
    /// Runs <paramref name="decide"/> on the real demand, then once per cut tick on demand poisoned after that tick, and
    /// compares. Returns null when nothing leaked, else a sentence naming the first leak found.
    /// </summary>
    /// <param name="decide">Maps aligned demand arrays (one per series) to allocation arrays in force per tick.</param>
    /// <param name="demand">The real demand, all arrays of one length.</param>
    /// <param name="cutTicks">Ticks t after which to poison (each in [0, length − 2]).</param>
    /// <param name="poison">The value written after the cut; far from real values so any use of it shows.</param>
    public static string? FindLeak(
        Func<IReadOnlyList<double[]>, IReadOnlyList<double[]>> decide,
        IReadOnlyList<double[]> demand,
        IEnumerable<int> cutTicks,
        double poison = 1e9)
    {
        ArgumentNullException.ThrowIfNull(decide);
        ArgumentNullException.ThrowIfNull(demand);
        ArgumentNullException.ThrowIfNull(cutTicks);
        if (demand.Count == 0 || demand[0].Length < 2)
        {
            throw new ArgumentException("Causality needs at least one series of at least two ticks.", nameof(demand));
        }

        var length = demand[0].Length;
        var reference = decide(demand);
        foreach (var cut in cutTicks)
        {
            if (cut < 0 || cut > length - 2)
            {
                throw new ArgumentOutOfRangeException(nameof(cutTicks), cut, $"A cut tick must lie in [0, {length - 2}].");
            }

            var poisoned = demand.Select(d =>
            {
                var copy = (double[])d.Clone();
                Array.Fill(copy, poison, cut + 1, length - cut - 1);
                return copy;
            }).ToList();
            var outcome = decide(poisoned);
            for (var s = 0; s < reference.Count; s++)
            {
                for (var u = 0; u <= cut + 1; u++)
                {
                    if (!reference[s][u].Equals(outcome[s][u]))
                    {
                        return $"poisoning demand after tick {cut} changed allocation {s} at tick {u} " +
                            $"(from {reference[s][u]} to {outcome[s][u]}): the decision in force at tick {u} was made at tick {u - 1} and used later data.";
                    }
                }
            }
        }

        return null;
    }
}

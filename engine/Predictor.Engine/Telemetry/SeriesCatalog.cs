using System.Globalization;

namespace Predictor.Engine.Telemetry;

/// <summary>
/// Gives each series a stable integer id, so the hot path (collectors, the store's writer) moves (id, timestamp, value)
/// triples and never a string. Registering the same name twice returns the same id; a different unit or step for an
/// existing name is an error, because a series means one thing for its whole life.
/// </summary>
public interface ISeriesRegistry
{
    /// <summary>Returns the id of <paramref name="info"/>'s series, creating it if new.</summary>
    int Register(SeriesInfo info);
}

/// <summary>An in-memory <see cref="ISeriesRegistry"/> (ids 1, 2, 3, ...), for replay, tests and collectors without a store.</summary>
public sealed class SeriesCatalog : ISeriesRegistry
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<SeriesInfo> _infos = [];
    private readonly Lock _lock = new();

    /// <inheritdoc />
    public int Register(SeriesInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        SeriesNames.Validate(info.Name);
        lock (_lock)
        {
            if (_ids.TryGetValue(info.Name, out var id))
            {
                SeriesNames.CheckSameMeaning(_infos[id - 1], info);
                return id;
            }

            _infos.Add(info);
            id = _infos.Count;
            _ids.Add(info.Name, id);
            return id;
        }
    }

    /// <summary>The series registered under <paramref name="id"/>.</summary>
    public SeriesInfo this[int id]
    {
        get
        {
            lock (_lock)
            {
                return id >= 1 && id <= _infos.Count
                    ? _infos[id - 1]
                    : throw new ArgumentOutOfRangeException(nameof(id), id, "No series has this id.");
            }
        }
    }

    /// <summary>Number of registered series.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _infos.Count;
            }
        }
    }
}

/// <summary>Rules for series names: '/'-separated segments of letters, digits and <c>_ - . : @</c>, e.g. <c>host/cpu/user</c>.</summary>
public static class SeriesNames
{
    /// <summary>Longest accepted name, in characters.</summary>
    public const int MaxLength = 256;

    /// <summary>Throws a <see cref="PredictorException"/> saying what is wrong with <paramref name="name"/>, if anything.</summary>
    public static void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Length > MaxLength)
        {
            throw new PredictorException($"Series name '{name}' must have 1 to {MaxLength} characters.");
        }

        var segmentLength = 0;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '/')
            {
                if (segmentLength == 0)
                {
                    throw new PredictorException(
                        $"Series name '{name}' has an empty segment at character {i + 1}; use names like 'host/cpu/user' (no leading, trailing or doubled '/').");
                }

                segmentLength = 0;
                continue;
            }

            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':' or '@'))
            {
                throw new PredictorException(
                    $"Series name '{name}' has '{c}' at character {i + 1}; segments may hold ASCII letters, digits and _ - . : @ only.");
            }

            segmentLength++;
        }

        if (segmentLength == 0)
        {
            throw new PredictorException($"Series name '{name}' ends with '/'; use names like 'host/cpu/user'.");
        }
    }

    /// <summary>Turns an arbitrary identifier (a file name, a machine id) into one valid name segment.</summary>
    public static string Segment(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var chars = raw.Trim().ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] is '_' or '-' or '.' or ':' or '@'))
            {
                chars[i] = '_';
            }
        }

        return chars.Length == 0 ? "_" : new string(chars);
    }

    // "100 ms", "5 min" for messages; compact, as the CLI's durations are written: "100ms", "5m".
    private static string Every(TimeSpan step, bool compact = false)
    {
        var (value, unit, cli) = step.TotalMilliseconds < 1000 ? (step.TotalMilliseconds, "ms", "ms")
            : step.TotalMinutes < 1 ? (step.TotalSeconds, "s", "s")
            : step.TotalHours < 1 ? (step.TotalMinutes, "min", "m")
            : (step.TotalHours, "h", "h");
        return compact
            ? string.Create(CultureInfo.InvariantCulture, $"{value:0.###}{cli}")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.###} {unit}");
    }

    internal static void CheckSameMeaning(SeriesInfo existing, SeriesInfo requested)
    {
        if (existing.Unit != requested.Unit || existing.Step != requested.Step)
        {
            throw new PredictorException(
                $"Series '{requested.Name}' is already in this store with unit '{existing.Unit}', recorded every {Every(existing.Step)}; " +
                $"these samples have unit '{requested.Unit}', recorded every {Every(requested.Step)}. A series keeps one unit and step: " +
                $"write them to another store, or record at the stored step ({Every(existing.Step, compact: true)}: collect --interval, run --tick).");
        }
    }
}

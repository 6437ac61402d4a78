namespace Predictor.Engine.Replay;

/// <summary>
/// A scenario file that cannot be used. The message names the file, the field by JSON path (e.g.
/// <c>$.partitions.user.series[2]</c>) or the line and column of a syntax error, what was found and what is expected.
/// </summary>
public sealed class ScenarioException : PredictorException
{
    /// <summary>Creates the error for a field.</summary>
    public ScenarioException(string file, string jsonPath, string message)
        : base($"scenario {file}: {jsonPath}: {message}")
    {
        File = file;
        JsonPath = jsonPath;
    }

    /// <summary>Creates the error for a syntax error at a line and column (1-based).</summary>
    public ScenarioException(string file, long line, long column, string message, Exception inner)
        : base($"scenario {file}:{line}:{column}: {message}", inner)
    {
        File = file;
        JsonPath = "$";
        Line = line;
        Column = column;
    }

    /// <summary>Use the constructors that say what is wrong.</summary>
    public ScenarioException()
    {
        File = "";
        JsonPath = "$";
    }

    /// <summary>Use the constructors that say what is wrong.</summary>
    public ScenarioException(string message)
        : base(message)
    {
        File = "";
        JsonPath = "$";
    }

    /// <summary>Use the constructors that say what is wrong.</summary>
    public ScenarioException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = "";
        JsonPath = "$";
    }

    /// <summary>The scenario file (as given).</summary>
    public string File { get; }

    /// <summary>JSON path of the field at fault; <c>$</c> for the whole document.</summary>
    public string JsonPath { get; }

    /// <summary>Line of a syntax error (1-based), else null.</summary>
    public long? Line { get; }

    /// <summary>Column of a syntax error (1-based), else null.</summary>
    public long? Column { get; }
}

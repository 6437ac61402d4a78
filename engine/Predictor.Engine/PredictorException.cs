namespace Predictor.Engine;

/// <summary>
/// Base of every error Predictor raises on purpose. Its message says what is wrong, where, and how to fix it,
/// in one line, so the CLI can print it as is and a host can log it without a stack trace.
/// </summary>
public class PredictorException : Exception
{
    /// <summary>Creates an error with a one-line, user-facing message.</summary>
    public PredictorException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an error with a one-line, user-facing message and the error that caused it.</summary>
    public PredictorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an error with no message; prefer the constructors that say what is wrong.</summary>
    public PredictorException()
    {
    }
}

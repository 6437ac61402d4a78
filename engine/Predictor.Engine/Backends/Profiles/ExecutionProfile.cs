namespace Predictor.Engine.Backends.Profiles;

/// <summary>How a module runs (DESIGN.md, seed 000), chosen from its metadata (<c>profile</c> key).</summary>
public enum ExecutionProfile
{
    /// <summary>As installed: its files where they are, in the partition's cgroups.</summary>
    Standard,

    /// <summary>Its files copied to a RAM-backed directory (tmpfs), changes synced back with checksums periodically and on stop.</summary>
    Fast,

    /// <summary>The strongest isolation this host offers: its own cgroup with an exclusive cpuset and a memory limit.</summary>
    Secure,
}

/// <summary>Reads the profile named in module metadata.</summary>
public static class ExecutionProfiles
{
    /// <summary>Parses <c>standard</c>, <c>fast</c> or <c>secure</c> (any case); null or empty means Standard.</summary>
    /// <param name="value">The metadata value.</param>
    /// <param name="where">Where the value came from, for the error message (e.g. <c>modules/web/module.json: profile</c>).</param>
    public static ExecutionProfile Parse(string? value, string where) =>
        string.IsNullOrWhiteSpace(value) ? ExecutionProfile.Standard : value.Trim().ToUpperInvariant() switch
        {
            "STANDARD" => ExecutionProfile.Standard,
            "FAST" => ExecutionProfile.Fast,
            "SECURE" => ExecutionProfile.Secure,
            _ => throw new PredictorException($"{where}: profile '{value}' is unknown; use standard, fast or secure."),
        };
}

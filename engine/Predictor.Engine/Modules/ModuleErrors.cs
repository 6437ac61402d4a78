namespace Predictor.Engine.Modules;

/// <summary>Why a module package was refused. Tests and callers branch on this; the message says it to a person.</summary>
public enum ModuleRejection
{
    /// <summary>The archive cannot be read: truncated, corrupt header, or not a tar archive.</summary>
    CorruptArchive,

    /// <summary>The archive holds something other than regular files (symlink, hard link, device, FIFO).</summary>
    LinkOrSpecialEntry,

    /// <summary>A path is absolute, contains <c>..</c>, a backslash, an empty or control-character segment.</summary>
    PathTraversal,

    /// <summary>The same path appears twice in the archive or the manifest.</summary>
    DuplicateEntry,

    /// <summary>The archive holds a file the manifest does not list.</summary>
    UnlistedFile,

    /// <summary>The manifest lists a file the archive does not hold.</summary>
    MissingFile,

    /// <summary>A file's size or SHA-256 differs from the manifest.</summary>
    TamperedFile,

    /// <summary>manifest.json or manifest.sig is missing, not valid JSON, or violates the schema.</summary>
    InvalidManifest,

    /// <summary>The signature does not verify over the manifest bytes with the named key.</summary>
    BadSignature,

    /// <summary>The signing key is not in the trust store, or was retired.</summary>
    UntrustedKey,

    /// <summary>The version is not strictly newer than the highest version committed (anti-rollback).</summary>
    Downgrade,

    /// <summary>The package or one of its files exceeds the configured size limits.</summary>
    TooLarge,
}

/// <summary>A module package was refused. Nothing was installed and the active slot is unchanged.</summary>
public sealed class ModulePackageException : PredictorException
{
    /// <summary>Creates the error.</summary>
    public ModulePackageException(ModuleRejection reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    /// <summary>Creates the error with its cause.</summary>
    public ModulePackageException(ModuleRejection reason, string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Creates an error with no reason; prefer the constructors that say what is wrong.</summary>
    public ModulePackageException()
    {
    }

    /// <summary>Creates an error with a message and no specific reason.</summary>
    public ModulePackageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an error with a message, its cause and no specific reason.</summary>
    public ModulePackageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Why the package was refused.</summary>
    public ModuleRejection Reason { get; } = ModuleRejection.InvalidManifest;
}

/// <summary>
/// A module operation other than package verification failed: trust-store or key problems, a slot that cannot be
/// switched, a broken measured log, a failed migration. The message says what, where and how to fix it.
/// </summary>
public sealed class ModuleOperationException : PredictorException
{
    /// <summary>Creates the error.</summary>
    public ModuleOperationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with its cause.</summary>
    public ModuleOperationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an error with no message; prefer the constructors that say what is wrong.</summary>
    public ModuleOperationException()
    {
    }
}

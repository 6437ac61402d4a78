using System.Text.Json;
using System.Text.Json.Serialization;

namespace Predictor.Engine.Modules.Packaging;

/// <summary>How a module is run (DESIGN.md, seed 000).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ExecutionProfile>))]
public enum ExecutionProfile
{
    /// <summary>Runs where it is installed.</summary>
    Standard,

    /// <summary>Copied to a RAM-backed partition and synchronised back.</summary>
    Fast,

    /// <summary>The strongest isolation the host offers.</summary>
    Secure,
}

/// <summary>What a module needs from its location.</summary>
/// <param name="CpuCores">CPU in cores (e.g. 0.5); must be positive.</param>
/// <param name="MemoryBytes">Memory in bytes; must be positive.</param>
/// <param name="Capabilities">Capabilities the location must offer (see <c>HardwareLocation.Capabilities</c>), e.g. <c>accelerator:gpu</c>.</param>
public sealed record ModuleResources(double CpuCores, long MemoryBytes, IReadOnlyList<string>? Capabilities = null);

/// <summary>A command run in the installed slot after the switch; exit code 0 within the timeout means healthy.</summary>
/// <param name="Command">argv; a first element starting with <c>./</c> is a file of the package.</param>
/// <param name="TimeoutMs">Milliseconds before the check counts as failed; 1..600000.</param>
public sealed record ModuleHealthCheckSpec(IReadOnlyList<string> Command, int TimeoutMs = 10_000);

/// <summary>One file of the package.</summary>
/// <param name="Path">Relative path with '/' separators, below the slot's <c>files/</c> directory.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the content.</param>
/// <param name="Executable">Installed with mode 0755 instead of 0644 (the archive's own modes are ignored).</param>
public sealed record ModuleFileEntry(string Path, long Size, string Sha256, bool Executable = false);

/// <summary>
/// The signed description of a module package. The signature covers the manifest's bytes exactly as stored in the
/// archive; they are verified before being parsed and are never re-serialised before verification.
/// </summary>
public sealed record ModuleManifest(
    int Schema,
    string Name,
    string Version,
    string KeyId,
    string EntryPoint,
    ExecutionProfile Profile,
    ModuleResources Resources,
    IReadOnlyList<ModuleFileEntry> Files,
    ModuleHealthCheckSpec? HealthCheck = null)
{
    /// <summary>The only schema this build reads.</summary>
    public const int CurrentSchema = 1;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The parsed version.</summary>
    [JsonIgnore]
    public ModuleVersion ParsedVersion => ModuleVersion.Parse(Version);

    /// <summary>Serialises the manifest; these bytes are what gets signed.</summary>
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

    /// <summary>Parses and validates manifest bytes; <paramref name="where"/> names the source in errors.</summary>
    public static ModuleManifest Parse(ReadOnlySpan<byte> bytes, string where)
    {
        ModuleManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModuleManifest>(bytes, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw Invalid($"{where}: not a valid manifest at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}, path {ex.Path ?? "$"}: {FirstLine(ex.Message)}", ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or ArgumentException or FormatException or OverflowException)
        {
            throw Invalid($"{where}: not a valid manifest ({ex.GetType().Name}: {FirstLine(ex.Message)}); re-create it with `predictor modules sign`", ex);
        }

        if (manifest is null)
        {
            throw Invalid($"{where}: the manifest is the JSON literal null; write an object with name, version, files");
        }

        manifest.Validate(where);
        return manifest;
    }

    /// <summary>Checks every field; throws <see cref="ModulePackageException"/> naming the field and the fix.</summary>
    public void Validate(string where)
    {
        if (Schema != CurrentSchema)
        {
            throw Invalid($"{where}: field 'schema' is {Schema}; this build reads schema {CurrentSchema}");
        }

        if (!IsValidName(Name))
        {
            throw Invalid($"{where}: field 'name' '{Name}' must be 1-64 characters of a-z, 0-9, '-', '_', '.', starting with a letter or digit");
        }

        if (!ModuleVersion.TryParse(Version, out _, out var versionError))
        {
            throw Invalid($"{where}: field 'version': {versionError}");
        }

        if (string.IsNullOrWhiteSpace(KeyId))
        {
            throw Invalid($"{where}: field 'keyId' is empty; it names the key that signed the manifest");
        }

        if (!(Resources.CpuCores > 0 && double.IsFinite(Resources.CpuCores)) || Resources.MemoryBytes <= 0)
        {
            throw Invalid($"{where}: field 'resources' needs cpuCores > 0 and memoryBytes > 0 (got {Resources.CpuCores}, {Resources.MemoryBytes})");
        }

        if (Resources.Capabilities is { } caps && caps.Any(c => string.IsNullOrWhiteSpace(c) || c.Any(char.IsControl)))
        {
            throw Invalid($"{where}: field 'resources.capabilities' holds an empty or control-character entry; write names like accelerator:gpu");
        }

        if (!Enum.IsDefined(Profile))
        {
            throw Invalid($"{where}: field 'profile' must be Standard, Fast or Secure");
        }

        if (Files.Count == 0)
        {
            throw Invalid($"{where}: field 'files' is empty; a package carries at least its entry point");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Files.Count; i++)
        {
            var f = Files[i];
            if (f is null)
            {
                throw Invalid($"{where}: files[{i}] is null");
            }

            PackagePaths.Check(f.Path, $"{where}: files[{i}].path");
            if (!seen.Add(f.Path))
            {
                throw new ModulePackageException(ModuleRejection.DuplicateEntry, $"{where}: files[{i}].path '{f.Path}' is listed twice; list each file once");
            }

            if (f.Size < 0 || f.Sha256 is null || f.Sha256.Length != 64 || !f.Sha256.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            {
                throw Invalid($"{where}: files[{i}] '{f.Path}' needs size >= 0 and sha256 as 64 lower-case hex digits");
            }
        }

        if (!seen.Contains(EntryPoint ?? string.Empty))
        {
            throw Invalid($"{where}: field 'entryPoint' '{EntryPoint}' is not one of the listed files");
        }

        if (HealthCheck is not null && (HealthCheck.Command is null || HealthCheck.Command.Count == 0 || HealthCheck.Command.Any(string.IsNullOrEmpty) || HealthCheck.TimeoutMs is < 1 or > 600_000))
        {
            throw Invalid($"{where}: field 'healthCheck' needs a non-empty command and timeoutMs in 1..600000");
        }

        // "./x" runs a file of the package (ModuleHealth): one that is not in it would fail every install's health check.
        if (HealthCheck?.Command[0] is { } program && program.StartsWith("./", StringComparison.Ordinal) && !seen.Contains(program[2..]))
        {
            throw Invalid($"{where}: field 'healthCheck' runs '{program}', which is not one of the listed files; put it in the package, or name a program on the host's PATH");
        }
    }

    internal static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64 && char.IsAsciiLetterOrDigit(name[0]) &&
        name.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'z' or '-' or '_' or '.') && !name.Contains("..", StringComparison.Ordinal);

    private static ModulePackageException Invalid(string message, Exception? inner = null) =>
        inner is null ? new(ModuleRejection.InvalidManifest, message) : new(ModuleRejection.InvalidManifest, message, inner);

    private static string FirstLine(string s)
    {
        var i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }
}

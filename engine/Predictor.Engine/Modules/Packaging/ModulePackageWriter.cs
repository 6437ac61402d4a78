using System.Formats.Tar;
using System.Security.Cryptography;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Modules.Packaging;

/// <summary>What the author says about a module; the file list and hashes are computed by <see cref="ModulePackageWriter"/>.</summary>
/// <param name="Name">Module name (a-z, 0-9, '-', '_', '.').</param>
/// <param name="Version">SemVer, strictly greater than any version already committed where it will be installed.</param>
/// <param name="EntryPoint">Path of the file that starts the module.</param>
/// <param name="Profile">Execution profile.</param>
/// <param name="Resources">CPU, memory and capabilities needed.</param>
/// <param name="HealthCheck">Optional command run after the switch.</param>
public sealed record ModulePackageSpec(
    string Name,
    string Version,
    string EntryPoint,
    ExecutionProfile Profile,
    ModuleResources Resources,
    ModuleHealthCheckSpec? HealthCheck = null);

/// <summary>One file to put in a package.</summary>
/// <param name="Path">Relative '/'-separated path.</param>
/// <param name="Content">The bytes.</param>
/// <param name="Executable">Install with mode 0755.</param>
public sealed record ModulePackageFile(string Path, byte[] Content, bool Executable = false);

/// <summary>
/// Writes module packages: a ustar archive holding <c>manifest.json</c>, <c>manifest.sig</c> (the detached ECDSA
/// P-256 signature document over manifest.json's exact bytes) and every file under <c>files/</c>. Entries carry a
/// fixed time, owner and mode so the same inputs give the same archive bytes.
/// </summary>
public static class ModulePackageWriter
{
    /// <summary>The manifest's name in the archive.</summary>
    public const string ManifestEntry = "manifest.json";

    /// <summary>The signature document's name in the archive.</summary>
    public const string SignatureEntry = "manifest.sig";

    /// <summary>The folder of the module's files in the archive.</summary>
    public const string FilesPrefix = "files/";

    private static readonly DateTimeOffset FixedTime = DateTimeOffset.FromUnixTimeSeconds(0);

    /// <summary>Builds the manifest, signs it with <paramref name="key"/> and returns the archive bytes.</summary>
    public static byte[] Create(ModulePackageSpec spec, IReadOnlyList<ModulePackageFile> files, ModuleSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(key);
        var entries = files
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => new ModuleFileEntry(f.Path, f.Content.LongLength, Convert.ToHexStringLower(SHA256.HashData(f.Content)), f.Executable))
            .ToList();
        var manifest = new ModuleManifest(ModuleManifest.CurrentSchema, spec.Name, spec.Version, key.KeyId, spec.EntryPoint,
            spec.Profile, spec.Resources, entries, spec.HealthCheck);
        manifest.Validate("package spec");
        var manifestBytes = manifest.ToBytes();
        return WriteArchive(manifestBytes, key.SignDetached(manifestBytes), files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => (f.Path, f.Content)));
    }

    /// <summary>Reads every regular file below <paramref name="directory"/>; refuses links and special files.</summary>
    public static IReadOnlyList<ModulePackageFile> ReadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new PredictorException($"source directory '{directory}' does not exist; point --source at the module's files");
        }

        var result = new List<ModulePackageFile>();
        foreach (var path in Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                throw new PredictorException($"'{path}' is a symbolic link; packages hold regular files only, copy the target in");
            }

            if (Directory.Exists(path))
            {
                continue;
            }

            var relative = Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/');
            var executable = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;
            result.Add(new ModulePackageFile(relative, File.ReadAllBytes(path), executable));
        }

        return result;
    }

    /// <summary>Writes the archive from already-made manifest and signature bytes (also used by tests to build bad packages).</summary>
    internal static byte[] WriteArchive(byte[] manifestBytes, byte[] signature, IEnumerable<(string Path, byte[] Content)> files)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            Add(writer, ManifestEntry, manifestBytes);
            Add(writer, SignatureEntry, signature);
            foreach (var (path, content) in files)
            {
                Add(writer, FilesPrefix + path, content);
            }
        }

        return buffer.ToArray();
    }

    private static void Add(TarWriter writer, string name, byte[] content)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(content, writable: false),
            ModificationTime = FixedTime,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            Uid = 0,
            Gid = 0,
        };
        writer.WriteEntry(entry);
    }
}

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
    /// <exception cref="ModulePackageException">The package would exceed <paramref name="limits"/> (reason <see cref="ModuleRejection.TooLarge"/>), which verify and install enforce.</exception>
    public static byte[] Create(ModulePackageSpec spec, IReadOnlyList<ModulePackageFile> files, ModuleSigningKey key, ModulePackageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(key);
        limits ??= new ModulePackageLimits();
        var entries = files
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => new ModuleFileEntry(f.Path, f.Content.LongLength, Convert.ToHexStringLower(SHA256.HashData(f.Content)), f.Executable))
            .ToList();
        var manifest = new ModuleManifest(ModuleManifest.CurrentSchema, spec.Name, spec.Version, key.KeyId, spec.EntryPoint,
            spec.Profile, spec.Resources, entries, spec.HealthCheck);
        manifest.Validate("package spec");
        CheckCount(files.Count, limits, "the package");
        foreach (var file in files)
        {
            CheckFileSize(file.Path, file.Content.LongLength, limits);
        }

        var manifestBytes = manifest.ToBytes();
        var archive = WriteArchive(manifestBytes, key.SignDetached(manifestBytes), files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => (f.Path, f.Content)));
        if (archive.LongLength > limits.MaxPackageBytes)
        {
            throw TooBig($"the package would be {archive.LongLength} bytes");
        }

        return archive;

        ModulePackageException TooBig(string what) => new(ModuleRejection.TooLarge,
            $"{what}, above the limit of {Limit(limits.MaxPackageBytes)} per package that `predictor modules verify` and `install` enforce; leave large files out of the package or split the module");
    }

    /// <summary>
    /// Reads every regular file below <paramref name="directory"/>; refuses links and special files (FIFOs, sockets,
    /// devices) and, before reading anything, files and totals above <paramref name="limits"/>.
    /// </summary>
    public static IReadOnlyList<ModulePackageFile> ReadDirectory(string directory, ModulePackageLimits? limits = null)
    {
        limits ??= new ModulePackageLimits();
        if (!Directory.Exists(directory))
        {
            throw new PredictorException($"source directory '{directory}' does not exist; point --source at the module's files");
        }

        var files = new List<(string Path, long Length)>();
        long archiveBytes = 3 * 512 + 1024 + 64 * 1024; // manifest and signature entries (a generous bound) and the end-of-archive blocks
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

            if (FileKinds.DescribeSpecial(path) is { } kind)
            {
                throw new PredictorException($"'{path}' is {kind}; packages hold regular files only, remove it from --source");
            }

            CheckFileSize(path, info.Length, limits);
            archiveBytes += 512 + ((info.Length + 511) / 512 * 512);
            if (archiveBytes > limits.MaxPackageBytes)
            {
                throw new ModulePackageException(ModuleRejection.TooLarge,
                    $"the files in '{directory}' make a package above the limit of {Limit(limits.MaxPackageBytes)} per package that `predictor modules verify` and `install` enforce (reached at '{path}'); leave large files out of --source or split the module");
            }

            files.Add((path, info.Length));
            CheckCount(files.Count, limits, $"'{directory}'");
        }

        var result = new List<ModulePackageFile>(files.Count);
        foreach (var (path, _) in files)
        {
            var relative = Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/');
            var executable = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;
            result.Add(new ModulePackageFile(relative, File.ReadAllBytes(path), executable));
        }

        return result;
    }

    private static void CheckFileSize(string path, long length, ModulePackageLimits limits)
    {
        if (length > limits.MaxFileBytes)
        {
            throw new ModulePackageException(ModuleRejection.TooLarge,
                $"'{path}' is {length} bytes, above the limit of {Limit(limits.MaxFileBytes)} per file that `predictor modules verify` and `install` enforce; leave it out of the package or ship it another way");
        }
    }

    private static void CheckCount(int count, ModulePackageLimits limits, string where)
    {
        // The manifest and the signature are two entries of the archive too.
        if (count + 2 > limits.MaxEntries)
        {
            throw new ModulePackageException(ModuleRejection.TooLarge,
                $"{where} holds more than {limits.MaxEntries - 2} files, above the limit of {limits.MaxEntries} archive entries that `predictor modules verify` and `install` enforce; pack fewer files (e.g. an archive of them)");
        }
    }

    private static string Limit(long bytes) => bytes % (1024 * 1024) == 0 ? $"{bytes} bytes ({bytes / (1024 * 1024)} MiB)" : $"{bytes} bytes";

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

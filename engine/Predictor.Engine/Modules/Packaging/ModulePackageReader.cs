using System.Formats.Tar;
using System.Security.Cryptography;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Modules.Packaging;

/// <summary>Size limits applied while reading a package, before anything is trusted.</summary>
public sealed class ModulePackageLimits
{
    private long _maxPackageBytes = 256L * 1024 * 1024;
    private long _maxFileBytes = 128L * 1024 * 1024;
    private int _maxEntries = 10_000;

    /// <summary>Largest archive accepted, in bytes.</summary>
    /// <value>The default value is 268435456 (256 MiB).</value>
    public long MaxPackageBytes
    {
        get => _maxPackageBytes;
        set => _maxPackageBytes = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be positive");
    }

    /// <summary>Largest single file, in bytes.</summary>
    /// <value>The default value is 134217728 (128 MiB).</value>
    public long MaxFileBytes
    {
        get => _maxFileBytes;
        set => _maxFileBytes = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be positive");
    }

    /// <summary>Most archive entries accepted.</summary>
    /// <value>The default value is 10000.</value>
    public int MaxEntries
    {
        get => _maxEntries;
        set => _maxEntries = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be positive");
    }
}

/// <summary>A package whose signature, key, structure and every file hash have been checked.</summary>
public sealed class VerifiedPackage
{
    internal VerifiedPackage(ModuleManifest manifest, byte[] manifestBytes, byte[] signatureBytes, IReadOnlyList<(ModuleFileEntry Entry, byte[] Content)> files)
    {
        Manifest = manifest;
        ManifestBytes = manifestBytes;
        SignatureBytes = signatureBytes;
        Files = files;
        Digest = Convert.ToHexStringLower(SHA256.HashData(manifestBytes));
    }

    /// <summary>The parsed manifest.</summary>
    public ModuleManifest Manifest { get; }

    /// <summary>The manifest's exact signed bytes.</summary>
    public byte[] ManifestBytes { get; }

    /// <summary>The detached signature document.</summary>
    public byte[] SignatureBytes { get; }

    /// <summary>SHA-256 (hex) of the manifest bytes: it covers every file's hash, so it identifies the package content.</summary>
    public string Digest { get; }

    /// <summary>Every file with its verified content, in manifest order.</summary>
    public IReadOnlyList<(ModuleFileEntry Entry, byte[] Content)> Files { get; }
}

/// <summary>
/// Reads and verifies a package. Order: archive structure (regular files only, safe paths, no duplicates, sizes
/// bounded) → signature over the manifest's exact bytes with a trusted key → manifest schema → every file listed,
/// present, of the listed size and SHA-256. Any failure throws <see cref="ModulePackageException"/>; nothing is
/// written anywhere.
/// </summary>
public static class ModulePackageReader
{
    /// <summary>Reads <paramref name="path"/> and verifies it.</summary>
    public static VerifiedPackage ReadFile(string path, TrustStore trust, ModulePackageLimits? limits = null)
    {
        limits ??= new ModulePackageLimits();
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new PredictorException($"package '{path}' does not exist; build one with `predictor modules sign`");
        }

        if (info.Length > limits.MaxPackageBytes)
        {
            throw new ModulePackageException(ModuleRejection.TooLarge, $"package '{path}' is {info.Length} bytes, above the limit of {limits.MaxPackageBytes} bytes per package; rebuild it from fewer or smaller files");
        }

        return Read(File.ReadAllBytes(path), trust, path, limits);
    }

    /// <summary>Verifies a package held in memory; <paramref name="where"/> names it in errors.</summary>
    public static VerifiedPackage Read(byte[] archive, TrustStore trust, string where, ModulePackageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(trust);
        limits ??= new ModulePackageLimits();
        if (archive.LongLength > limits.MaxPackageBytes)
        {
            throw new ModulePackageException(ModuleRejection.TooLarge, $"{where}: {archive.LongLength} bytes, above the limit of {limits.MaxPackageBytes} bytes per package; rebuild it from fewer or smaller files");
        }

        var entries = ReadEntries(archive, where, limits);
        if (!entries.TryGetValue(ModulePackageWriter.ManifestEntry, out var manifestBytes) ||
            !entries.TryGetValue(ModulePackageWriter.SignatureEntry, out var signatureBytes))
        {
            throw new ModulePackageException(ModuleRejection.InvalidManifest, $"{where}: the archive lacks {ModulePackageWriter.ManifestEntry} or {ModulePackageWriter.SignatureEntry} at its root; build it with `predictor modules sign`");
        }

        // Signature first, over the bytes as stored: nothing in the manifest is believed before this succeeds.
        var (keyId, signature) = DetachedSignature.Read(signatureBytes, $"{where}: {ModulePackageWriter.SignatureEntry}");
        trust.Verify(keyId, manifestBytes, signature, $"{where}: {ModulePackageWriter.ManifestEntry}");
        var manifest = ModuleManifest.Parse(manifestBytes, $"{where}: {ModulePackageWriter.ManifestEntry}");
        if (manifest.KeyId != keyId)
        {
            throw new ModulePackageException(ModuleRejection.BadSignature, $"{where}: the manifest names key '{manifest.KeyId}' but was signed by '{keyId}'; re-sign it");
        }

        var listed = new Dictionary<string, ModuleFileEntry>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            listed[ModulePackageWriter.FilesPrefix + file.Path] = file;
        }

        foreach (var name in entries.Keys)
        {
            if (name is not ModulePackageWriter.ManifestEntry and not ModulePackageWriter.SignatureEntry && !listed.ContainsKey(name))
            {
                throw new ModulePackageException(ModuleRejection.UnlistedFile, $"{where}: archive entry '{PackagePaths.Printable(name)}' is not listed in the manifest; list it or remove it");
            }
        }

        var files = new List<(ModuleFileEntry, byte[])>(manifest.Files.Count);
        foreach (var file in manifest.Files)
        {
            if (!entries.TryGetValue(ModulePackageWriter.FilesPrefix + file.Path, out var content))
            {
                throw new ModulePackageException(ModuleRejection.MissingFile, $"{where}: '{file.Path}' is listed in the manifest but missing from the archive");
            }

            if (content.LongLength != file.Size || Convert.ToHexStringLower(SHA256.HashData(content)) != file.Sha256)
            {
                throw new ModulePackageException(ModuleRejection.TamperedFile, $"{where}: '{file.Path}' does not match the manifest (size {content.LongLength} vs {file.Size}, or SHA-256 differs); the file was altered after signing");
            }

            files.Add((file, content));
        }

        return new VerifiedPackage(manifest, manifestBytes, signatureBytes, files);
    }

    private static Dictionary<string, byte[]> ReadEntries(byte[] archive, string where, ModulePackageLimits limits)
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var stream = new MemoryStream(archive, writable: false);
        long total = 0;
        try
        {
            using var reader = new TarReader(stream, leaveOpen: true);
            while (reader.GetNextEntry(copyData: false) is { } entry)
            {
                if (entries.Count >= limits.MaxEntries)
                {
                    throw new ModulePackageException(ModuleRejection.TooLarge, $"{where}: more than {limits.MaxEntries} entries");
                }

                var name = entry.Name;
                switch (entry.EntryType)
                {
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                        break;
                    case TarEntryType.Directory:
                        PackagePaths.Check(name.TrimEnd('/'), $"{where}: directory entry");
                        continue;
                    case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                        throw new ModulePackageException(ModuleRejection.LinkOrSpecialEntry, $"{where}: entry '{PackagePaths.Printable(name)}' is a {entry.EntryType} to '{PackagePaths.Printable(entry.LinkName)}'; packages hold regular files only");
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                        throw new ModulePackageException(ModuleRejection.LinkOrSpecialEntry, $"{where}: entry '{PackagePaths.Printable(name)}' is a {entry.EntryType}; packages hold regular files only");
                    default:
                        throw new ModulePackageException(ModuleRejection.CorruptArchive, $"{where}: entry '{PackagePaths.Printable(name)}' has unsupported type {entry.EntryType}; packages hold regular files only");
                }

                PackagePaths.Check(name, $"{where}: archive entry");
                if (entry.Length < 0 || entry.Length > limits.MaxFileBytes || (total += entry.Length) > limits.MaxPackageBytes)
                {
                    throw new ModulePackageException(ModuleRejection.TooLarge, $"{where}: entry '{PackagePaths.Printable(name)}' is {entry.Length} bytes, above the limits");
                }

                var content = new byte[entry.Length];
                if (entry.Length > 0)
                {
                    var data = entry.DataStream ?? throw new EndOfStreamException("entry has no data");
                    data.ReadExactly(content);
                }

                if (!entries.TryAdd(name, content))
                {
                    throw new ModulePackageException(ModuleRejection.DuplicateEntry, $"{where}: entry '{PackagePaths.Printable(name)}' appears twice; an archive holds each path once");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or OverflowException or ArgumentException or IOException or NotSupportedException or InvalidOperationException)
        {
            throw new ModulePackageException(ModuleRejection.CorruptArchive, $"{where}: not a readable tar archive near byte {stream.Position} ({ex.GetType().Name}: {ex.Message.Split('\n')[0]}); the file is truncated or corrupt, fetch it again", ex);
        }

        return entries;
    }
}

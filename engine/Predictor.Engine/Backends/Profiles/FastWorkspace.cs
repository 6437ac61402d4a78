using System.Globalization;
using System.Security.Cryptography;

namespace Predictor.Engine.Backends.Profiles;

/// <summary>What one synchronisation copied back.</summary>
/// <param name="Copied">Files written back because their checksum changed (or they are new).</param>
/// <param name="Deleted">Files removed from the source because they were removed in RAM.</param>
/// <param name="Bytes">Bytes written back.</param>
public readonly record struct SyncReport(int Copied, int Deleted, long Bytes);

/// <summary>
/// The Fast profile's working copy: a module's files copied into a RAM-backed directory (tmpfs, /dev/shm by
/// default), where the module reads and writes them; <see cref="Sync"/> writes back every file whose SHA-256
/// differs from the last synced state (new files too) and removes files deleted in RAM. Each write-back goes to a
/// temporary file beside the target, is re-read and checked against the RAM file's checksum, then renamed over the
/// target, so a crash mid-sync leaves either the old or the new file, never a torn one. Sync runs periodically
/// (<see cref="StartPeriodicSync"/>) and on <see cref="Dispose"/> (a clean stop loses nothing). Dispose then
/// removes the RAM copy. Not for the hot path: it hashes files.
/// </summary>
public sealed class FastWorkspace : IDisposable
{
    private readonly string _source;
    private readonly Dictionary<string, byte[]> _synced = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private bool _disposed;

    private FastWorkspace(string source, string ramDirectory)
    {
        _source = source;
        RamDirectory = ramDirectory;
    }

    /// <summary>The RAM-backed directory the module works in.</summary>
    public string RamDirectory { get; }

    /// <summary>The last error of a periodic sync (null when the last one worked).</summary>
    public Exception? LastSyncError { get; private set; }

    /// <summary>
    /// Copies <paramref name="sourceDirectory"/> into a new directory under <paramref name="ramRoot"/>, which must be a
    /// tmpfs mount (or inside one); throws a <see cref="PredictorException"/> saying so when it is not.
    /// </summary>
    public static FastWorkspace Open(string sourceDirectory, string ramRoot = "/dev/shm")
    {
        ArgumentNullException.ThrowIfNull(sourceDirectory);
        if (!Directory.Exists(sourceDirectory))
        {
            throw new PredictorException($"Fast profile: the module directory '{sourceDirectory}' does not exist.");
        }

        var fs = FileSystemOf(ramRoot);
        if (fs is not "tmpfs" and not "ramfs")
        {
            throw new PredictorException(
                $"Fast profile: '{ramRoot}' is on a '{fs ?? "unknown"}' file system, not RAM-backed (tmpfs/ramfs); mount a tmpfs there or pick /dev/shm.");
        }

        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(sourceDirectory)));
        var ram = Path.Combine(ramRoot, "predictor-fast", $"{name}-{Guid.NewGuid():N}"[..Math.Min(name.Length + 9, 64)]);
        var workspace = new FastWorkspace(Path.GetFullPath(sourceDirectory), ram);
        Directory.CreateDirectory(ram);
        foreach (var file in Directory.EnumerateFiles(workspace._source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(workspace._source, file);
            var target = Path.Combine(ram, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            workspace._synced[relative] = Hash(target);
        }

        return workspace;
    }

    /// <summary>Syncs every <paramref name="interval"/> on <paramref name="time"/>'s timer; errors are kept in <see cref="LastSyncError"/>.</summary>
    public void StartPeriodicSync(TimeSpan interval, TimeProvider? time = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _timer?.Dispose();
        _timer = (time ?? TimeProvider.System).CreateTimer(_ => SyncQuietly(), null, interval, interval);
    }

    /// <summary>Writes changed and new files back to the source and removes files deleted in RAM.</summary>
    public SyncReport Sync()
    {
        lock (_gate)
        {
            var copied = 0;
            var deleted = 0;
            long bytes = 0;
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var file in Directory.EnumerateFiles(RamDirectory, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(RamDirectory, file);
                present.Add(relative);
                var hash = Hash(file);
                if (_synced.TryGetValue(relative, out var known) && known.AsSpan().SequenceEqual(hash))
                {
                    continue;
                }

                bytes += WriteBack(file, Path.Combine(_source, relative), hash);
                _synced[relative] = hash;
                copied++;
            }

            foreach (var relative in _synced.Keys.Where(k => !present.Contains(k)).ToList())
            {
                File.Delete(Path.Combine(_source, relative));
                _synced.Remove(relative);
                deleted++;
            }

            return new SyncReport(copied, deleted, bytes);
        }
    }

    /// <summary>Stops the timer, syncs a last time, and removes the RAM copy (kept when the last sync fails).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _timer?.Dispose();
        Sync(); // throws if it cannot write back: the RAM copy stays for recovery
        Directory.Delete(RamDirectory, recursive: true);
        var parent = Path.GetDirectoryName(RamDirectory)!;
        if (Directory.Exists(parent) && !Directory.EnumerateFileSystemEntries(parent).Any())
        {
            try
            {
                Directory.Delete(parent);
            }
            catch (IOException)
            {
                // another workspace was opened meanwhile: it owns the parent now
            }
        }
    }

    private void SyncQuietly()
    {
        try
        {
            Sync();
            LastSyncError = null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PredictorException)
        {
            LastSyncError = ex;
        }
    }

    private static long WriteBack(string ramFile, string target, byte[] expected)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = target + ".predictor-sync";
        File.Copy(ramFile, temporary, overwrite: true);
        if (!Hash(temporary).AsSpan().SequenceEqual(expected))
        {
            // The RAM file changed while we copied it (the module is writing): the next sync takes the new state.
            File.Delete(temporary);
            throw new PredictorException($"Fast profile: '{ramFile}' changed while it was being synced; it will be synced again.");
        }

        File.Move(temporary, target, overwrite: true);
        return new FileInfo(target).Length;
    }

    private static byte[] Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }

    /// <summary>The file system type of the mount holding <paramref name="path"/> (longest matching mount point).</summary>
    internal static string? FileSystemOf(string path)
    {
        var full = Path.GetFullPath(path);
        string? best = null;
        var bestLength = -1;
        foreach (var line in File.ReadLines("/proc/mounts"))
        {
            var fields = line.Split(' ');
            if (fields.Length < 3)
            {
                continue;
            }

            var mount = fields[1].Replace("\\040", " ", StringComparison.Ordinal);
            var inside = full == mount || full.StartsWith(mount.EndsWith('/') ? mount : mount + "/", StringComparison.Ordinal);
            if (inside && mount.Length > bestLength)
            {
                best = fields[2];
                bestLength = mount.Length;
            }
        }

        return best;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{_source} ⇄ {RamDirectory}");
}

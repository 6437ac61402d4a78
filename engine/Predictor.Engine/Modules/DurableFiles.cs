using System.Runtime.InteropServices;

namespace Predictor.Engine.Modules;

/// <summary>
/// Crash-safe file operations. A rename is atomic on POSIX file systems, but only durable once the directory that
/// holds the name is fsynced; a file's content is only durable once the file itself is fsynced before the rename.
/// With <c>durable</c> false the fsyncs are skipped (tests on throw-away directories); atomicity is unchanged.
/// </summary>
internal static partial class DurableFiles
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux x86-64 and arm64 value

    /// <summary>Replaces <paramref name="path"/> with <paramref name="bytes"/> atomically: temp file, fsync, rename, fsync directory.</summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> bytes, bool durable)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(durable);
        }

        File.Move(temp, path, overwrite: true);
        if (durable)
        {
            SyncDirectory(directory);
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with what <paramref name="write"/> writes, atomically: into a hidden temporary
    /// file beside it, then renamed over it, so a reader, a crash or Ctrl+C mid-write sees the old file whole or the new
    /// one, never half of either. The temporary file is removed when <paramref name="write"/> throws. Creates the folder.
    /// </summary>
    public static void WriteAtomic(string path, Action<Stream> write, bool durable)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(durable);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        if (durable)
        {
            SyncDirectory(directory);
        }
    }

    /// <summary>Creates a new file with a Unix mode set at creation (no window with wider permissions).</summary>
    public static FileStream CreateNew(string path, UnixFileMode mode)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        return new FileStream(path, options);
    }

    /// <summary>fsyncs every file and directory below <paramref name="root"/>, then <paramref name="root"/> itself.</summary>
    public static void SyncTree(string root)
    {
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);
            RandomAccess.FlushToDisk(handle);
        }

        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
        {
            SyncDirectory(dir);
        }

        SyncDirectory(root);
    }

    /// <summary>fsyncs a directory so that renames and creations inside it survive a power cut.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // elsewhere the rename is still atomic; directory fsync is a Linux/POSIX notion we do not emulate
        }

        var fd = Open(directory, ORdOnly | ODirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Deletes a directory tree if it exists; used for staging and trash directories only.</summary>
    public static void DeleteTree(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

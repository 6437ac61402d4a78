using System.Runtime.InteropServices;

namespace Predictor.Engine.Modules.Packaging;

/// <summary>
/// What kind of file a path names, without opening it: opening a FIFO for reading blocks until a writer appears and
/// a device can be read forever, so the package writer must know before it reads. Uses Linux <c>statx</c>, whose
/// buffer layout is the same on every architecture.
/// </summary>
internal static partial class FileKinds
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int ModeOffset = 28; // stx_mode: after stx_mask, stx_blksize (u32), stx_attributes (u64), stx_nlink, stx_uid, stx_gid (u32)

    /// <summary>
    /// Null for a regular file (or where the kind cannot be told: not Linux); otherwise what the path is, in words,
    /// e.g. "a FIFO (named pipe)". Links are not followed.
    /// </summary>
    public static string? DescribeSpecial(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = new byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            return null; // the read that follows reports a missing or unreadable file in its own words
        }

        var mode = BitConverter.ToUInt16(buffer, ModeOffset) & 0xF000;
        return mode switch
        {
            0x8000 => null,
            0x1000 => "a FIFO (named pipe)",
            0xC000 => "a socket",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0x4000 => "a directory",
            0xA000 => "a symbolic link",
            _ => "not a regular file",
        };
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirFd, string path, int flags, uint mask, [Out] byte[] buffer);
}

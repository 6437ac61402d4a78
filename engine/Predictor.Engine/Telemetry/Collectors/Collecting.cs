using System.Buffers.Text;
using Microsoft.Win32.SafeHandles;

namespace Predictor.Engine.Telemetry.Collectors;

/// <summary>Reads one group of kernel counters and adds this tick's samples (series id, value) to the buffer.</summary>
public interface ITelemetryCollector
{
    /// <summary>Appends the current readings; a collector that cannot read something reports it once and adds what it can.</summary>
    void Collect(SampleBuffer output);
}

/// <summary>Pre-allocated (series id, value) pairs of one tick; <see cref="Add"/> never allocates once sized.</summary>
public sealed class SampleBuffer
{
    private int[] _ids;
    private double[] _values;

    /// <summary>Creates a buffer for about <paramref name="capacity"/> samples per tick.</summary>
    public SampleBuffer(int capacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ids = new int[capacity];
        _values = new double[capacity];
    }

    /// <summary>Samples in the buffer.</summary>
    public int Count { get; private set; }

    /// <summary>Series ids, first <see cref="Count"/> valid.</summary>
    public ReadOnlySpan<int> SeriesIds => _ids.AsSpan(0, Count);

    /// <summary>Values, first <see cref="Count"/> valid.</summary>
    public ReadOnlySpan<double> Values => _values.AsSpan(0, Count);

    /// <summary>Adds one sample (grows only when more series appear than the capacity held).</summary>
    public void Add(int seriesId, double value)
    {
        if (Count == _ids.Length)
        {
            Array.Resize(ref _ids, _ids.Length * 2);
            Array.Resize(ref _values, _values.Length * 2);
        }

        _ids[Count] = seriesId;
        _values[Count] = value;
        Count++;
    }

    /// <summary>Empties the buffer, keeping its arrays.</summary>
    public void Clear() => Count = 0;
}

/// <summary>Says each problem once (keyed by what failed), through the injected callback, so a missing file does not flood the log.</summary>
internal sealed class ProblemReporter(Action<string>? sink)
{
    private readonly HashSet<string> _said = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void Once(string key, string message)
    {
        lock (_lock)
        {
            if (_said.Add(key))
            {
                sink?.Invoke(message);
            }
        }
    }
}

/// <summary>
/// A kernel file read again and again into one pre-allocated buffer: the handle stays open and each read is a
/// pread at offset 0, which makes procfs/sysfs/cgroupfs regenerate the contents. No allocation per read.
/// </summary>
internal sealed class KernelFile : IDisposable
{
    private readonly ProblemReporter _problems;
    private byte[] _buffer;
    private SafeFileHandle? _handle;
    private int _length;
    private int _failures;
    private int _skipReads;

    public KernelFile(string path, ProblemReporter problems, int initialBuffer = 4096)
    {
        Path = path;
        _problems = problems;
        _buffer = new byte[initialBuffer];
    }

    public string Path { get; }

    /// <summary>Bytes of the last successful read.</summary>
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(0, _length);

    public static bool Exists(string path) => File.Exists(path);

    /// <summary>Reads the whole file; false (reported once) when it is missing or unreadable.</summary>
    public bool TryRead()
    {
        // After a failure, retry after 1, 2, 4 ... up to 256 calls: a missing file costs an exception per attempt.
        if (_skipReads > 0)
        {
            _skipReads--;
            return false;
        }

        try
        {
            _handle ??= File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            while (true)
            {
                _length = RandomAccess.Read(_handle, _buffer, 0);
                if (_length < _buffer.Length)
                {
                    _failures = 0;
                    return true;
                }

                // Filled the buffer: the file may be longer (e.g. /proc/stat on a many-core host); grow once and retry.
                _buffer = new byte[_buffer.Length * 2];
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _handle?.Dispose();
            _handle = null;
            _length = 0;
            _failures++;
            _skipReads = 1 << Math.Min(_failures - 1, 8);
            _problems.Once(Path, $"telemetry: cannot read '{Path}' ({ex.GetType().Name}: {ex.Message}); its series are skipped until it becomes readable.");
            return false;
        }
    }

    public void Dispose() => _handle?.Dispose();
}

/// <summary>Allocation-free ASCII parsing of kernel text files.</summary>
internal static class KernelText
{
    /// <summary>Finds the line that starts with <paramref name="prefix"/>; <paramref name="rest"/> is what follows it.</summary>
    public static bool TryFindLine(ReadOnlySpan<byte> data, ReadOnlySpan<byte> prefix, out ReadOnlySpan<byte> rest)
    {
        while (!data.IsEmpty)
        {
            var end = data.IndexOf((byte)'\n');
            var line = end < 0 ? data : data[..end];
            if (line.StartsWith(prefix))
            {
                rest = line[prefix.Length..];
                return true;
            }

            data = end < 0 ? default : data[(end + 1)..];
        }

        rest = default;
        return false;
    }

    /// <summary>Parses whitespace-separated unsigned integers into <paramref name="output"/>; returns how many.</summary>
    public static int ParseUnsigned(ReadOnlySpan<byte> line, Span<ulong> output)
    {
        var n = 0;
        while (n < output.Length)
        {
            line = line.TrimStart(" \t"u8);
            if (line.IsEmpty || !Utf8Parser.TryParse(line, out ulong value, out var consumed))
            {
                break;
            }

            output[n++] = value;
            line = line[consumed..];
        }

        return n;
    }

    /// <summary>The <paramref name="index"/>-th (0-based) space-separated token of a line, or empty.</summary>
    public static ReadOnlySpan<byte> Token(ReadOnlySpan<byte> line, int index)
    {
        for (var i = 0; ; i++)
        {
            line = line.TrimStart(" \t"u8);
            if (line.IsEmpty)
            {
                return default;
            }

            var end = line.IndexOfAny(" \t\n"u8);
            var token = end < 0 ? line : line[..end];
            if (i == index)
            {
                return token;
            }

            line = end < 0 ? default : line[end..];
        }
    }

    /// <summary>Reads the number after <c>key</c> (e.g. <c>avg10=</c>) in a line.</summary>
    public static bool TryParseAfter(ReadOnlySpan<byte> line, ReadOnlySpan<byte> key, out double value)
    {
        var at = line.IndexOf(key);
        value = 0;
        return at >= 0 && Utf8Parser.TryParse(line[(at + key.Length)..], out value, out _);
    }

    /// <summary>Reads the unsigned number after <c>key</c> in a line.</summary>
    public static bool TryParseAfter(ReadOnlySpan<byte> line, ReadOnlySpan<byte> key, out ulong value)
    {
        var at = line.IndexOf(key);
        value = 0;
        return at >= 0 && Utf8Parser.TryParse(line[(at + key.Length)..].TrimStart(" \t"u8), out value, out _);
    }
}

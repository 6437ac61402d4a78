using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;

namespace Predictor.Engine.Storage;

/// <summary>How a chunk's samples are encoded; the first byte of every chunk blob, so old chunks stay readable.</summary>
public enum ChunkCodecKind : byte
{
    /// <summary>Gorilla (Pelkonen et al., VLDB 2015): delta-of-delta timestamps and XOR-encoded doubles, bit-packed.</summary>
    Gorilla = 1,

    /// <summary>
    /// Decimal-scaled integers: every value is an exact decimal with at most 9 fractional digits, stored as the integer
    /// value·10^d, differenced (order 0, 1 or 2, whichever is smallest), zigzag varints; timestamps as delta-of-delta
    /// zigzag varints; the whole byte stream then goes through Brotli when that is smaller. Values that do not scale
    /// exactly (NaN, ±∞, −0, subnormals, more digits) are kept as raw 64-bit exceptions.
    /// </summary>
    ScaledDecimal = 2,
}

/// <summary>
/// Encodes a chunk of (timestamp, value) samples losslessly: the decimal-scaled codec when the values are decimals
/// (as imported traces and /proc readings are), Gorilla otherwise. Decoding reproduces every double bit for bit.
/// One instance holds reusable scratch buffers: not thread-safe, no allocation in steady state besides the output.
/// </summary>
internal sealed class ChunkEncoder
{
    /// <summary>Largest number of fractional decimal digits the scaled codec tries.</summary>
    public const int MaxDecimals = 9;

    private const int BrotliQuality = 5;
    private const int BrotliWindow = 22;

    // Integers up to 2^53 convert to double exactly, so scaled / 10^d is one correctly rounded division.
    private const double MaxExactInteger = 9007199254740992d;

    private readonly BitWriter _bits = new();
    private long[] _scaled = new long[1024];
    private byte[] _varints = new byte[16 * 1024];
    private byte[] _compressed = new byte[16 * 1024];
    private readonly ArrayBufferWriter<byte> _gorillaProbe = new(16 * 1024);

    /// <summary>Encodes with the best codec for these samples and appends the chunk blob to <paramref name="output"/>.</summary>
    public ChunkCodecKind Encode(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, IBufferWriter<byte> output)
    {
        if (timestamps.Length != values.Length || timestamps.Length == 0)
        {
            throw new ArgumentException("A chunk needs at least one sample and as many timestamps as values.", nameof(values));
        }

        if (TryEncodeScaled(timestamps, values, output))
        {
            return ChunkCodecKind.ScaledDecimal;
        }

        EncodeGorilla(timestamps, values, output);
        return ChunkCodecKind.Gorilla;
    }

    /// <summary>Plain Gorilla, the baseline the benchmarks compare against.</summary>
    public void EncodeGorilla(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, IBufferWriter<byte> output)
    {
        var n = timestamps.Length;
        WriteHeader(output, ChunkCodecKind.Gorilla, n);
        var w = _bits;
        w.Reset();
        w.Write((ulong)timestamps[0], 64);
        var prevBits = (ulong)BitConverter.DoubleToInt64Bits(values[0]);
        w.Write(prevBits, 64);
        long prevDelta = 0;
        var prevLeading = -1;
        var prevTrailing = 0;
        for (var i = 1; i < n; i++)
        {
            var delta = timestamps[i] - timestamps[i - 1];
            WriteDeltaOfDelta(w, delta - prevDelta);
            prevDelta = delta;

            var bits = (ulong)BitConverter.DoubleToInt64Bits(values[i]);
            var xor = bits ^ prevBits;
            prevBits = bits;
            if (xor == 0)
            {
                w.WriteBit(false);
                continue;
            }

            w.WriteBit(true);
            var leading = Math.Min(BitOperations.LeadingZeroCount(xor), 31);
            var trailing = BitOperations.TrailingZeroCount(xor);
            if (prevLeading >= 0 && leading >= prevLeading && trailing >= prevTrailing)
            {
                // Reuse the previous window: only the meaningful bits inside it.
                w.WriteBit(false);
                w.Write(xor >> prevTrailing, 64 - prevLeading - prevTrailing);
            }
            else
            {
                var meaningful = 64 - leading - trailing;
                w.WriteBit(true);
                w.Write((ulong)leading, 5);
                w.Write((ulong)(meaningful - 1), 6);
                w.Write(xor >> trailing, meaningful);
                prevLeading = leading;
                prevTrailing = trailing;
            }
        }

        w.CopyTo(output);
    }

    /// <summary>The smallest d ≤ 9 such that Math.Round(v·10^d)/10^d reproduces v bit for bit, or −1.</summary>
    internal static int DecimalsOf(double value)
    {
        for (var d = 0; d <= MaxDecimals; d++)
        {
            var p = Pow10[d];
            var s = Math.Round(value * p);
            if (Math.Abs(s) < MaxExactInteger && BitConverter.DoubleToInt64Bits(s / p) == BitConverter.DoubleToInt64Bits(value))
            {
                return d;
            }
        }

        return -1;
    }

    internal static readonly double[] Pow10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

    private bool TryEncodeScaled(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, IBufferWriter<byte> output)
    {
        var n = values.Length;
        var exact = 0;
        var present = 0;
        for (var i = 0; i < n; i++)
        {
            var d = DecimalsOf(values[i]);
            if (d >= 0)
            {
                exact++;
                present |= 1 << d;
            }
        }

        // Values with full 53-bit mantissas (averages of averages) have no decimal structure: Gorilla it is. (A chunk
        // where many values are sums with float noise still pays: the residual stream below absorbs the noise.)
        if (exact * 16 < n)
        {
            return false;
        }

        // The precision that costs least: the largest one seen makes every decimal exact but the integers long; a smaller
        // one shortens them at the price of residuals for the rarer longer decimals. Estimated in varint bytes.
        var decimals = -1;
        long bestCost = long.MaxValue;
        for (var d = 0; d <= MaxDecimals; d++)
        {
            if ((present & (1 << d)) == 0)
            {
                continue;
            }

            var cost = EstimateCost(values, Pow10[d]);
            if (cost < bestCost)
            {
                bestCost = cost;
                decimals = d;
            }
        }

        if (_scaled.Length < n)
        {
            _scaled = new long[Math.Max(n, _scaled.Length * 2)];
        }

        // Worst case: 10 bytes per varint for ts and value, plus 10 per exception or residual and their gaps.
        var bound = 64 + (n * 40);
        if (_varints.Length < bound)
        {
            _varints = new byte[Math.Max(bound, _varints.Length * 2)];
        }

        var p = Pow10[decimals];
        var buf = _varints.AsSpan();
        var pos = 0;
        WriteTimestamps(timestamps, buf, ref pos);

        // Pass 1: integers, and the exceptions (non-finite, or too large to scale) kept as raw bits.
        var exceptionsAt = pos;
        pos += 5; // room for the count, patched below as a fixed 5-byte varint
        var exceptions = 0;
        var lastIndex = 0;
        long previous = 0;
        for (var i = 0; i < n; i++)
        {
            var v = values[i];
            var s = Math.Round(v * p);
            if (double.IsFinite(v) && Math.Abs(s) < MaxExactInteger)
            {
                previous = (long)s;
            }
            else
            {
                pos += Varint.Write(buf[pos..], (ulong)(i - lastIndex));
                lastIndex = i;
                BinaryPrimitives.WriteInt64LittleEndian(buf[pos..], BitConverter.DoubleToInt64Bits(v));
                pos += 8;
                exceptions++;
            }

            // An exception's slot repeats the previous integer so the differences stay small.
            _scaled[i] = previous;
        }

        WriteFixedVarint(buf[exceptionsAt..], (uint)exceptions);

        // Pass 2: residuals. A decimal like 51.846000000000004 is one ulp away from 51.846; storing the difference of
        // the IEEE bit patterns (value − scaled/10^d) makes every finite double exact. Sparse (index gap, k) pairs when
        // few values need one; a dense run of one zigzag k per value when many do (sums of decimals), which Brotli squeezes.
        var residuals = 0;
        for (var i = 0; i < n; i++)
        {
            if (Residual(values[i], _scaled[i], p) != 0)
            {
                residuals++;
            }
        }

        var dense = residuals * 4 > n;
        pos += Varint.Write(buf[pos..], dense ? (ulong)n + 1 : (ulong)residuals);
        lastIndex = 0;
        for (var i = 0; i < n; i++)
        {
            var k = Residual(values[i], _scaled[i], p);
            if (dense)
            {
                pos += Varint.WriteZigZag(buf[pos..], k);
            }
            else if (k != 0)
            {
                pos += Varint.Write(buf[pos..], (ulong)(i - lastIndex));
                lastIndex = i;
                pos += Varint.WriteZigZag(buf[pos..], k);
            }
        }

        var scaled = _scaled.AsSpan(0, n);
        var order = BestOrder(scaled);
        WriteDifferences(scaled, order, buf, ref pos);

        // The general-purpose stage pays on long runs (regular timestamps, flat values); keep raw when it does not.
        var compressor = (byte)0;
        var payload = buf[..pos];
        if (_compressed.Length < pos + 64)
        {
            _compressed = new byte[Math.Max(pos + 64, _compressed.Length * 2)];
        }

        if (BrotliEncoder.TryCompress(payload, _compressed, out var written, BrotliQuality, BrotliWindow) && written < pos)
        {
            compressor = 1;
            payload = _compressed.AsSpan(0, written);
        }

        // Many residuals mean the values are not really decimals: keep whichever encoding is smaller.
        if ((residuals + exceptions) * 8 > n)
        {
            _gorillaProbe.ResetWrittenCount();
            EncodeGorilla(timestamps, values, _gorillaProbe);
            if (_gorillaProbe.WrittenCount <= payload.Length + 8)
            {
                return false;
            }
        }

        WriteHeader(output, ChunkCodecKind.ScaledDecimal, n);
        var head = output.GetSpan(3 + 10);
        head[0] = (byte)decimals;
        head[1] = (byte)order;
        head[2] = compressor;
        var headLength = 3 + Varint.Write(head[3..], (ulong)pos);
        output.Advance(headLength);
        var dest = output.GetSpan(payload.Length);
        payload.CopyTo(dest);
        output.Advance(payload.Length);
        return true;
    }

    private static long EstimateCost(ReadOnlySpan<double> values, double p)
    {
        long cost = 0;
        long previous = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            var s = Math.Round(v * p);
            if (!double.IsFinite(v) || Math.Abs(s) >= MaxExactInteger)
            {
                cost += 9;
                continue;
            }

            var scaled = (long)s;
            cost += Varint.SizeOfZigZag(scaled - previous);
            var k = BitConverter.DoubleToInt64Bits(v) - BitConverter.DoubleToInt64Bits(scaled / p);
            cost += k == 0 ? 0 : 1 + Varint.SizeOfZigZag(k);
            previous = scaled;
        }

        return cost;
    }

    private static long Residual(double v, long scaled, double p) =>
        double.IsFinite(v) && Math.Abs(Math.Round(v * p)) < MaxExactInteger
            ? BitConverter.DoubleToInt64Bits(v) - BitConverter.DoubleToInt64Bits(scaled / p)
            : 0;

    private static void WriteFixedVarint(Span<byte> dest, uint value)
    {
        for (var i = 0; i < 4; i++)
        {
            dest[i] = (byte)((value & 0x7F) | 0x80);
            value >>= 7;
        }

        dest[4] = (byte)value;
    }

    private static int BestOrder(ReadOnlySpan<long> scaled)
    {
        long size0 = 0, size1 = 0, size2 = 0;
        long prev = 0, prevDelta = 0;
        for (var i = 0; i < scaled.Length; i++)
        {
            var delta = scaled[i] - prev;
            size0 += Varint.SizeOfZigZag(scaled[i]);
            size1 += Varint.SizeOfZigZag(delta);
            size2 += Varint.SizeOfZigZag(delta - prevDelta);
            prev = scaled[i];
            prevDelta = delta;
        }

        return size0 <= size1 && size0 <= size2 ? 0 : size1 <= size2 ? 1 : 2;
    }

    private static void WriteDifferences(ReadOnlySpan<long> scaled, int order, Span<byte> buf, ref int pos)
    {
        long prev = 0, prevDelta = 0;
        for (var i = 0; i < scaled.Length; i++)
        {
            var delta = scaled[i] - prev;
            var v = order switch
            {
                0 => scaled[i],
                1 => delta,
                _ => delta - prevDelta,
            };
            pos += Varint.WriteZigZag(buf[pos..], v);
            prev = scaled[i];
            prevDelta = delta;
        }
    }

    private static void WriteTimestamps(ReadOnlySpan<long> timestamps, Span<byte> buf, ref int pos)
    {
        long prev = 0, prevDelta = 0;
        for (var i = 0; i < timestamps.Length; i++)
        {
            var delta = timestamps[i] - prev;
            pos += Varint.WriteZigZag(buf[pos..], i == 0 ? timestamps[0] : delta - prevDelta);
            prevDelta = i == 0 ? 0 : delta;
            prev = timestamps[i];
        }
    }

    private static void WriteDeltaOfDelta(BitWriter w, long dod)
    {
        if (dod == 0)
        {
            w.WriteBit(false);
        }
        else if (dod is >= -64 and <= 63)
        {
            w.Write(0b10, 2);
            w.Write((ulong)dod, 7);
        }
        else if (dod is >= -256 and <= 255)
        {
            w.Write(0b110, 3);
            w.Write((ulong)dod, 9);
        }
        else if (dod is >= -2048 and <= 2047)
        {
            w.Write(0b1110, 4);
            w.Write((ulong)dod, 12);
        }
        else
        {
            w.Write(0b1111, 4);
            w.Write((ulong)dod, 64);
        }
    }

    private static void WriteHeader(IBufferWriter<byte> output, ChunkCodecKind kind, int count)
    {
        var span = output.GetSpan(11);
        span[0] = (byte)kind;
        output.Advance(1 + Varint.Write(span[1..], (ulong)count));
    }
}

/// <summary>Decodes chunk blobs written by <see cref="ChunkEncoder"/>; a corrupt blob is an <see cref="InvalidDataException"/>.</summary>
internal static class ChunkDecoder
{
    /// <summary>Number of samples in the chunk.</summary>
    public static int CountOf(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length < 2)
        {
            throw new InvalidDataException("Chunk blob is shorter than its header.");
        }

        Varint.Read(chunk[1..], out var count);
        return checked((int)count);
    }

    /// <summary>Decodes all samples into the spans (each at least <see cref="CountOf"/> long); returns the count.</summary>
    public static int Decode(ReadOnlySpan<byte> chunk, Span<long> timestamps, Span<double> values)
    {
        var kind = (ChunkCodecKind)chunk[0];
        var pos = 1 + Varint.Read(chunk[1..], out var count64);
        var n = checked((int)count64);
        if (timestamps.Length < n || values.Length < n)
        {
            throw new ArgumentException($"Output spans hold fewer than the chunk's {n} samples.", nameof(timestamps));
        }

        switch (kind)
        {
            case ChunkCodecKind.Gorilla:
                DecodeGorilla(chunk[pos..], n, timestamps, values);
                break;
            case ChunkCodecKind.ScaledDecimal:
                DecodeScaled(chunk[pos..], n, timestamps, values);
                break;
            default:
                throw new InvalidDataException($"Unknown chunk codec {(byte)kind}: the file was written by a newer Predictor or is corrupt.");
        }

        return n;
    }

    private static void DecodeGorilla(ReadOnlySpan<byte> data, int n, Span<long> timestamps, Span<double> values)
    {
        var r = new BitReader(data);
        timestamps[0] = (long)r.Read(64);
        var prevBits = r.Read(64);
        values[0] = BitConverter.Int64BitsToDouble((long)prevBits);
        long prevDelta = 0;
        var leading = 0;
        var trailing = 0;
        for (var i = 1; i < n; i++)
        {
            var delta = prevDelta + ReadDeltaOfDelta(ref r);
            timestamps[i] = timestamps[i - 1] + delta;
            prevDelta = delta;

            if (r.ReadBit())
            {
                if (r.ReadBit())
                {
                    leading = (int)r.Read(5);
                    var meaningful = (int)r.Read(6) + 1;
                    trailing = 64 - leading - meaningful;
                }

                var xor = r.Read(64 - leading - trailing) << trailing;
                prevBits ^= xor;
            }

            values[i] = BitConverter.Int64BitsToDouble((long)prevBits);
        }
    }

    private static long ReadDeltaOfDelta(ref BitReader r)
    {
        if (!r.ReadBit())
        {
            return 0;
        }

        if (!r.ReadBit())
        {
            return SignExtend(r.Read(7), 7);
        }

        if (!r.ReadBit())
        {
            return SignExtend(r.Read(9), 9);
        }

        return !r.ReadBit() ? SignExtend(r.Read(12), 12) : (long)r.Read(64);
    }

    private static long SignExtend(ulong value, int bits)
    {
        var shift = 64 - bits;
        return (long)(value << shift) >> shift;
    }

    private static void DecodeScaled(ReadOnlySpan<byte> data, int n, Span<long> timestamps, Span<double> values)
    {
        int decimals = data[0];
        int order = data[1];
        int compressor = data[2];
        if (decimals > ChunkEncoder.MaxDecimals || order > 2 || compressor > 1)
        {
            throw new InvalidDataException("Scaled-decimal chunk header is corrupt.");
        }

        var pos = 3 + Varint.Read(data[3..], out var rawLength64);
        var rawLength = checked((int)rawLength64);
        byte[]? rented = null;
        ReadOnlySpan<byte> stream;
        if (compressor == 1)
        {
            rented = ArrayPool<byte>.Shared.Rent(rawLength);
            if (!BrotliDecoder.TryDecompress(data[pos..], rented, out var written) || written != rawLength)
            {
                ArrayPool<byte>.Shared.Return(rented);
                throw new InvalidDataException("Scaled-decimal chunk does not decompress to its stated length.");
            }

            stream = rented.AsSpan(0, rawLength);
        }
        else
        {
            stream = data.Slice(pos, rawLength);
        }

        try
        {
            var p = 0;
            long prev = 0, prevDelta = 0;
            for (var i = 0; i < n; i++)
            {
                p += Varint.ReadZigZag(stream[p..], out var v);
                if (i == 0)
                {
                    timestamps[0] = v;
                    prev = v;
                    continue;
                }

                var delta = prevDelta + v;
                prev += delta;
                timestamps[i] = prev;
                prevDelta = delta;
            }

            p += Varint.Read(stream[p..], out var exceptions64);
            var exceptions = checked((int)exceptions64);
            var exceptionStart = p;
            for (var e = 0; e < exceptions; e++)
            {
                p += Varint.Read(stream[p..], out _);
                p += 8;
            }

            // Residual count n + 1 marks the dense form: one zigzag k per value.
            p += Varint.Read(stream[p..], out var residuals64);
            var dense = residuals64 == (ulong)n + 1;
            var residuals = dense ? n : checked((int)residuals64);
            var residualStart = p;
            for (var e = 0; e < residuals; e++)
            {
                if (!dense)
                {
                    p += Varint.Read(stream[p..], out _);
                }

                p += Varint.Read(stream[p..], out _);
            }

            var scale = ChunkEncoder.Pow10[decimals];
            prev = 0;
            prevDelta = 0;
            for (var i = 0; i < n; i++)
            {
                p += Varint.ReadZigZag(stream[p..], out var v);
                long current = order switch
                {
                    0 => v,
                    1 => prev + v,
                    _ => prev + prevDelta + v,
                };
                prevDelta = current - prev;
                prev = current;
                values[i] = current / scale;
            }

            var q = residualStart;
            var index = 0;
            for (var e = 0; e < residuals; e++)
            {
                if (dense)
                {
                    index = e;
                }
                else
                {
                    q += Varint.Read(stream[q..], out var gap);
                    index += checked((int)gap);
                }

                q += Varint.ReadZigZag(stream[q..], out var k);
                values[index] = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(values[index]) + k);
            }

            q = exceptionStart;
            index = 0;
            for (var e = 0; e < exceptions; e++)
            {
                q += Varint.Read(stream[q..], out var gap);
                index += checked((int)gap);
                values[index] = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(stream[q..]));
                q += 8;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}

/// <summary>LEB128 varints and zigzag signed varints.</summary>
internal static class Varint
{
    public static int Write(Span<byte> dest, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            dest[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        dest[i++] = (byte)value;
        return i;
    }

    public static int WriteZigZag(Span<byte> dest, long value) => Write(dest, (ulong)((value << 1) ^ (value >> 63)));

    public static int SizeOfZigZag(long value)
    {
        var z = (ulong)((value << 1) ^ (value >> 63));
        return z == 0 ? 1 : ((64 - BitOperations.LeadingZeroCount(z)) + 6) / 7;
    }

    public static int Read(ReadOnlySpan<byte> src, out ulong value)
    {
        value = 0;
        var shift = 0;
        for (var i = 0; i < 10; i++)
        {
            if (i >= src.Length)
            {
                throw new InvalidDataException("Varint runs past the end of the chunk: the chunk is corrupt.");
            }

            var b = src[i];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return i + 1;
            }

            shift += 7;
        }

        throw new InvalidDataException("Varint longer than 10 bytes: the chunk is corrupt.");
    }

    public static int ReadZigZag(ReadOnlySpan<byte> src, out long value)
    {
        var n = Read(src, out var z);
        value = (long)(z >> 1) ^ -(long)(z & 1);
        return n;
    }
}

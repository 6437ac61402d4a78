using System.Buffers;

namespace Predictor.Engine.Storage;

/// <summary>
/// Appends bits most-significant first to a growable byte buffer (Gorilla's bit stream). Reused across chunks:
/// <see cref="Reset"/> keeps the buffer, so steady-state encoding does not allocate.
/// </summary>
internal sealed class BitWriter
{
    private byte[] _buffer = new byte[4096];
    private int _bytePos;
    private ulong _acc;   // pending bits, left-aligned count in _accBits
    private int _accBits;

    /// <summary>Bytes written so far, including a partially filled last byte.</summary>
    public int Length => _bytePos + ((_accBits + 7) / 8);

    public void Reset()
    {
        _bytePos = 0;
        _acc = 0;
        _accBits = 0;
    }

    /// <summary>Writes the low <paramref name="count"/> bits (0..64) of <paramref name="value"/>.</summary>
    public void Write(ulong value, int count)
    {
        if (count == 0)
        {
            return;
        }

        if (count > 32)
        {
            Write(value >> 32, count - 32);
            Write(value & 0xFFFF_FFFFUL, 32);
            return;
        }

        value &= (1UL << count) - 1;
        _acc = (_acc << count) | value;
        _accBits += count;
        while (_accBits >= 8)
        {
            EnsureCapacity(1);
            _accBits -= 8;
            _buffer[_bytePos++] = (byte)(_acc >> _accBits);
        }

        _acc &= (1UL << _accBits) - 1;
    }

    public void WriteBit(bool bit) => Write(bit ? 1UL : 0UL, 1);

    /// <summary>Copies the stream (last byte zero-padded) to <paramref name="output"/>.</summary>
    public void CopyTo(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(Length);
        _buffer.AsSpan(0, _bytePos).CopyTo(span);
        if (_accBits > 0)
        {
            span[_bytePos] = (byte)(_acc << (8 - _accBits));
        }

        output.Advance(Length);
    }

    private void EnsureCapacity(int extra)
    {
        if (_bytePos + extra > _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
    }
}

/// <summary>Reads bits most-significant first; reading past the end is a corrupt chunk.</summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _data;
    private long _bitPos;

    public BitReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _bitPos = 0;
    }

    public ulong Read(int count)
    {
        if (count > 32)
        {
            var high = Read(count - 32);
            return (high << 32) | Read(32);
        }

        ulong result = 0;
        for (var remaining = count; remaining > 0;)
        {
            var byteIndex = (int)(_bitPos >> 3);
            if (byteIndex >= _data.Length)
            {
                throw new InvalidDataException("Gorilla chunk ends early: the bit stream is truncated or corrupt.");
            }

            var bitInByte = (int)(_bitPos & 7);
            var available = 8 - bitInByte;
            var take = Math.Min(available, remaining);
            var bits = (_data[byteIndex] >> (available - take)) & ((1 << take) - 1);
            result = (result << take) | (uint)bits;
            remaining -= take;
            _bitPos += take;
        }

        return result;
    }

    public bool ReadBit() => Read(1) != 0;
}

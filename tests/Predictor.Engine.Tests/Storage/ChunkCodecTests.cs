using System.Buffers;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry.Import;
using Predictor.TestSupport;

namespace Predictor.Engine.Tests.Storage;

public class ChunkCodecTests
{
    private static (long[] T, double[] V) RoundTrip(long[] t, double[] v, bool gorilla, out ChunkCodecKind kind)
    {
        var buf = new ArrayBufferWriter<byte>();
        var enc = new ChunkEncoder();
        if (gorilla)
        {
            enc.EncodeGorilla(t, v, buf);
            kind = ChunkCodecKind.Gorilla;
        }
        else
        {
            kind = enc.Encode(t, v, buf);
        }

        Assert.Equal((byte)kind, buf.WrittenSpan[0]);
        var n = ChunkDecoder.CountOf(buf.WrittenSpan);
        var rt = new long[n];
        var rv = new double[n];
        ChunkDecoder.Decode(buf.WrittenSpan, rt, rv);
        return (rt, rv);
    }

    private static void AssertBitExact(long[] t, double[] v, (long[] T, double[] V) got)
    {
        Assert.Equal(t, got.T);
        Assert.Equal(v.Length, got.V.Length);
        for (var i = 0; i < v.Length; i++)
        {
            Assert.True(
                BitConverter.DoubleToInt64Bits(v[i]) == BitConverter.DoubleToInt64Bits(got.V[i]),
                $"sample {i}: wrote {v[i]:R} (0x{BitConverter.DoubleToInt64Bits(v[i]):X16}), read {got.V[i]:R} (0x{BitConverter.DoubleToInt64Bits(got.V[i]):X16})");
        }
    }

    private static readonly double[] Specials =
    [
        double.NaN, 0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, -double.Epsilon,
        2.2250738585072009e-308, double.MaxValue, double.MinValue, 1e300, -1e-300, BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_1234),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encode_SpecialValuesAmongDecimals_RoundTripsBitExact(bool gorilla)
    {
        var n = 200;
        var t = new long[n];
        var v = new double[n];
        for (var i = 0; i < n; i++)
        {
            t[i] = 1_600_000_000_000 + (i * 300_000L) + (i % 7 == 0 ? 13 : 0);
            v[i] = i % 15 == 0 ? Specials[(i / 15) % Specials.Length] : Math.Round(50 + (10 * Math.Sin(i / 10.0)), 3);
        }

        var got = RoundTrip(t, v, gorilla, out var kind);
        AssertBitExact(t, v, got);
        Assert.Equal(gorilla ? ChunkCodecKind.Gorilla : ChunkCodecKind.ScaledDecimal, kind);
    }

    [Fact]
    public void Encode_OnlySpecialValues_RoundTripsBitExact()
    {
        var t = Enumerable.Range(0, Specials.Length).Select(i => (long)i * 1000).ToArray();
        AssertBitExact(t, Specials, RoundTrip(t, Specials, false, out _));
    }

    [Fact]
    public void Encode_RandomBitPatterns_RoundTripBitExactWithBothCodecs()
    {
        var rng = new Random(7);
        var n = 1000;
        var t = new long[n];
        var v = new double[n];
        long ts = -5_000;
        for (var i = 0; i < n; i++)
        {
            ts += rng.Next(1, 100_000) * (rng.Next(10) == 0 ? 1000L : 1L);
            t[i] = ts;
            v[i] = BitConverter.Int64BitsToDouble(rng.NextInt64(long.MinValue, long.MaxValue));
        }

        AssertBitExact(t, v, RoundTrip(t, v, true, out _));
        AssertBitExact(t, v, RoundTrip(t, v, false, out _));
    }

    [Fact]
    public void Encode_DecimalsWithFloatNoise_UsesScaledCodecAndStaysExact()
    {
        // Values as CSV files hold them: 51.846000000000004 is 51.846 plus one ulp.
        var v = new[] { 51.846000000000004, 44.508, 41.244, 48.56800000000001, 46.714, 13.334000000000001, 0.1 + 0.2, 1e-7, 123456.123456789 };
        var t = Enumerable.Range(0, v.Length).Select(i => (long)i * 300_000).ToArray();
        var got = RoundTrip(t, v, false, out var kind);
        AssertBitExact(t, v, got);
        Assert.Equal(ChunkCodecKind.ScaledDecimal, kind);
    }

    [Fact]
    public void Encode_SingleSample_RoundTrips()
    {
        AssertBitExact([42], [3.25], RoundTrip([42], [3.25], false, out _));
        AssertBitExact([42], [3.25], RoundTrip([42], [3.25], true, out _));
    }

    [Fact]
    public void DecimalsOf_ReturnsSmallestExactPrecision()
    {
        Assert.Equal(0, ChunkEncoder.DecimalsOf(42));
        Assert.Equal(3, ChunkEncoder.DecimalsOf(0.132));
        Assert.Equal(6, ChunkEncoder.DecimalsOf(44.459092));
        Assert.Equal(-1, ChunkEncoder.DecimalsOf(0.4416155843647663));
        Assert.Equal(-1, ChunkEncoder.DecimalsOf(double.NaN));
    }

    [Fact]
    public void Decode_UnknownCodecTag_ThrowsInvalidData()
    {
        var blob = new byte[] { 99, 1, 0 };
        Assert.Throws<InvalidDataException>(() => ChunkDecoder.Decode(blob, new long[1], new double[1]));
    }

    [Fact]
    public void Encode_NabAndAzureV1_AtMostHalfOfGorillaAndExact()
    {
        var d = RepoPaths.SharedDatasets;
        var files = new (TraceFormat, string)[]
        {
            (TraceFormat.Nab, Path.Combine(d, "nab", "data", "realAWSCloudwatch", "ec2_cpu_utilization_5f5533.csv")),
            (TraceFormat.AzureV1, Path.Combine(d, "azure_v1", "microsoft_avg_100.subset30.csv")),
            (TraceFormat.Google2011, Path.Combine(d, "google2011_vms", "vm_5718864796_1")),
        };
        foreach (var (format, file) in files)
        {
            long ours = 0, gorilla = 0;
            foreach (var s in TraceImporter.Import(format, file).Series.Take(5))
            {
                for (var i = 0; i < s.Count; i += 1024)
                {
                    var len = Math.Min(1024, s.Count - i);
                    var t = s.Timestamps.AsSpan(i, len).ToArray();
                    var v = s.Values.AsSpan(i, len).ToArray();
                    var buf = new ArrayBufferWriter<byte>();
                    var enc = new ChunkEncoder();
                    enc.Encode(t, v, buf);
                    ours += buf.WrittenCount;
                    var rt = new long[len];
                    var rv = new double[len];
                    ChunkDecoder.Decode(buf.WrittenSpan, rt, rv);
                    AssertBitExact(t, v, (rt, rv));
                    buf.ResetWrittenCount();
                    enc.EncodeGorilla(t, v, buf);
                    gorilla += buf.WrittenCount;
                }
            }

            Assert.True(ours * 2 <= gorilla, $"{Path.GetFileName(file)}: {ours} bytes vs Gorilla {gorilla}");
        }
    }
}

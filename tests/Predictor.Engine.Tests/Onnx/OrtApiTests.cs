using System.Runtime.InteropServices;
using Predictor.Engine.Onnx;
using Predictor.Engine.Onnx.Native;

namespace Predictor.Engine.Tests.Onnx;

/// <summary>
/// Calls entries spread over the OrtApi table directly, each with a result that only the right function gives, so a
/// mis-counted index (which would call a neighbour with the wrong signature) fails here.
/// </summary>
public unsafe class OrtApiTests
{
    [Fact]
    public void VersionString_LibraryFetchedByTheBuild_Is1_30_0()
    {
        Assert.Equal("1.30.0", OrtApi.Instance.VersionString);
        Assert.Equal("1.30.0", OnnxModelInspector.RuntimeVersion);
    }

    [Fact]
    public void StatusEntries_0_1_2_93_RoundTripCodeAndMessage()
    {
        var api = OrtApi.Instance;
        nint status;
        fixed (byte* message = "table check\0"u8)
        {
            status = api.CreateStatus((int)OnnxRuntimeErrorCode.InvalidGraph, message);
        }

        Assert.NotEqual(0, status);
        Assert.Equal((int)OnnxRuntimeErrorCode.InvalidGraph, api.GetErrorCode(status));
        Assert.Equal("table check", Marshal.PtrToStringUTF8((nint)api.GetErrorMessage(status)));
        api.ReleaseStatus(status);
    }

    [Fact]
    public void StatusHelper_ErrorStatus_ThrowsTypedExceptionWithCodeAndMessage()
    {
        var api = OrtApi.Instance;
        nint status;
        fixed (byte* message = "bad thing\0"u8)
        {
            status = api.CreateStatus((int)OnnxRuntimeErrorCode.NoSuchFile, message);
        }

        var ex = Assert.Throws<OnnxRuntimeException>(() => OrtStatus.Check(api, status, "testing"));

        Assert.Equal(OnnxRuntimeErrorCode.NoSuchFile, ex.ErrorCode);
        Assert.Equal("bad thing", ex.RuntimeMessage);
        Assert.Equal("ONNX Runtime failed while testing: [NoSuchFile] bad thing", ex.Message);
    }

    [Fact]
    public void AddSessionConfigEntry_130_AcceptsAKeyAndRefusesAnEmptyOne()
    {
        var api = OrtApi.Instance;
        nint created;
        OrtStatus.Check(api, api.CreateSessionOptions(&created));
        var options = created;
        try
        {
            nint accepted;
            nint refused;
            fixed (byte* key = "session.intra_op.allow_spinning\0"u8, empty = "\0"u8, value = "0\0"u8)
            {
                accepted = api.AddSessionConfigEntry(options, key, value);
                refused = api.AddSessionConfigEntry(options, empty, value);
            }

            Assert.Equal(0, accepted);
            // Only the config-entry functions check a key's length; a neighbour in the table would not say this.
            var e = Assert.Throws<OnnxRuntimeException>(() => OrtStatus.Check(api, refused, "testing"));
            Assert.Contains("key", e.RuntimeMessage, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            api.ReleaseSessionOptions(options);
        }
    }

    [Fact]
    public void CreateEnv_3_And_SessionEntries_30_31_36_111_123_ReadTheModel()
    {
        var api = OrtApi.Instance;
        Assert.False(OrtEnvironment.Handle.IsInvalid);
        using var session = OnnxSession.FromBytes(TestModels.Naive(48, 12), new OnnxSessionOptions());

        nuint inputs;
        nuint outputs;
        OrtStatus.Check(api, api.SessionGetInputCount(session.Handle.Pointer, &inputs));
        OrtStatus.Check(api, api.SessionGetOutputCount(session.Handle.Pointer, &outputs));
        Assert.Equal((nuint)1, inputs);
        Assert.Equal((nuint)2, outputs);

        byte* name;
        OrtStatus.Check(api, api.SessionGetInputName(session.Handle.Pointer, 0, api.DefaultAllocator, &name));
        Assert.Equal("window", Marshal.PtrToStringUTF8((nint)name));
        OrtStatus.Check(api, api.AllocatorFree(api.DefaultAllocator, name));

        nint metadata;
        OrtStatus.Check(api, api.SessionGetModelMetadata(session.Handle.Pointer, &metadata));
        byte** keys;
        long count;
        OrtStatus.Check(api, api.ModelMetadataGetCustomMetadataMapKeys(metadata, api.DefaultAllocator, &keys, &count));
        var names = new List<string>();
        for (long i = 0; i < count; i++)
        {
            names.Add(Marshal.PtrToStringUTF8((nint)keys[i])!);
            OrtStatus.Check(api, api.AllocatorFree(api.DefaultAllocator, keys[i]));
        }

        OrtStatus.Check(api, api.AllocatorFree(api.DefaultAllocator, keys));
        api.ReleaseModelMetadata(metadata);
        Assert.Contains(ModelContract.Card.Window, names);
        Assert.Contains(ModelContract.Card.SchemaVersion, names);
    }

    [Fact]
    public void TensorEntries_49_69_96_WrapPinnedMemoryInPlace()
    {
        using var tensor = FloatTensor.Allocate([2, 3]);
        tensor.Data.Fill(1.5f);

        Assert.False(tensor.Value.IsInvalid);
        Assert.Equal(6, tensor.ElementCount);
        Assert.Equal([2L, 3L], tensor.Shape.ToArray());
    }
}

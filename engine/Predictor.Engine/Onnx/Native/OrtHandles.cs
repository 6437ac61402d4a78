using System.Runtime.InteropServices;

namespace Predictor.Engine.Onnx.Native;

/// <summary>
/// Base of every handle on an ORT object: owns the pointer and releases it exactly once with the object's own
/// Release function, even when the owner forgets to dispose (finalizer) or a thread aborts mid-call.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle(OrtApi api)
        : base(0, ownsHandle: true)
    {
        Api = api;
    }

    public override bool IsInvalid => handle == 0;

    protected OrtApi Api { get; }

    /// <summary>The raw pointer, for calls inside the binding only (the caller keeps the handle alive).</summary>
    internal nint Pointer => handle;

    /// <summary>Takes ownership of <paramref name="pointer"/>, which ORT just created.</summary>
    internal void Own(nint pointer) => SetHandle(pointer);
}

internal sealed class OrtEnvHandle(OrtApi api) : OrtHandle(api)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseEnv(handle);
        return true;
    }
}

internal sealed class OrtSessionOptionsHandle(OrtApi api) : OrtHandle(api)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseSessionOptions(handle);
        return true;
    }
}

internal sealed class OrtSessionHandle(OrtApi api) : OrtHandle(api)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseSession(handle);
        return true;
    }
}

internal sealed class OrtMemoryInfoHandle(OrtApi api) : OrtHandle(api)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseMemoryInfo(handle);
        return true;
    }
}

internal sealed class OrtValueHandle(OrtApi api) : OrtHandle(api)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseValue(handle);
        return true;
    }
}

internal sealed class OrtTypeInfoHandle(OrtApi api) : OrtHandle(api)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseTypeInfo(handle);
        return true;
    }
}

internal sealed class OrtModelMetadataHandle(OrtApi api) : OrtHandle(api)
{
    protected override unsafe bool ReleaseHandle()
    {
        Api.ReleaseModelMetadata(handle);
        return true;
    }
}

/// <summary>A string or array ORT allocated with its default allocator and handed to us; freed with that allocator.</summary>
internal sealed class OrtAllocatedHandle(OrtApi api) : OrtHandle(api)
{
    protected override unsafe bool ReleaseHandle()
    {
        // AllocatorFree returns a status; a failure to free cannot be reported from a release, and ORT's default
        // allocator does not fail on a pointer it handed out.
        nint status = Api.AllocatorFree(Api.DefaultAllocator, (void*)handle);
        if (status != 0)
        {
            Api.ReleaseStatus(status);
        }

        return true;
    }
}

/// <summary>Unmanaged memory of ours (UTF-8 names, pointer arrays for Run), freed with NativeMemory.Free.</summary>
internal sealed unsafe class NativeBufferHandle : SafeHandle
{
    public NativeBufferHandle(nuint bytes)
        : base(0, ownsHandle: true)
    {
        SetHandle((nint)NativeMemory.AllocZeroed(bytes));
        Length = bytes;
    }

    public override bool IsInvalid => handle == 0;

    public nuint Length { get; }

    internal void* Pointer => (void*)handle;

    protected override bool ReleaseHandle()
    {
        NativeMemory.Free((void*)handle);
        return true;
    }
}

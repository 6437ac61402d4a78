using System.Security.Cryptography;
using Predictor.Engine.Placement;

namespace Predictor.Engine.Modules.Hosting;

/// <summary>What one migration did, as observed.</summary>
/// <param name="ModuleId">The hosted module.</param>
/// <param name="From">Location before.</param>
/// <param name="To">Location after.</param>
/// <param name="SnapshotBytes">Size of the state snapshot.</param>
/// <param name="StateSha256">SHA-256 (hex) of the snapshot; the restored state hashed to the same value.</param>
/// <param name="ObservedCpu">CPU the module thread ran on right after the move (backend observation).</param>
/// <param name="AffinityAfter">The thread's CPU mask after the move, read back from the backend.</param>
/// <param name="Paused">How long the module did no work.</param>
public sealed record MigrationRecord(string ModuleId, string From, string To, int SnapshotBytes, string StateSha256, int ObservedCpu, IReadOnlyList<int> AffinityAfter, TimeSpan Paused);

/// <summary>
/// Runs one <see cref="IStatefulModule"/> on a dedicated thread pinned to a <see cref="HardwareLocation"/>. A move
/// is carried out by the module's own thread at a safe point (between steps): snapshot and hash the state, pin the
/// thread to the target's CPUs (the kernel moves it before <c>sched_setaffinity</c> returns), rebuild the module
/// from the snapshot there, check the rebuilt state hashes to the snapshot's hash, then resume. If anything fails
/// the thread is pinned back and the old instance keeps running: a failed move loses nothing.
/// </summary>
public sealed class ModuleHost : IDisposable
{
    private readonly ICpuAffinity _affinity;
    private readonly TimeProvider _time;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new();
    private readonly ManualResetEventSlim _wake = new();
    private readonly Lock _gate = new();
    private IStatefulModule _module;
    private HardwareLocation _location;
    private ILocationView? _view;
    private MoveRequest? _request;
    private volatile bool _stopping;
    private int _threadId;

    /// <summary>Creates the host; call <see cref="Start"/> to run it.</summary>
    public ModuleHost(string id, IStatefulModule module, HardwareLocation location, ICpuAffinity affinity, TimeProvider time, IReadOnlySet<string>? requiredCapabilities = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(affinity);
        ArgumentNullException.ThrowIfNull(time);
        Id = id;
        _module = module;
        _location = location;
        _affinity = affinity;
        _time = time;
        RequiredCapabilities = requiredCapabilities ?? new HashSet<string>();
        CheckFits(location);
        _thread = new Thread(Run) { IsBackground = true, Name = $"module:{id}" };
    }

    /// <summary>The module's id.</summary>
    public string Id { get; }

    /// <summary>Capabilities every location of this module must offer.</summary>
    public IReadOnlySet<string> RequiredCapabilities { get; }

    /// <summary>Where the module runs now.</summary>
    public HardwareLocation Location
    {
        get
        {
            lock (_gate)
            {
                return _location;
            }
        }
    }

    /// <summary>The OS thread id of the module's thread (valid after <see cref="Start"/>).</summary>
    public int OsThreadId => Volatile.Read(ref _threadId);

    /// <summary>The error that stopped the module's thread, if any.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Starts the thread and pins it to the initial location; returns once pinned.</summary>
    public void Start()
    {
        _thread.Start();
        _started.Wait();
        if (Fault is not null)
        {
            throw new ModuleOperationException($"module '{Id}' failed to start at '{_location.Id}': {Fault.Message}", Fault);
        }
    }

    /// <summary>Asks the module's thread to move to <paramref name="target"/> at its next safe point.</summary>
    public Task<MigrationRecord> MoveAsync(HardwareLocation target)
    {
        ArgumentNullException.ThrowIfNull(target);
        CheckFits(target);
        var request = new MoveRequest(target);
        if (Interlocked.CompareExchange(ref _request, request, null) is not null)
        {
            throw new ModuleOperationException($"module '{Id}' is already being moved; wait for that move to finish");
        }

        if (_stopping || !_thread.IsAlive)
        {
            _request = null;
            throw new ModuleOperationException($"module '{Id}' is not running{(Fault is null ? string.Empty : $" (it failed: {Fault.Message})")}; start it before moving it");
        }

        _wake.Set();
        return request.Done.Task;
    }

    /// <summary>Pauses the module at its next safe point, returns its state snapshot, and lets it continue in place.</summary>
    public byte[] SnapshotNow()
    {
        var request = new MoveRequest(null);
        if (Interlocked.CompareExchange(ref _request, request, null) is not null)
        {
            throw new ModuleOperationException($"module '{Id}' is being moved; try again");
        }

        _wake.Set();
        request.Done.Task.GetAwaiter().GetResult();
        return request.Snapshot!;
    }

    /// <summary>Stops the loop at the next safe point and waits for the thread.</summary>
    public void Stop()
    {
        _stopping = true;
        _wake.Set();
        if (_thread.IsAlive)
        {
            _thread.Join();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Stop();
        _started.Dispose();
        _wake.Dispose();
    }

    private void CheckFits(HardwareLocation target)
    {
        var missing = RequiredCapabilities.Where(c => !target.Capabilities.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new ModuleOperationException($"location '{target.Id}' lacks {string.Join(", ", missing)} that module '{Id}' requires; choose a location that offers them");
        }

        if (target.CpuIds.Count == 0)
        {
            throw new ModuleOperationException($"location '{target.Id}' has no CPU ids; a hosted module needs at least one");
        }
    }

    private void Run()
    {
        try
        {
            _threadId = _affinity.CurrentThreadId();
            _affinity.Apply(_threadId, _location.CpuIds);
            _view = new LocationView(_location, _affinity, _threadId);
        }
        catch (Exception ex) when (ex is PredictorException or IOException or ArgumentException)
        {
            Fault = ex;
            _started.Set();
            return;
        }

        _started.Set();
        try
        {
            while (true)
            {
                if (Interlocked.Exchange(ref _request, null) is { } request)
                {
                    // Safe point: the previous Step has returned and the next has not begun.
                    Handle(request);
                    continue;
                }

                if (_stopping)
                {
                    return;
                }

                if (!_module.Step(_view!))
                {
                    // Nothing to do: sleep briefly but wake at once for a move or a stop.
                    _wake.Wait(1);
                    _wake.Reset();
                }
            }
        }
        catch (Exception ex)
        {
            Fault = ex;
            Interlocked.Exchange(ref _request, null)?.Done.TrySetException(ex);
        }
    }

    private void Handle(MoveRequest request)
    {
        var pausedAt = _time.GetTimestamp();
        var from = _location;
        try
        {
            var snapshot = _module.Snapshot();
            var hash = SHA256.HashData(snapshot);
            if (request.Target is null)
            {
                request.Snapshot = snapshot;
                request.Done.TrySetResult(new MigrationRecord(Id, from.Id, from.Id, snapshot.Length, Convert.ToHexStringLower(hash), _affinity.LastProcessor(_threadId), _affinity.Get(_threadId), _time.GetElapsedTime(pausedAt)));
                return;
            }

            var target = request.Target;
            _affinity.Apply(_threadId, target.CpuIds);
            IStatefulModule restored;
            try
            {
                restored = _module.Restore(snapshot);
                var restoredHash = SHA256.HashData(restored.Snapshot());
                if (!restoredHash.AsSpan().SequenceEqual(hash))
                {
                    throw new ModuleOperationException($"module '{Id}': state restored at '{target.Id}' hashes to {Convert.ToHexStringLower(restoredHash)}, snapshot was {Convert.ToHexStringLower(hash)}; its Snapshot/Restore are not inverse, the move was undone");
                }
            }
            catch
            {
                _affinity.Apply(_threadId, from.CpuIds);
                throw;
            }

            var observed = _affinity.LastProcessor(_threadId);
            var mask = _affinity.Get(_threadId);
            lock (_gate)
            {
                _module = restored;
                _location = target;
            }

            _view = new LocationView(target, _affinity, _threadId);
            request.Done.TrySetResult(new MigrationRecord(Id, from.Id, target.Id, snapshot.Length, Convert.ToHexStringLower(hash), observed, mask, _time.GetElapsedTime(pausedAt)));
        }
        catch (Exception ex) when (ex is PredictorException or IOException or ArgumentException or FormatException or InvalidOperationException)
        {
            // The old instance and location stay in force; the caller learns why.
            request.Done.TrySetException(ex);
        }
    }

    private sealed class MoveRequest(HardwareLocation? target)
    {
        public HardwareLocation? Target { get; } = target;

        public TaskCompletionSource<MigrationRecord> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public byte[]? Snapshot { get; set; }
    }
}

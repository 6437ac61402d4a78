using System.Security.Cryptography;
using Predictor.Engine.Backends.Profiles;

namespace Predictor.Engine.Tests.Backends.Profiles;

public sealed class FastWorkspaceTests : IDisposable
{
    private readonly string _source = Path.Combine(Path.GetTempPath(), $"predictor-fast-test-{Guid.NewGuid():N}");

    public FastWorkspaceTests()
    {
        Directory.CreateDirectory(Path.Combine(_source, "data"));
        File.WriteAllText(Path.Combine(_source, "state.json"), "{\"count\":1}");
        File.WriteAllBytes(Path.Combine(_source, "data", "blob.bin"), RandomNumberGenerator.GetBytes(100_000));
        File.WriteAllText(Path.Combine(_source, "obsolete.txt"), "bye");
    }

    public void Dispose() => Directory.Delete(_source, recursive: true);

    private static byte[] Sha(string path) => SHA256.HashData(File.ReadAllBytes(path));

    [Fact]
    public void Open_CopiesEveryFileIntoTmpfs()
    {
        using var workspace = FastWorkspace.Open(_source);
        Assert.StartsWith("/dev/shm/predictor-fast/", workspace.RamDirectory, StringComparison.Ordinal);
        Assert.Equal("tmpfs", FastWorkspace.FileSystemOf(workspace.RamDirectory));
        Assert.Equal(Sha(Path.Combine(_source, "data", "blob.bin")), Sha(Path.Combine(workspace.RamDirectory, "data", "blob.bin")));
        Assert.Equal(3, Directory.GetFiles(workspace.RamDirectory, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void Dispose_CleanStop_LosesNothingAndRemovesTheRamCopy()
    {
        var workspace = FastWorkspace.Open(_source);
        var ram = workspace.RamDirectory;
        File.WriteAllText(Path.Combine(ram, "state.json"), "{\"count\":2}");
        File.WriteAllBytes(Path.Combine(ram, "data", "new.bin"), RandomNumberGenerator.GetBytes(50_000));
        File.Delete(Path.Combine(ram, "obsolete.txt"));
        var expectedNew = Sha(Path.Combine(ram, "data", "new.bin"));

        workspace.Dispose();

        Assert.Equal("{\"count\":2}", File.ReadAllText(Path.Combine(_source, "state.json")));
        Assert.Equal(expectedNew, Sha(Path.Combine(_source, "data", "new.bin")));
        Assert.False(File.Exists(Path.Combine(_source, "obsolete.txt")));
        Assert.Empty(Directory.GetFiles(_source, "*.predictor-sync", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(ram));
    }

    [Fact]
    public void Sync_OnlyChangedFilesAreWrittenBack()
    {
        using var workspace = FastWorkspace.Open(_source);
        Assert.Equal(new SyncReport(0, 0, 0), workspace.Sync());
        File.WriteAllText(Path.Combine(workspace.RamDirectory, "state.json"), "{\"count\":3}");
        var report = workspace.Sync();
        Assert.Equal(1, report.Copied);
        Assert.Equal(11, report.Bytes);
        Assert.Equal(new SyncReport(0, 0, 0), workspace.Sync());
    }

    [Fact]
    public async Task StartPeriodicSync_ChangesReachTheSourceWithoutStopping()
    {
        using var workspace = FastWorkspace.Open(_source);
        workspace.StartPeriodicSync(TimeSpan.FromMilliseconds(50));
        File.WriteAllText(Path.Combine(workspace.RamDirectory, "state.json"), "{\"count\":4}");
        for (var i = 0; i < 1200 && File.ReadAllText(Path.Combine(_source, "state.json")) != "{\"count\":4}"; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal("{\"count\":4}", File.ReadAllText(Path.Combine(_source, "state.json")));
        Assert.Null(workspace.LastSyncError);
    }

    [Fact]
    public void Open_RootNotRamBacked_RefusesSayingWhy()
    {
        var ex = Assert.Throws<PredictorException>(() => FastWorkspace.Open(_source, "/proc"));
        Assert.Contains("not RAM-backed", ex.Message, StringComparison.Ordinal);
    }
}

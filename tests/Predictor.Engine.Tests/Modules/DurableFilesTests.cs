using Predictor.Engine.Modules;

namespace Predictor.Engine.Tests.Modules;

public sealed class DurableFilesTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("predictor-durable-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void WriteAtomic_WriterThatFailsHalfway_LeavesThePreviousFileWholeAndNoTemporaryFile()
    {
        var path = Path.Combine(_dir.FullName, "result.json");
        File.WriteAllText(path, "the previous result");

        Assert.Throws<IOException>(() => DurableFiles.WriteAtomic(path, stream =>
        {
            stream.Write("half of the new"u8);
            throw new IOException("disk full");
        }, durable: false));

        Assert.Equal("the previous result", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir.FullName));
    }

    [Fact]
    public void WriteAtomic_CreatesTheFolderAndReplacesTheFile()
    {
        var path = Path.Combine(_dir.FullName, "new", "result.json");

        DurableFiles.WriteAtomic(path, stream => stream.Write("first"u8), durable: true);
        DurableFiles.WriteAtomic(path, stream => stream.Write("second"u8), durable: false);

        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}

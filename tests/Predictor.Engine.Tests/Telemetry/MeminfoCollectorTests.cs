using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Engine.Tests.Telemetry;

/// <summary>The meminfo series the hosted loop sizes memory partitions by: process (anon) and kernel memory.</summary>
public sealed class MeminfoCollectorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("predictor-meminfo-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Dictionary<string, double> CollectOnce(string meminfo)
    {
        File.WriteAllText(Path.Combine(_root, "meminfo"), meminfo);
        var catalog = new SeriesCatalog();
        using var host = new HostTelemetry(new HostTelemetryOptions { ProcRoot = _root, CgroupRoot = _root, PerCore = false }, catalog, TimeProvider.System);
        var buffer = new SampleBuffer();
        host.Collect(buffer);
        var map = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < buffer.Count; i++)
        {
            map[catalog[buffer.SeriesIds[i]].Name] = buffer.Values[i];
        }

        return map;
    }

    [Fact]
    public void Collect_MeminfoWithKernelLines_GivesAnonAndKernelBytes()
    {
        var m = CollectOnce("MemTotal: 1000 kB\nMemAvailable: 600 kB\nAnonPages: 250 kB\nSlab: 40 kB\nKernelStack: 8 kB\nPageTables: 2 kB\n");
        Assert.Equal(250 * 1024.0, m["host/mem/anon"]);
        Assert.Equal(50 * 1024.0, m["host/mem/kernel"]); // Slab + KernelStack + PageTables
    }

    [Fact]
    public void Collect_MeminfoWithoutSlabOrAnon_LeavesThoseSeriesOut()
    {
        var m = CollectOnce("MemTotal: 1000 kB\nMemAvailable: 600 kB\nKernelStack: 8 kB\n");
        Assert.False(m.ContainsKey("host/mem/anon"));
        Assert.False(m.ContainsKey("host/mem/kernel"));
        Assert.Equal(400 * 1024.0, m["host/mem/used"]);
    }

    [Fact]
    public void Collect_ThisHostsMeminfo_KernelAndAnonArePartsOfTheTotal()
    {
        var catalog = new SeriesCatalog();
        using var host = new HostTelemetry(new HostTelemetryOptions(), catalog, TimeProvider.System);
        var buffer = new SampleBuffer();
        host.Collect(buffer);
        var m = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < buffer.Count; i++)
        {
            m[catalog[buffer.SeriesIds[i]].Name] = buffer.Values[i];
        }

        Assert.InRange(m["host/mem/anon"], 1, m["host/mem/total"]);
        Assert.InRange(m["host/mem/kernel"], 1, m["host/mem/total"]);
    }
}

using System.Collections.Concurrent;
using System.Text;
using BenchmarkDotNet.Attributes;
using Predictor.Engine.Modules.Hosting;
using Predictor.Engine.Modules.Packaging;
using Predictor.Engine.Modules.Trust;
using Predictor.Engine.Placement;

namespace Predictor.Benchmarks.Modules;

/// <summary>
/// Cost of verifying a small signed package (ECDSA P-256 verify + SHA-256 of every file + tar parse) and of one
/// live migration of a hosted module (pause at a safe point, snapshot + SHA-256, move, restore, verify, resume).
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class ModuleBenchmarks
{
    private static readonly HardwareLocation Core0 = new("core0", LocationKind.CoreSet, [0], 0, 1.0, 1L << 30, new HashSet<string>());
    private static readonly HardwareLocation Core1 = new("core1", LocationKind.CoreSet, [1], 0, 1.0, 1L << 30, new HashSet<string>());
    private string _dir = string.Empty;
    private TrustStore _trust = null!;
    private byte[] _package = [];
    private ModuleHost _host = null!;
    private ModuleMigrator _migrator = null!;
    private bool _onCore1;

    /// <summary>Affinity backend for the migration benchmark.</summary>
    [Params("linux", "simulated")]
    public string Backend { get; set; } = "linux";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "predictor-bench-modules-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        using var key = ModuleSigningKey.Generate();
        _trust = TrustStore.CreatePinned(Path.Combine(_dir, "trust.json"), key.PublicKeySpki, TimeProvider.System, durable: false);
        var spec = new ModulePackageSpec("bench", "1.0.0", "bin/run.sh", ExecutionProfile.Standard, new ModuleResources(1, 1 << 20));
        _package = ModulePackageWriter.Create(spec,
        [
            new ModulePackageFile("bin/run.sh", Encoding.UTF8.GetBytes("#!/bin/sh\necho bench\n"), true),
            new ModulePackageFile("data/model.bin", new byte[256 * 1024]),
        ], key);

        ICpuAffinity affinity = Backend == "linux" ? new LinuxCpuAffinity() : new SimulatedCpuAffinity(2);
        _host = new ModuleHost("bench", new MapModule(new SortedDictionary<int, long>(Enumerable.Range(0, 1000).ToDictionary(i => i, i => (long)i))), Core0, affinity, TimeProvider.System);
        _migrator = new ModuleMigrator(TimeProvider.System);
        _migrator.Register(_host);
        _host.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Verify a 256 KiB, two-file package.</summary>
    [Benchmark]
    public int VerifyPackage() => ModulePackageReader.Read(_package, _trust, "bench.tar").Files.Count;

    /// <summary>Move the module to the other core with a 1,000-entry state map.</summary>
    [Benchmark]
    public int Migrate()
    {
        _onCore1 = !_onCore1;
        return _migrator.Migrate("bench", _onCore1 ? Core1 : Core0).ObservedCpu;
    }

    private sealed class MapModule(SortedDictionary<int, long> state) : IStatefulModule
    {
        public bool Step(ILocationView location) => false;

        public byte[] Snapshot()
        {
            using var buffer = new MemoryStream();
            using (var w = new BinaryWriter(buffer))
            {
                foreach (var (k, v) in state)
                {
                    w.Write(k);
                    w.Write(v);
                }
            }

            return buffer.ToArray();
        }

        public IStatefulModule Restore(ReadOnlySpan<byte> snapshot)
        {
            var map = new SortedDictionary<int, long>();
            for (var i = 0; i + 12 <= snapshot.Length; i += 12)
            {
                map[BitConverter.ToInt32(snapshot[i..])] = BitConverter.ToInt64(snapshot[(i + 4)..]);
            }

            return new MapModule(map);
        }
    }
}

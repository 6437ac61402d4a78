using Predictor.Engine.Backends;
using Predictor.Engine.Control;
using Predictor.Engine.Partitioning;
using Predictor.Engine.Placement;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Engine.Tests.Control;

public sealed class TelemetryAdaptersTests
{
    private sealed class FakeCollector : ITelemetryCollector
    {
        private readonly int _userId;
        private readonly int _systemId;
        private readonly int _otherId;

        public FakeCollector(ISeriesRegistry registry)
        {
            _otherId = registry.Register(new SeriesInfo("host/psi/cpu/some10", "percent", TimeSpan.FromSeconds(1)));
            _userId = registry.Register(new SeriesInfo("host/cpu/user", "percent", TimeSpan.FromSeconds(1)));
            _systemId = registry.Register(new SeriesInfo("host/cpu/system", "percent", TimeSpan.FromSeconds(1)));
        }

        public bool SkipSystem { get; set; }

        public void Collect(SampleBuffer output)
        {
            output.Add(_otherId, 1);
            output.Add(_userId, 42);
            if (!SkipSystem)
            {
                output.Add(_systemId, 7);
            }
        }
    }

    [Fact]
    public void CollectorSource_MapsCollectorIdsToLoopOrderAndMissingToNaN()
    {
        var catalog = new SeriesCatalog();
        var collector = new FakeCollector(catalog);
        var source = new CollectorSource(collector, catalog, ["host/cpu/system", "host/cpu/user"]);
        var values = new double[2];
        source.Read(0, values);
        Assert.Equal([7.0, 42.0], values);
        collector.SkipSystem = true;
        source.Read(1, values);
        Assert.True(double.IsNaN(values[0]));
        Assert.Equal(42.0, values[1]);
    }

    [Fact]
    public void CollectorSource_SeriesNoCollectorMakes_ThrowsNamingIt()
    {
        var catalog = new SeriesCatalog();
        var collector = new FakeCollector(catalog);
        var ex = Assert.Throws<PredictorException>(() => new CollectorSource(collector, catalog, ["host/cpu/user", "host/cpu/steal"]));
        Assert.Contains("'host/cpu/steal'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreSinkAndDecisionLog_WriteIntoTheSqliteStore()
    {
        var dir = Directory.CreateTempSubdirectory("predictor-control-store-");
        try
        {
            using (var store = TimeSeriesStore.Open(Path.Combine(dir.FullName, "t.db")))
            {
                var sink = new StoreSampleSink(store, [new SeriesInfo("host/mem/user", "bytes", TimeSpan.FromSeconds(1)), new SeriesInfo("host/mem/system", "bytes", TimeSpan.FromSeconds(1))]);
                Assert.True(sink.TryWrite(1000, [10.0, 20.0]));
                Assert.True(sink.TryWrite(2000, [11.0, double.NaN]));
                var log = new StoreDecisionLog(store, ["web"], ["core0", "core1"]);
                var decision = new Decision(new PartitionSplit(100, 60, 30), PartitionSplit.Even(100));
                decision.MigrationBuffer[0] = new Migration(0, 0, 1, 0.5);
                decision.SetMigrationCount(1);
                log.Append(2000, decision, default);
                decision.SetMigrationCount(0);
                log.Append(3000, decision, default); // unchanged: nothing written
                await store.FlushAsync();

                var user = store.ReadRange("host/mem/user", 0, 10_000);
                Assert.Equal([1000L, 2000L], user.Timestamps);
                Assert.Equal([10.0, 11.0], user.Values);
                Assert.Equal([1000L], store.ReadRange("host/mem/system", 0, 10_000).Timestamps);
                var decisions = store.ReadDecisions(0, 10_000);
                Assert.Equal(3, decisions.Count);
                var memory = Assert.Single(decisions, d => d.Subject == "partition/memory");
                Assert.Equal(60, memory.Values["user"]);
                Assert.Equal(10, memory.Values["pool"]);
                var move = Assert.Single(decisions, d => d.Kind == "placement");
                Assert.Equal("module/web", move.Subject);
                Assert.Contains("core0 -> core1", move.Reason, StringComparison.Ordinal);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

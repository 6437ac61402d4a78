using Microsoft.Data.Sqlite;
using Predictor.Engine.Storage;
using Predictor.Engine.Telemetry;

namespace Predictor.Engine.Tests.Storage;

public sealed class TimeSeriesStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("predictor-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string DbPath(string name = "t.db") => Path.Combine(_dir, name);

    private static readonly SeriesInfo Cpu = new("host/cpu/user", "percent", TimeSpan.FromSeconds(1));

    [Fact]
    public async Task Register_ManyThreadsManyNamesWhileAppending_OneIdPerNameInOrderWithTheAppends()
    {
        // New series are inserted by the writer, in order with the samples queued before them.
        using (var store = TimeSeriesStore.Open(DbPath()))
        {
            var first = store.Register(Cpu);
            var appending = store.AppendAsync(first, [.. Enumerable.Range(0, 50_000).Select(i => 1_000_000 + (i * 1000L))], [.. Enumerable.Range(0, 50_000).Select(i => (double)i)]);
            var names = Enumerable.Range(0, 40).Select(i => $"host/s{i % 20}").ToArray();
            var ids = await Task.WhenAll(names.Select(n => Task.Run(() => store.Register(new SeriesInfo(n, "count", TimeSpan.FromSeconds(1))))));
            await appending;
            await store.FlushAsync();

            for (var i = 0; i < names.Length; i++)
            {
                Assert.Equal(ids[i % 20], ids[i]);
            }

            Assert.Equal(21, ids.Append(first).Distinct().Count());
            Assert.Equal(21, store.ListSeries().Count);
        }

        using var reopened = TimeSeriesStore.Open(DbPath());
        Assert.Equal(21, reopened.ListSeries().Count);
        Assert.Equal(50_000, reopened.ReadRange(Cpu.Name, long.MinValue, long.MaxValue).Count);
    }

    [Fact]
    public async Task SecondWriter_IsRefusedUntilTheFirstCloses_WhileReadersReadAlongside()
    {
        long[] t = [1_000_000, 1_001_000];
        using (var first = TimeSeriesStore.Open(DbPath()))
        {
            var id = first.Register(Cpu);
            await first.AppendAsync(id, t, [1.0, 2.0]);
            await first.FlushAsync();

            using var second = TimeSeriesStore.Open(DbPath());
            // Reading takes no lock; writing in any way does, and is refused while the first store is open.
            Assert.Equal([1.0, 2.0], second.ReadRange(Cpu.Name, long.MinValue, long.MaxValue).Values);
            Assert.Equal(id, second.Register(Cpu));
            var e = Assert.Throws<PredictorException>(() => second.TryAppend(id, 1_002_000, 3.0));
            Assert.Contains("is being written by another process", e.Message, StringComparison.Ordinal);
            Assert.Throws<PredictorException>(() => second.Register(new SeriesInfo("host/cpu/system", "percent", TimeSpan.FromSeconds(1))));
            await Assert.ThrowsAsync<PredictorException>(async () => await second.AppendAsync(id, [1_002_000], [3.0]));
        }

        using var reopened = TimeSeriesStore.Open(DbPath());
        reopened.AcquireWriter();
        Assert.True(reopened.TryAppend(reopened.Register(Cpu), 1_002_000, 3.0));
        await reopened.FlushAsync();
        Assert.Equal([1.0, 2.0, 3.0], reopened.ReadRange(Cpu.Name, long.MinValue, long.MaxValue).Values);
    }

    [Fact]
    public async Task TryAppend_ThenFlush_ReadRangeReturnsExactSamplesAcrossChunks()
    {
        var options = new StoreOptions { ChunkSamples = 64 };
        using (var store = TimeSeriesStore.Open(DbPath(), options))
        {
            var id = store.Register(Cpu);
            for (var i = 0; i < 1000; i++)
            {
                Assert.True(store.TryAppend(id, 1_000_000 + (i * 1000L), i * 0.5));
            }

            await store.FlushAsync();
            Assert.Equal(store.LastEnqueued, store.DurableUpTo);
            var r = store.ReadRange("host/cpu/user", 1_000_000 + 100_000, 1_000_000 + 200_000);
            Assert.Equal(100, r.Count);
            Assert.Equal(1_100_000, r.Timestamps[0]);
            Assert.Equal(50.0, r.Values[0]);
            Assert.Equal(99.5, r.Values[^1]);
        }

        // Reopened: the data, the catalog and the partly filled last chunk survive, and appends continue it.
        using (var store = TimeSeriesStore.Open(DbPath(), options))
        {
            var id = store.Register(Cpu);
            Assert.True(store.TryAppend(id, 1_000_000 + (1000 * 1000L), 500));
            await store.FlushAsync();
            var all = store.ReadRange("host/cpu/user", 0, long.MaxValue);
            Assert.Equal(1001, all.Count);
            Assert.Equal(500, all.Values[^1]);
            Assert.Equal(1001, store.Summarize("host/cpu/user").Count);
            Assert.Equal("ok", store.CheckIntegrity());
        }
    }

    [Fact]
    public async Task TryAppend_OutOfOrderSample_IsRejectedAndCounted()
    {
        using var store = TimeSeriesStore.Open(DbPath());
        var id = store.Register(Cpu);
        store.TryAppend(id, 2000, 1);
        store.TryAppend(id, 2000, 2);
        store.TryAppend(id, 1000, 3);
        store.TryAppend(id, 3000, 4);
        await store.FlushAsync();
        Assert.Equal(2, store.RejectedSamples);
        Assert.Equal(new[] { 1.0, 4.0 }, store.ReadRange(Cpu.Name, 0, 10_000).Values);
    }

    [Fact]
    public async Task ReadLatest_ReturnsNewestSamplesOldestFirst()
    {
        using var store = TimeSeriesStore.Open(DbPath(), new StoreOptions { ChunkSamples = 16 });
        var id = store.Register(Cpu);
        var t = Enumerable.Range(0, 100).Select(i => i * 1000L).ToArray();
        var v = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        await store.AppendAsync(id, t, v);
        await store.FlushAsync();
        var latest = store.ReadLatest(Cpu.Name, 37);
        Assert.Equal(Enumerable.Range(63, 37).Select(i => (double)i), latest.Values);
        Assert.Equal(100, store.ReadLatest(Cpu.Name, 1000).Count);
    }

    [Fact]
    public async Task Downsample_MeanAndMax_PerEpochAlignedBucket()
    {
        using var store = TimeSeriesStore.Open(DbPath());
        var id = store.Register(Cpu);
        await store.AppendAsync(id, [0, 1000, 2000, 10_000, 11_000, 25_000], [1, 2, 6, 10, 20, 7]);
        await store.FlushAsync();
        var mean = store.Downsample(Cpu.Name, 0, 60_000, TimeSpan.FromSeconds(10), Aggregation.Mean);
        Assert.Equal(new long[] { 0, 10_000, 20_000 }, mean.Timestamps);
        Assert.Equal(new[] { 3.0, 15.0, 7.0 }, mean.Values);
        var max = store.Downsample(Cpu.Name, 0, 60_000, TimeSpan.FromSeconds(10), Aggregation.Max);
        Assert.Equal(new[] { 6.0, 20.0, 7.0 }, max.Values);
        Assert.Equal(TimeSpan.FromSeconds(10), max.Info.Step);
    }

    [Fact]
    public async Task Downsample_NaNIsLeftOut_AndABucketOfOnlyNaNIsAbsent_AsTheLoopAveragesTicks()
    {
        using var store = TimeSeriesStore.Open(DbPath());
        var id = store.Register(Cpu);
        await store.AppendAsync(id, [0, 1000, 2000, 10_000, 11_000, 25_000], [1, double.NaN, 5, double.NaN, double.NaN, 7]);
        await store.FlushAsync();
        var mean = store.Downsample(Cpu.Name, 0, 60_000, TimeSpan.FromSeconds(10), Aggregation.Mean);
        Assert.Equal(new long[] { 0, 20_000 }, mean.Timestamps);
        Assert.Equal(new[] { 3.0, 7.0 }, mean.Values);
        Assert.Equal(new[] { 5.0, 7.0 }, store.Downsample(Cpu.Name, 0, 60_000, TimeSpan.FromSeconds(10), Aggregation.Max).Values);
    }

    [Theory]
    [InlineData(Aggregation.Mean)]
    [InlineData(Aggregation.Max)]
    [InlineData(Aggregation.Min)]
    public async Task Downsample_WhileReading_EqualsDownsamplingTheRangeRead_AcrossChunksGapsNaNAndACutRange(Aggregation aggregation)
    {
        // Chunks of 50 samples at 300 ms, steps of 7 s (23⅓ samples: steps straddle chunk boundaries), NaN here and there,
        // a gap of 40 samples, timestamps on both sides of the epoch, and a range that starts and ends inside chunks.
        using var store = TimeSeriesStore.Open(DbPath(), new StoreOptions { ChunkSamples = 50 });
        var id = store.Register(Cpu);
        var rng = new Random(7);
        var kept = Enumerable.Range(0, 1000).Where(k => k is < 400 or >= 440).ToArray();
        var t = kept.Select(k => -60_000 + (k * 300L)).ToArray();
        var v = kept.Select(k => k % 17 == 0 ? double.NaN : Math.Round(rng.NextDouble() * 100, 3)).ToArray();
        await store.AppendAsync(id, t, v);
        await store.FlushAsync();
        var step = TimeSpan.FromSeconds(7);

        foreach (var (from, to) in new[] { (long.MinValue, long.MaxValue), (-50_150L, 200_050L), (61_000L, 62_000L), (500_000L, 600_000L) })
        {
            var streamed = store.Downsample(Cpu.Name, from, to, step, aggregation);
            var inMemory = store.ReadRange(Cpu.Name, from, to).Downsample(step, aggregation);
            Assert.Equal(inMemory.Timestamps, streamed.Timestamps);
            Assert.Equal(inMemory.Values, streamed.Values); // bit for bit: one fold, in the same order
            Assert.Equal(step, streamed.Info.Step);
        }

        Assert.True(store.Downsample(Cpu.Name, long.MinValue, long.MaxValue, step, aggregation).Count > 30);
        Assert.Equal(0, store.Downsample(Cpu.Name, 500_000, 600_000, step, aggregation).Count);
    }

    [Fact]
    public async Task Read_ADamagedChunk_IsOneErrorNamingTheStoreSeriesAndChunk_AndDeletingItAsSaidKeepsTheRest()
    {
        using (var store = TimeSeriesStore.Open(DbPath(), new StoreOptions { ChunkSamples = 10 }))
        {
            var id = store.Register(Cpu);
            await store.AppendAsync(id, [.. Enumerable.Range(0, 30).Select(i => i * 1000L)], [.. Enumerable.Range(0, 30).Select(i => (double)i)]);
            await store.FlushAsync();
        }

        using (var db = new SqliteConnection($"Data Source={DbPath()};Pooling=False"))
        {
            db.Open();
            using var damage = db.CreateCommand();
            damage.CommandText = "UPDATE chunks SET data = x'ff00ff00ff00' WHERE chunk_start = 10000";
            Assert.Equal(1, damage.ExecuteNonQuery());
        }

        string sql;
        using (var store = TimeSeriesStore.Open(DbPath()))
        {
            foreach (var read in new Action[]
            {
                () => store.ReadRange(Cpu.Name, 0, long.MaxValue),
                () => store.Downsample(Cpu.Name, 0, long.MaxValue, TimeSpan.FromSeconds(5), Aggregation.Mean),
                () => store.ReadLatest(Cpu.Name, 25),
            })
            {
                var e = Assert.Throws<Predictor.Engine.PredictorException>(read);
                Assert.Contains($"Store '{DbPath()}': series 'host/cpu/user', the chunk that starts at 1970-01-01T00:00:10.000Z (chunk_start 10000) cannot be decoded (Unknown chunk codec 255", e.Message, StringComparison.Ordinal);
                Assert.IsType<InvalidDataException>(e.InnerException);
            }

            // Ranges and latest reads that do not reach the damaged chunk still read.
            Assert.Equal(10, store.ReadRange(Cpu.Name, 20_000, long.MaxValue).Count);
            Assert.Equal(10, store.ReadLatest(Cpu.Name, 10).Count);
            var message = Assert.Throws<Predictor.Engine.PredictorException>(() => store.ReadRange(Cpu.Name, 0, 30_000)).Message;
            sql = message[(message.IndexOf("DELETE FROM", StringComparison.Ordinal))..message.LastIndexOf(';')];
        }

        using (var db = new SqliteConnection($"Data Source={DbPath()};Pooling=False"))
        {
            db.Open();
            using var delete = db.CreateCommand();
            delete.CommandText = sql;
            Assert.Equal(1, delete.ExecuteNonQuery());
        }

        using (var store = TimeSeriesStore.Open(DbPath()))
        {
            Assert.Equal([.. Enumerable.Range(0, 10).Concat(Enumerable.Range(20, 10)).Select(i => (double)i)], store.ReadRange(Cpu.Name, 0, long.MaxValue).Values);
        }
    }

    [Fact]
    public async Task DropOlderThan_RemovesWholeOldChunksOnly()
    {
        using var store = TimeSeriesStore.Open(DbPath(), new StoreOptions { ChunkSamples = 10 });
        var id = store.Register(Cpu);
        await store.AppendAsync(id, [.. Enumerable.Range(0, 35).Select(i => i * 1000L)], [.. Enumerable.Range(0, 35).Select(i => (double)i)]);
        await store.FlushAsync();
        var deleted = await store.DropOlderThanAsync(15_000);
        Assert.Equal(1, deleted);
        var rest = store.ReadRange(Cpu.Name, 0, long.MaxValue);
        Assert.Equal(10_000, rest.Timestamps[0]);
        Assert.Equal(25, rest.Count);
    }

    [Fact]
    public void Register_SameNameOtherUnit_ThrowsPredictorException()
    {
        using var store = TimeSeriesStore.Open(DbPath());
        Assert.Equal(store.Register(Cpu), store.Register(Cpu));
        var ex = Assert.Throws<PredictorException>(() => store.Register(Cpu with { Unit = "cores" }));
        Assert.Contains("host/cpu/user", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModulesAndDecisions_RoundTrip()
    {
        using (var store = TimeSeriesStore.Open(DbPath()))
        {
            store.UpsertModule(new ModuleMetadata("web", RecommendedProfile.Fast, 1.5, 512L << 20, ["db", "cache"], ModuleSecurityLevel.Sensitive));
            store.UpsertModule(new ModuleMetadata("db", RecommendedProfile.Secure, 2, 1L << 30, [], ModuleSecurityLevel.Confidential));
            Assert.True(store.TryLogDecision(new DecisionRecord(5000, "partition", "partition/user", "resize", "upper bound 71% > 80% of 80%",
                new Dictionary<string, double> { ["old"] = 0.5, ["new"] = 0.6, ["bound"] = double.NaN })));
            await store.FlushAsync();
        }

        using (var store = TimeSeriesStore.Open(DbPath()))
        {
            var modules = store.ListModules();
            Assert.Equal(["db", "web"], modules.Select(m => m.Module));
            Assert.Equal(RecommendedProfile.Fast, modules[1].Profile);
            Assert.Equal(["db", "cache"], modules[1].Dependencies);
            Assert.Equal(ModuleSecurityLevel.Sensitive, modules[1].SecurityLevel);
            var decisions = store.ReadDecisions(0, 10_000);
            var d = Assert.Single(decisions);
            Assert.Equal("resize", d.Action);
            Assert.Equal(0.6, d.Values["new"]);
            Assert.True(double.IsNaN(d.Values["bound"]));
        }
    }

    [Fact]
    public void Open_NotSqliteFile_ThrowsClearError()
    {
        File.WriteAllText(DbPath("x.db"), "timestamp,value\n2014-02-14 14:30:00,1\n");
        var ex = Assert.Throws<PredictorException>(() => TimeSeriesStore.Open(DbPath("x.db")));
        Assert.Contains("not a SQLite file", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NewerSchema_ThrowsClearError()
    {
        using (TimeSeriesStore.Open(DbPath()))
        {
        }

        using (var c = new SqliteConnection($"Data Source={DbPath()};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE schema_version SET version = 99";
            cmd.ExecuteNonQuery();
        }

        var ex = Assert.Throws<PredictorException>(() => TimeSeriesStore.Open(DbPath()));
        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ForeignSqliteDatabase_ThrowsClearError()
    {
        SQLitePCL.Batteries_V2.Init();
        using (var c = new SqliteConnection($"Data Source={DbPath()};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE t(x)";
            cmd.ExecuteNonQuery();
        }

        var ex = Assert.Throws<PredictorException>(() => TimeSeriesStore.Open(DbPath()));
        Assert.Contains("not a Predictor store", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnCommitted_ReportsIncreasingWatermarkUpToLastEnqueued()
    {
        var seen = new List<long>();
        var options = new StoreOptions { MaxBatchItems = 7, OnCommitted = s => { lock (seen) { seen.Add(s); } } };
        using var store = TimeSeriesStore.Open(DbPath(), options);
        var id = store.Register(Cpu);
        for (var i = 0; i < 100; i++)
        {
            store.TryAppend(id, i, i);
        }

        await store.FlushAsync();
        lock (seen)
        {
            // Registering the series was the first item; the 100 samples follow it.
            Assert.Equal(101, store.LastEnqueued);
            Assert.Equal(store.LastEnqueued, seen[^1]);
            Assert.True(seen.Count >= 100 / 7, $"only {seen.Count} commits for batches of at most 7");
            Assert.Equal(seen.OrderBy(x => x), seen);
        }
    }

    [Fact]
    public void TryAppend_ChannelFull_ReturnsFalseAndCountsDrop()
    {
        // A store whose writer is stuck behind a long transaction: the loop's appends must not wait.
        using var store = TimeSeriesStore.Open(DbPath(), new StoreOptions { ChannelCapacity = 16 });
        var id = store.Register(Cpu);
        using var blocker = new SqliteConnection($"Data Source={DbPath()};Pooling=False");
        blocker.Open();
        using var tx = blocker.BeginTransaction();
        using (var cmd = blocker.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO series(name, unit, step_ms) VALUES ('x/y', 'u', 1)";
            cmd.ExecuteNonQuery();
        }

        var accepted = 0;
        for (var i = 0; i < 200; i++)
        {
            accepted += store.TryAppend(id, i, i) ? 1 : 0;
        }

        Assert.True(accepted < 200, "the bounded channel should have refused some samples");
        Assert.Equal(200 - accepted, store.DroppedSamples);
        tx.Rollback();
    }

    [Fact]
    public async Task TryAppend_SteadyState_DoesNotAllocateOnTheCallingThread()
    {
        // The writer is held (in its commit callback) during the warm-up, so the channel's internal queue grows once to
        // hold the whole volume and is reused after. Left free, a quick writer drained the warm-up and the queue grew
        // during the measured calls instead.
        using var writerHeld = new ManualResetEventSlim(true);
        using var store = TimeSeriesStore.Open(DbPath(), new StoreOptions { ChannelCapacity = 1 << 20, OnCommitted = _ => writerHeld.Wait() });
        var id = store.Register(Cpu);
        writerHeld.Reset();
        try
        {
            for (var i = 0; i < 100_000; i++)
            {
                store.TryAppend(id, i, i);
            }
        }
        finally
        {
            writerHeld.Set();
        }

        await store.FlushAsync();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 100_000; i < 200_000; i++)
        {
            store.TryAppend(id, i, i * 0.5);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1024, $"{allocated} bytes allocated by 100,000 TryAppend calls");
        await store.FlushAsync();
        Assert.Equal(200_000, store.Summarize(Cpu.Name).Count);
    }
}

using Predictor.Engine.Modules;
using Predictor.Engine.Modules.Packaging;
using Predictor.Engine.Modules.Slots;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Tests.Modules;

public class ModulePackageMutationTests
{
    [Fact]
    public void Install_ThousandsOfMutations_EachRejectedOrByteIdentical()
    {
        var original = ModuleTestKit.Package("2.0.0");
        var entries = ModulePackageTests.Entries(original);
        var manifestOffset = IndexOf(original, entries.Single(e => e.Name == "manifest.json").Data);
        var signatureOffset = IndexOf(original, entries.Single(e => e.Name == "manifest.sig").Data);
        var random = new Random(20261121);
        using var root = ModuleTestKit.NewRoot();
        var trust = TrustStore.Load(Path.Combine(root.Path, "trust.json"));
        var store = NewStore(root, "with-v1");
        store.Install(V1, "v1.tar");
        var generation = 0;
        int rejected = 0, installed = 0;
        var reasons = new Dictionary<ModuleRejection, int>();

        for (var i = 0; i < 1200; i++)
        {
            var mutated = Mutate(original, random, manifestOffset, signatureOffset);
            ModuleRejection? reason = null;
            try
            {
                ModulePackageReader.Read(mutated, trust, $"mutation-{i}.tar");
            }
            catch (ModulePackageException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                reason = ex.Reason;
            }

            if (reason is null)
            {
                // Verified: installing it must give exactly the original files.
                var fresh = NewStore(root, "fresh" + ++generation);
                Assert.True(fresh.Install(mutated, $"mutation-{i}.tar").Committed);
                ModuleTestKit.AssertTreeIs("2.0.0", ModuleTestKit.ActiveTree(fresh));
                installed++;
                continue;
            }

            rejected++;
            reasons[reason.Value] = reasons.GetValueOrDefault(reason.Value) + 1;
            if (i % 10 == 0)
            {
                // Through the installer too: same verdict, v1 still active and intact.
                var ex = Assert.Throws<ModulePackageException>(() => store.Install(mutated, $"mutation-{i}.tar"));
                Assert.Equal(reason, ex.Reason);
                var module = Assert.Single(store.List());
                Assert.Equal("1.0.0", module.ActiveVersion);
                Assert.Null(module.OtherSlotVersion);
                Assert.True(module.ActiveIntact);
            }
        }

        Assert.Equal(1200, rejected + installed);

        // Both outcomes occur, and the signature, structure and hash checks each caught something.
        Assert.True(rejected > 800, $"rejected {rejected}");
        Assert.True(installed > 0, $"installed {installed}");
        Assert.True(reasons.GetValueOrDefault(ModuleRejection.BadSignature) > 0);
        Assert.True(reasons.GetValueOrDefault(ModuleRejection.CorruptArchive) > 0);
        Assert.True(reasons.GetValueOrDefault(ModuleRejection.TamperedFile) > 0);
        ModuleTestKit.AssertTreeIs("1.0.0", ModuleTestKit.ActiveTree(store));
    }

    private static ModuleStore NewStore(TempRoot root, string name)
    {
        var dir = Path.Combine(root.Path, name);
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(root.Path, "trust.json"), Path.Combine(dir, "trust.json"));
        return new ModuleStore(new ModuleStoreOptions { Root = dir, Durable = false });
    }

    private static readonly byte[] V1 = ModuleTestKit.Package("1.0.0");

    private static byte[] Mutate(byte[] original, Random random, int manifestOffset, int signatureOffset)
    {
        var bytes = new List<byte>(original);

        // A third of mutations aim at the signed manifest or the signature, the rest anywhere in the archive.
        int Pick() => random.Next(3) switch
        {
            0 => manifestOffset + random.Next(400),
            1 => signatureOffset + random.Next(150),
            _ => random.Next(bytes.Count),
        };

        var count = 1 + random.Next(3);
        for (var m = 0; m < count && bytes.Count > 0; m++)
        {
            var at = Math.Min(Pick(), bytes.Count - 1);
            switch (random.Next(5))
            {
                case 0:
                case 1:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes.RemoveRange(at, Math.Min(1 + random.Next(16), bytes.Count - at));
                    break;
                case 3:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at); // truncate
                    break;
            }
        }

        return bytes.ToArray();
    }

    private static int IndexOf(byte[] haystack, byte[] needle) =>
        haystack.AsSpan().IndexOf(needle) is var i and >= 0 ? i : throw new InvalidOperationException("entry not found");
}

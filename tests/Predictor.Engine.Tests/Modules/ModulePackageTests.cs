using System.Formats.Tar;
using System.Text;
using Predictor.Engine.Modules;
using Predictor.Engine.Modules.Packaging;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Tests.Modules;

public class ModulePackageTests
{
    private static readonly byte[] V1 = ModuleTestKit.Package("1.0.0");
    private static readonly byte[] V2 = ModuleTestKit.Package("2.0.0");

    [Fact]
    public void Read_ValidPackage_VerifiesEveryFile()
    {
        using var root = ModuleTestKit.NewRoot();
        var trust = TrustStore.Load(Path.Combine(root.Path, "trust.json"));
        var package = ModulePackageReader.Read(V2, trust, "v2.tar");
        Assert.Equal("counter", package.Manifest.Name);
        Assert.Equal("2.0.0", package.Manifest.Version);
        Assert.Equal(ModuleTestKit.Key.KeyId, package.Manifest.KeyId);
        Assert.Equal(3, package.Files.Count);
        Assert.Equal(64, package.Digest.Length);
    }

    [Fact]
    public void Create_SameInputs_SameBytesExceptSignature()
    {
        // ECDSA signatures are randomised; everything else (manifest, entry headers, file order) is reproducible.
        var a = ModuleTestKit.Package("1.0.0");
        var entriesA = Entries(a);
        var entriesB = Entries(V1);
        Assert.Equal(entriesA.Select(e => e.Name), entriesB.Select(e => e.Name));
        Assert.Equal(entriesA.Single(e => e.Name == "manifest.json").Data, entriesB.Single(e => e.Name == "manifest.json").Data);
    }

    public static TheoryData<string, ModuleRejection> BadPackages() => new()
    {
        { "tampered-file", ModuleRejection.TamperedFile },
        { "wrong-signature", ModuleRejection.BadSignature },
        { "altered-manifest", ModuleRejection.BadSignature },
        { "unknown-key", ModuleRejection.UntrustedKey },
        { "truncated", ModuleRejection.CorruptArchive },
        { "manifest-dotdot", ModuleRejection.PathTraversal },
        { "manifest-absolute", ModuleRejection.PathTraversal },
        { "entry-dotdot", ModuleRejection.PathTraversal },
        { "entry-absolute", ModuleRejection.PathTraversal },
        { "symlink", ModuleRejection.LinkOrSpecialEntry },
        { "hardlink", ModuleRejection.LinkOrSpecialEntry },
        { "device", ModuleRejection.LinkOrSpecialEntry },
        { "fifo", ModuleRejection.LinkOrSpecialEntry },
        { "duplicate", ModuleRejection.DuplicateEntry },
        { "unlisted", ModuleRejection.UnlistedFile },
        { "missing", ModuleRejection.MissingFile },
        { "no-signature", ModuleRejection.InvalidManifest },
        { "not-tar", ModuleRejection.CorruptArchive },
    };

    [Theory]
    [MemberData(nameof(BadPackages))]
    public void Install_BadPackage_RejectedWithReasonAndActiveSlotUnchanged(string kind, ModuleRejection expected)
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        Assert.True(store.Install(V1, "v1.tar").Committed);
        var before = ModuleTestKit.ActiveTree(store);
        var logBefore = File.ReadAllBytes(store.Log.Path);

        var ex = Assert.Throws<ModulePackageException>(() => store.Install(Make(kind), kind + ".tar"));

        Assert.Equal(expected, ex.Reason);
        Assert.Contains(kind + ".tar", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<PredictorException>(ex);
        var list = Assert.Single(store.List());
        Assert.Equal("1.0.0", list.ActiveVersion);
        Assert.Null(list.OtherSlotVersion);
        Assert.True(list.ActiveIntact);
        ModuleTestKit.AssertTreeIs("1.0.0", ModuleTestKit.ActiveTree(store));
        Assert.Equal(before.Keys, ModuleTestKit.ActiveTree(store).Keys);
        Assert.Equal(logBefore, File.ReadAllBytes(store.Log.Path));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(root.Path, "modules", "counter"), ".*"));
    }

    [Fact]
    public void Install_Downgrade_RejectedAsDowngrade()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(V2, "v2.tar");
        var ex = Assert.Throws<ModulePackageException>(() => store.Install(V1, "v1.tar"));
        Assert.Equal(ModuleRejection.Downgrade, ex.Reason);
        Assert.Contains("not newer than the committed 2.0.0", ex.Message, StringComparison.Ordinal);
        var same = Assert.Throws<ModulePackageException>(() => store.Install(ModuleTestKit.Package("2.0.0"), "v2-again.tar"));
        Assert.Equal(ModuleRejection.Downgrade, same.Reason);
        ModuleTestKit.AssertTreeIs("2.0.0", ModuleTestKit.ActiveTree(store));
    }

    private static byte[] Make(string kind)
    {
        var entries = Entries(V2);
        var manifest = entries.Single(e => e.Name == "manifest.json").Data;
        var files = entries.Where(e => e.Name.StartsWith("files/", StringComparison.Ordinal)).Select(e => (e.Name, TarEntryType.RegularFile, e.Data, (string?)null)).ToList();
        var signature = entries.Single(e => e.Name == "manifest.sig").Data;
        var parsed = ModuleManifest.Parse(manifest, "test");

        byte[] Build(byte[] m, byte[] s, IEnumerable<(string, TarEntryType, byte[], string?)> rest) =>
            Tar(new[] { ("manifest.json", TarEntryType.RegularFile, m, (string?)null), ("manifest.sig", TarEntryType.RegularFile, s, null) }.Concat(rest));

        byte[] Resigned(ModuleManifest m)
        {
            var bytes = m.ToBytes();
            return Build(bytes, ModuleTestKit.Key.SignDetached(bytes), files);
        }

        switch (kind)
        {
            case "tampered-file":
                files[1] = (files[1].Name, TarEntryType.RegularFile, files[1].Data.Select((b, i) => i == 3 ? (byte)(b ^ 1) : b).ToArray(), null);
                return Build(manifest, signature, files);
            case "wrong-signature":
                return Build(manifest, DetachedSignature.Write(ModuleTestKit.Key.KeyId, new byte[64]), files);
            case "altered-manifest":
                return Build(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(manifest).Replace("2.0.0", "9.0.0", StringComparison.Ordinal)), signature, files);
            case "unknown-key":
                return ModuleTestKit.Package("2.0.0", key: ModuleTestKit.OtherKey);
            case "truncated":
                return V2[..(V2.Length / 2 + 100)];
            case "manifest-dotdot":
                return Resigned(parsed with { Files = [.. parsed.Files, new ModuleFileEntry("../../evil.sh", 1, new string('0', 64))] });
            case "manifest-absolute":
                return Resigned(parsed with { Files = [.. parsed.Files, new ModuleFileEntry("/etc/cron.d/evil", 1, new string('0', 64))] });
            case "entry-dotdot":
                return Build(manifest, signature, files.Append(("files/../../evil.sh", TarEntryType.RegularFile, [1], null)));
            case "entry-absolute":
                return Build(manifest, signature, files.Append(("/etc/evil", TarEntryType.RegularFile, [1], null)));
            case "symlink":
                return Build(manifest, signature, files.Append(("files/link", TarEntryType.SymbolicLink, [], "/etc/passwd")));
            case "hardlink":
                return Build(manifest, signature, files.Append(("files/hard", TarEntryType.HardLink, [], "/etc/shadow")));
            case "device":
                return Build(manifest, signature, files.Append(("files/dev", TarEntryType.CharacterDevice, [], null)));
            case "fifo":
                return Build(manifest, signature, files.Append(("files/pipe", TarEntryType.Fifo, [], null)));
            case "duplicate":
                return Build(manifest, signature, files.Append(files[0]));
            case "unlisted":
                return Build(manifest, signature, files.Append(("files/extra.txt", TarEntryType.RegularFile, [42], null)));
            case "missing":
                return Build(manifest, signature, files.Skip(1));
            case "no-signature":
                return Tar(new[] { ("manifest.json", TarEntryType.RegularFile, manifest, (string?)null) }.Concat(files));
            case "not-tar":
                return Encoding.UTF8.GetBytes(new string('x', 2000));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    internal static List<(string Name, byte[] Data)> Entries(byte[] archive)
    {
        using var reader = new TarReader(new MemoryStream(archive));
        var list = new List<(string, byte[])>();
        while (reader.GetNextEntry(copyData: true) is { } e)
        {
            var data = new byte[e.Length];
            e.DataStream?.ReadExactly(data);
            list.Add((e.Name, data));
        }

        return list;
    }

    private static byte[] Tar(IEnumerable<(string Name, TarEntryType Type, byte[] Data, string? Link)> entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, type, data, link) in entries)
            {
                var entry = new UstarTarEntry(type, name);
                if (type == TarEntryType.RegularFile)
                {
                    entry.DataStream = new MemoryStream(data);
                }

                if (link is not null)
                {
                    entry.LinkName = link;
                }

                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }
}

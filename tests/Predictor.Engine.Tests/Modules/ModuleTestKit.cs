using System.Text;
using Predictor.Engine.Modules.Packaging;
using Predictor.Engine.Modules.Slots;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Tests.Modules;

/// <summary>One signing key for all module tests (key generation is the slow part), temp roots, and sample packages.</summary>
internal static class ModuleTestKit
{
    public static readonly ModuleSigningKey Key = ModuleSigningKey.Generate();

    public static readonly ModuleSigningKey OtherKey = ModuleSigningKey.Generate();

    public static ModulePackageSpec Spec(string version, ModuleHealthCheckSpec? health = null, string name = "counter") =>
        new(name, version, "bin/run.sh", ExecutionProfile.Standard, new ModuleResources(0.5, 64L << 20, ["avx2"]), health);

    public static IReadOnlyList<ModulePackageFile> Files(string version) =>
    [
        new("bin/run.sh", Encoding.UTF8.GetBytes($"#!/bin/sh\necho counter {version}\n"), true),
        new("config/settings.json", Encoding.UTF8.GetBytes($"{{\"version\":\"{version}\",\"items\":[1,2,3]}}")),
        new("data/table.bin", Enumerable.Range(0, 700).Select(i => (byte)(i * 7 + version.Length)).ToArray()),
    ];

    public static byte[] Package(string version, ModuleHealthCheckSpec? health = null, ModuleSigningKey? key = null) =>
        ModulePackageWriter.Create(Spec(version, health), Files(version), key ?? Key);

    public static TempRoot NewRoot(bool pinKey = true)
    {
        var root = new TempRoot();
        if (pinKey)
        {
            TrustStore.CreatePinned(Path.Combine(root.Path, "trust.json"), Key.PublicKeySpki, TimeProvider.System, durable: false);
        }

        return root;
    }

    public static ModuleStore Store(TempRoot root, IModuleHealthCheck? health = null, IPcrExtender? pcr = null, bool durable = false) =>
        new(new ModuleStoreOptions { Root = root.Path, Durable = durable, HealthCheck = health, Pcr = pcr });

    /// <summary>Every file under the active slot's files/ as path → bytes.</summary>
    public static SortedDictionary<string, byte[]> ActiveTree(ModuleStore store, string module = "counter")
    {
        var dir = store.ActiveFilesDirectory(module);
        var tree = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (dir is null)
        {
            return tree;
        }

        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
        {
            tree[Path.GetRelativePath(dir, f).Replace('\\', '/')] = File.ReadAllBytes(f);
        }

        return tree;
    }

    public static void AssertTreeIs(string version, SortedDictionary<string, byte[]> tree)
    {
        var expected = Files(version).ToDictionary(f => f.Path, f => f.Content);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), tree.Keys);
        foreach (var (path, content) in expected)
        {
            Assert.Equal(content, tree[path]);
        }
    }
}

internal sealed class TempRoot : IDisposable
{
    public TempRoot()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "predictor-modules-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

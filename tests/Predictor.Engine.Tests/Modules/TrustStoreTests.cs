using System.Text;
using Predictor.Engine.Modules;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Engine.Tests.Modules;

public class TrustStoreTests
{
    [Fact]
    public void ApplyRotation_SignedByTrustedKey_NewKeySignsAndRetiredOldKeyCannot()
    {
        using var root = ModuleTestKit.NewRoot();
        var store = ModuleTestKit.Store(root);
        store.Install(ModuleTestKit.Package("1.0.0"), "v1.tar");
        using var newKey = ModuleSigningKey.Generate();
        var trust = TrustStore.Load(Path.Combine(root.Path, "trust.json"));
        var (statement, signature) = TrustStore.CreateRotation(ModuleTestKit.Key, newKey.PublicKeySpki, retireSigner: true, TimeProvider.System);

        var added = trust.ApplyRotation(statement, signature, TimeProvider.System, durable: false);

        Assert.Equal(newKey.KeyId, added.KeyId);
        Assert.Equal(ModuleTestKit.Key.KeyId, added.IntroducedBy);
        var reloaded = TrustStore.Load(trust.Path);
        Assert.Equal(TrustStore.Retired, reloaded.Keys.Single(k => k.KeyId == ModuleTestKit.Key.KeyId).Status);
        Assert.True(store.Install(ModuleTestKit.Package("2.0.0", key: newKey), "v2-newkey.tar").Committed);
        var ex = Assert.Throws<ModulePackageException>(() => store.Install(ModuleTestKit.Package("3.0.0"), "v3-oldkey.tar"));
        Assert.Equal(ModuleRejection.UntrustedKey, ex.Reason);
        Assert.Contains("retired", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ApplyRotation_SignedByUnknownKey_RejectedAndStoreUnchanged()
    {
        using var root = ModuleTestKit.NewRoot();
        var path = Path.Combine(root.Path, "trust.json");
        var before = File.ReadAllBytes(path);
        using var newKey = ModuleSigningKey.Generate();
        var (statement, signature) = TrustStore.CreateRotation(ModuleTestKit.OtherKey, newKey.PublicKeySpki, false, TimeProvider.System);

        var ex = Assert.Throws<ModulePackageException>(() => TrustStore.Load(path).ApplyRotation(statement, signature, TimeProvider.System, durable: false));

        Assert.Equal(ModuleRejection.UntrustedKey, ex.Reason);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void ApplyRotation_StatementAltered_BadSignature()
    {
        using var root = ModuleTestKit.NewRoot();
        using var newKey = ModuleSigningKey.Generate();
        var (statement, signature) = TrustStore.CreateRotation(ModuleTestKit.Key, newKey.PublicKeySpki, false, TimeProvider.System);
        var altered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(statement).Replace("false", "true", StringComparison.Ordinal));

        var ex = Assert.Throws<ModulePackageException>(() => TrustStore.Load(Path.Combine(root.Path, "trust.json")).ApplyRotation(altered, signature, TimeProvider.System, durable: false));

        Assert.Equal(ModuleRejection.BadSignature, ex.Reason);
    }

    [Fact]
    public void Load_KeyIdDoesNotMatchKey_Refused()
    {
        using var root = ModuleTestKit.NewRoot();
        var path = Path.Combine(root.Path, "trust.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace(ModuleTestKit.Key.KeyId, ModuleTestKit.OtherKey.KeyId, StringComparison.Ordinal));

        var ex = Assert.Throws<ModuleOperationException>(() => TrustStore.Load(path));

        Assert.Contains("does not match its public key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreatePinned_ExistingStore_Refused()
    {
        using var root = ModuleTestKit.NewRoot();
        Assert.Throws<ModuleOperationException>(() => TrustStore.CreatePinned(Path.Combine(root.Path, "trust.json"), ModuleTestKit.OtherKey.PublicKeySpki, TimeProvider.System));
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Predictor.Engine.Modules.Trust;

/// <summary>
/// An ECDSA P-256 key pair that signs module manifests (SHA-256, IEEE P1363 r||s signatures). Its id is derived from
/// the public key (<c>p256-</c> + the first 16 hex digits of SHA-256 of the SubjectPublicKeyInfo), so a trust-store
/// entry whose id does not match its key is detected on load.
/// </summary>
public sealed class ModuleSigningKey : IDisposable
{
    private readonly ECDsa _key;

    private ModuleSigningKey(ECDsa key)
    {
        _key = key;
        PublicKeySpki = key.ExportSubjectPublicKeyInfo();
        KeyId = KeyIdOf(PublicKeySpki);
    }

    /// <summary>The key id, e.g. <c>p256-1f2e3d4c5b6a7988</c>.</summary>
    public string KeyId { get; }

    /// <summary>The public key as DER SubjectPublicKeyInfo.</summary>
    public byte[] PublicKeySpki { get; }

    /// <summary>Creates a fresh key pair.</summary>
    public static ModuleSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Loads a PKCS#8 PEM private key written by <see cref="SavePem"/>.</summary>
    public static ModuleSigningKey LoadPem(string path)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModuleOperationException($"cannot read signing key '{path}': {ex.Message}; create one with `predictor modules keygen --out {path}`", ex);
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new ModuleOperationException($"'{path}' is not a PEM ECDSA private key ({ex.Message}); create one with `predictor modules keygen`", ex);
        }

        if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            key.Dispose();
            throw new ModuleOperationException($"'{path}' is not a P-256 key; module signatures use ECDSA P-256 only");
        }

        return new ModuleSigningKey(key);
    }

    /// <summary>Writes the private key as PKCS#8 PEM, readable by the owner only.</summary>
    public void SavePem(string path)
    {
        var pem = _key.ExportPkcs8PrivateKeyPem();
        using (var stream = DurableFiles.CreateNew(path, UnixFileMode.UserRead | UnixFileMode.UserWrite))
        {
            stream.Write(Encoding.ASCII.GetBytes(pem));
            stream.Flush(true);
        }
    }

    /// <summary>Signs <paramref name="data"/> and returns the detached signature document (manifest.sig).</summary>
    public byte[] SignDetached(ReadOnlySpan<byte> data)
    {
        var signature = _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return DetachedSignature.Write(KeyId, signature);
    }

    /// <summary>The key id of a SubjectPublicKeyInfo.</summary>
    public static string KeyIdOf(ReadOnlySpan<byte> spki) => "p256-" + Convert.ToHexStringLower(SHA256.HashData(spki))[..16];

    /// <inheritdoc/>
    public void Dispose() => _key.Dispose();
}

/// <summary>
/// The detached signature document: <c>{"keyId": ..., "algorithm": "ECDSA-P256-SHA256", "signature": base64}</c>.
/// It sits beside the manifest (never inside it) so the signed bytes are the manifest file exactly.
/// </summary>
public static class DetachedSignature
{
    /// <summary>The only algorithm accepted.</summary>
    public const string Algorithm = "ECDSA-P256-SHA256";

    /// <summary>Writes a signature document.</summary>
    public static byte[] Write(string keyId, ReadOnlySpan<byte> p1363Signature)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("keyId", keyId);
            json.WriteString("algorithm", Algorithm);
            json.WriteString("signature", Convert.ToBase64String(p1363Signature));
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads a signature document; throws <see cref="ModulePackageException"/> naming the problem.</summary>
    public static (string KeyId, byte[] Signature) Read(ReadOnlySpan<byte> bytes, string where)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !root.TryGetProperty("keyId", out var keyId) || keyId.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("algorithm", out var alg) || alg.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("signature", out var sig) || sig.ValueKind != JsonValueKind.String ||
                root.EnumerateObject().Count() != 3)
            {
                throw new ModulePackageException(ModuleRejection.InvalidManifest, $"{where}: a signature document has exactly keyId, algorithm and signature (strings); re-sign with `predictor modules sign`");
            }

            if (alg.GetString() != Algorithm)
            {
                throw new ModulePackageException(ModuleRejection.BadSignature, $"{where}: algorithm '{alg.GetString()}' is not accepted; only {Algorithm}");
            }

            var signature = Convert.FromBase64String(sig.GetString()!);
            if (signature.Length != 64)
            {
                throw new ModulePackageException(ModuleRejection.BadSignature, $"{where}: the signature is {signature.Length} bytes; P-256 r||s is 64");
            }

            return (keyId.GetString()!, signature);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            throw new ModulePackageException(ModuleRejection.InvalidManifest, $"{where}: not a valid signature document ({ex.Message.Split('\n')[0]}); re-sign with `predictor modules sign`", ex);
        }
    }
}

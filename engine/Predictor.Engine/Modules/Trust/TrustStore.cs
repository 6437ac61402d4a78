using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Predictor.Engine.Modules.Trust;

/// <summary>A key the trust store knows.</summary>
/// <param name="KeyId">Derived from the public key; checked on load.</param>
/// <param name="PublicKey">Base64 DER SubjectPublicKeyInfo (ECDSA P-256).</param>
/// <param name="Status"><c>trusted</c> (may sign packages and rotations) or <c>retired</c> (may sign nothing).</param>
/// <param name="AddedAt">When the key entered the store (ISO 8601 UTC).</param>
/// <param name="IntroducedBy">Key id that signed the rotation statement adding this key; null for a pinned root.</param>
/// <param name="Rotation">The rotation statement (base64) that introduced the key, kept for audit.</param>
/// <param name="RotationSignature">Its detached signature document (base64).</param>
public sealed record TrustedKeyEntry(
    string KeyId,
    string PublicKey,
    string Status,
    string AddedAt,
    string? IntroducedBy = null,
    string? Rotation = null,
    string? RotationSignature = null);

/// <summary>
/// The root of trust: public keys pinned in a JSON file (key id → SubjectPublicKeyInfo). A package is accepted only
/// when signed by a key whose status is <c>trusted</c>. New keys enter only through a rotation statement signed by a
/// currently trusted key (<see cref="ApplyRotation"/>), which may also retire the signer. The file is replaced
/// atomically; whoever can write it controls trust, so it belongs on a root-owned path.
/// </summary>
public sealed class TrustStore
{
    /// <summary>Status of a key that may sign.</summary>
    public const string Trusted = "trusted";

    /// <summary>Status of a key that may no longer sign.</summary>
    public const string Retired = "retired";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly List<TrustedKeyEntry> _keys;

    private TrustStore(string path, List<TrustedKeyEntry> keys)
    {
        Path = path;
        _keys = keys;
    }

    /// <summary>The file the store lives in.</summary>
    public string Path { get; }

    /// <summary>Every key, trusted and retired.</summary>
    public IReadOnlyList<TrustedKeyEntry> Keys => _keys;

    /// <summary>Creates a new store pinning one root key; refuses to overwrite an existing store (use a rotation).</summary>
    public static TrustStore CreatePinned(string path, ReadOnlySpan<byte> rootSpki, TimeProvider time, bool durable = true)
    {
        if (File.Exists(path))
        {
            throw new ModuleOperationException($"trust store '{path}' already exists; add keys with a rotation statement signed by a trusted key (`predictor modules keygen --rotate-from`)");
        }

        var spki = rootSpki.ToArray();
        CheckP256(spki, "root key");
        var store = new TrustStore(path, [new TrustedKeyEntry(ModuleSigningKey.KeyIdOf(spki), Convert.ToBase64String(spki), Trusted, Stamp(time))]);
        store.Save(durable);
        return store;
    }

    /// <summary>Loads and checks a store; every error names the file and the key.</summary>
    public static TrustStore Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModuleOperationException($"cannot read trust store '{path}': {ex.Message}; create it with `predictor modules keygen --out KEY --trust-store {path}`", ex);
        }

        StoreDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<StoreDocument>(bytes, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new ModuleOperationException($"trust store '{path}' line {ex.LineNumber + 1}: {ex.Message.Split('\n')[0]}", ex);
        }

        if (doc is null || doc.Schema != 1 || doc.Keys is null)
        {
            throw new ModuleOperationException($"trust store '{path}': expected {{\"schema\": 1, \"keys\": [...]}}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in doc.Keys)
        {
            byte[] spki;
            try
            {
                spki = Convert.FromBase64String(key.PublicKey);
            }
            catch (FormatException ex)
            {
                throw new ModuleOperationException($"trust store '{path}': key '{key.KeyId}' has a publicKey that is not base64", ex);
            }

            CheckP256(spki, $"trust store '{path}' key '{key.KeyId}'");
            if (ModuleSigningKey.KeyIdOf(spki) != key.KeyId)
            {
                throw new ModuleOperationException($"trust store '{path}': key id '{key.KeyId}' does not match its public key (expected {ModuleSigningKey.KeyIdOf(spki)}); the file was edited by hand or damaged");
            }

            if (key.Status is not (Trusted or Retired) || !seen.Add(key.KeyId))
            {
                throw new ModuleOperationException($"trust store '{path}': key '{key.KeyId}' has status '{key.Status}' or appears twice; status is trusted or retired, each key once");
            }
        }

        return new TrustStore(path, doc.Keys.ToList());
    }

    /// <summary>Verifies a detached signature over <paramref name="data"/>; throws naming the key and the reason.</summary>
    public void Verify(string keyId, ReadOnlySpan<byte> data, ReadOnlySpan<byte> p1363Signature, string where)
    {
        var entry = _keys.FirstOrDefault(k => k.KeyId == keyId);
        if (entry is null)
        {
            throw new ModulePackageException(ModuleRejection.UntrustedKey, $"{where}: signed by key '{keyId}', which trust store '{Path}' does not know; sign with a trusted key or rotate this key in");
        }

        if (entry.Status != Trusted)
        {
            throw new ModulePackageException(ModuleRejection.UntrustedKey, $"{where}: signed by key '{keyId}', which trust store '{Path}' marks retired; re-sign with a trusted key");
        }

        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(entry.PublicKey), out _);
        if (!key.VerifyData(data, p1363Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new ModulePackageException(ModuleRejection.BadSignature, $"{where}: the signature does not verify with key '{keyId}'; the manifest or its signature was altered, or it was signed with another key");
        }
    }

    /// <summary>
    /// Writes a rotation statement introducing <paramref name="newSpki"/>, signed by <paramref name="signer"/>.
    /// Returns the statement bytes and the detached signature document.
    /// </summary>
    public static (byte[] Statement, byte[] Signature) CreateRotation(ModuleSigningKey signer, ReadOnlySpan<byte> newSpki, bool retireSigner, TimeProvider time)
    {
        var spki = newSpki.ToArray();
        var statement = JsonSerializer.SerializeToUtf8Bytes(
            new RotationStatement("predictor-key-rotation", ModuleSigningKey.KeyIdOf(spki), Convert.ToBase64String(spki), signer.KeyId, retireSigner, Stamp(time)),
            JsonOptions);
        return (statement, signer.SignDetached(statement));
    }

    /// <summary>
    /// Accepts a rotation statement: its signer must be a currently trusted key; the new key becomes trusted and, if
    /// the statement says so, the signer is retired. The store file is replaced atomically.
    /// </summary>
    public TrustedKeyEntry ApplyRotation(ReadOnlySpan<byte> statement, ReadOnlySpan<byte> signatureDocument, TimeProvider time, bool durable = true)
    {
        var (added, retireSigner) = CheckRotation(statement, signatureDocument, time);
        _keys.Add(added);
        if (retireSigner)
        {
            var i = _keys.FindIndex(k => k.KeyId == added.IntroducedBy);
            _keys[i] = _keys[i] with { Status = Retired };
        }

        Save(durable);
        return added;
    }

    /// <summary>
    /// Checks a rotation statement exactly as <see cref="ApplyRotation"/> does, changing nothing; returns the entry it
    /// would add and whether it retires the signer. Lets a caller refuse before it writes anything else.
    /// </summary>
    public (TrustedKeyEntry Added, bool RetiresSigner) CheckRotation(ReadOnlySpan<byte> statement, ReadOnlySpan<byte> signatureDocument, TimeProvider time)
    {
        const string where = "rotation statement";
        var (signerId, signature) = DetachedSignature.Read(signatureDocument, where);
        Verify(signerId, statement, signature, where);

        RotationStatement? rotation;
        try
        {
            rotation = JsonSerializer.Deserialize<RotationStatement>(statement, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new ModuleOperationException($"{where}: not valid JSON at line {ex.LineNumber + 1}: {ex.Message.Split('\n')[0]}", ex);
        }

        if (rotation is null || rotation.Kind != "predictor-key-rotation" || rotation.SignedBy != signerId)
        {
            throw new ModuleOperationException($"{where}: kind must be predictor-key-rotation and signedBy must name the signing key '{signerId}'");
        }

        var spki = Convert.FromBase64String(rotation.NewPublicKey);
        CheckP256(spki, where);
        if (ModuleSigningKey.KeyIdOf(spki) != rotation.NewKeyId)
        {
            throw new ModuleOperationException($"{where}: newKeyId '{rotation.NewKeyId}' does not match newPublicKey");
        }

        if (_keys.Any(k => k.KeyId == rotation.NewKeyId))
        {
            throw new ModuleOperationException($"{where}: key '{rotation.NewKeyId}' is already in trust store '{Path}' (a retired key cannot be brought back)");
        }

        var added = new TrustedKeyEntry(rotation.NewKeyId, rotation.NewPublicKey, Trusted, Stamp(time), signerId,
            Convert.ToBase64String(statement), Convert.ToBase64String(signatureDocument));
        return (added, rotation.RetireSigner);
    }

    private void Save(bool durable) =>
        DurableFiles.WriteAtomic(Path, JsonSerializer.SerializeToUtf8Bytes(new StoreDocument(1, _keys), JsonOptions), durable);

    private static void CheckP256(byte[] spki, string where)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(spki, out var read);
            if (read != spki.Length || key.KeySize != 256)
            {
                throw new ModuleOperationException($"{where}: not a P-256 public key");
            }
        }
        catch (CryptographicException ex)
        {
            throw new ModuleOperationException($"{where}: not an ECDSA SubjectPublicKeyInfo ({ex.Message})", ex);
        }
    }

    private static string Stamp(TimeProvider time) => time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    private sealed record StoreDocument(int Schema, IReadOnlyList<TrustedKeyEntry> Keys);

    private sealed record RotationStatement(string Kind, string NewKeyId, string NewPublicKey, string SignedBy, bool RetireSigner, string IssuedAt);
}

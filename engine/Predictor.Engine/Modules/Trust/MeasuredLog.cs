using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Predictor.Engine.Modules.Trust;

/// <summary>Extends a platform configuration register with a SHA-256 digest (one verb: the TPM's PCR_Extend).</summary>
public interface IPcrExtender
{
    /// <summary>PCR ← SHA-256(PCR || <paramref name="digest"/>).</summary>
    void Extend(ReadOnlySpan<byte> digest);
}

/// <summary>One measured event: what was installed or switched, with the chain value before and after.</summary>
/// <param name="Seq">0-based position in the log.</param>
/// <param name="Event">install, commit, health-failed, auto-rollback, rollback, recovered.</param>
/// <param name="Module">Module name.</param>
/// <param name="Version">Module version.</param>
/// <param name="Digest">SHA-256 of the package manifest (it covers every file hash).</param>
/// <param name="KeyId">Key that signed the package.</param>
/// <param name="Slot">Slot concerned (a or b).</param>
/// <param name="Time">ISO 8601 UTC from the injected clock.</param>
/// <param name="Detail">Free text, e.g. why a health check failed.</param>
/// <param name="Prev">Chain value before this entry (hex); 64 zeros for the first.</param>
/// <param name="Pcr">SHA-256(prev || SHA-256(entry bytes without pcr)) (hex).</param>
public sealed record MeasuredLogEntry(long Seq, string Event, string Module, string Version, string Digest, string KeyId, string Slot, string Time, string Detail, string Prev, string Pcr);

/// <summary>The outcome of replaying a measured log.</summary>
/// <param name="Entries">Entries read and checked before the first problem (all of them when intact).</param>
/// <param name="FirstBrokenLine">1-based line of the first bad entry; null when the chain is intact.</param>
/// <param name="Problem">What is wrong at that line.</param>
/// <param name="FinalPcr">The chain value after the last good entry (hex); equals a fresh PCR extended with each entry.</param>
public sealed record MeasuredLogVerification(IReadOnlyList<MeasuredLogEntry> Entries, int? FirstBrokenLine, string? Problem, string FinalPcr)
{
    /// <summary>True when every entry chains to the previous one.</summary>
    public bool Intact => FirstBrokenLine is null;
}

/// <summary>
/// Append-only JSON-lines log of every install and switch, hash-chained like a TPM PCR:
/// <c>pcr_n = SHA-256(pcr_{n-1} || SHA-256(entry_n))</c>, <c>pcr_0</c> = 32 zero bytes. Each line is the entry's JSON
/// with its chain value appended as a last <c>"pcr"</c> member; the hashed bytes are the line up to that member
/// (plus the closing brace), read back exactly as written, never re-serialised. Changing, removing or reordering an
/// entry breaks the chain at that line. Cutting the tail is only detectable against an anchor outside the file:
/// the optional <see cref="IPcrExtender"/> (a TPM PCR) is extended with the same digests, so a fresh PCR equals
/// <see cref="MeasuredLogVerification.FinalPcr"/>. Appends refuse to extend a broken log (fail closed).
/// </summary>
public sealed class MeasuredLog
{
    private const string PcrSuffixStart = ",\"pcr\":\"";
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly IPcrExtender? _pcr;
    private readonly bool _durable;

    /// <summary>Opens (or will create) the log at <paramref name="path"/>.</summary>
    public MeasuredLog(string path, TimeProvider time, IPcrExtender? pcr = null, bool durable = true)
    {
        _path = path;
        _time = time;
        _pcr = pcr;
        _durable = durable;
    }

    /// <summary>The log file.</summary>
    public string Path => _path;

    /// <summary>
    /// Checks that an append would be accepted: the log is a file (or absent) in an existing folder and its chain is
    /// intact. Callers run this before changing anything the append is meant to record.
    /// </summary>
    /// <exception cref="ModuleOperationException">The log cannot be extended; the message says why and what to do.</exception>
    public MeasuredLogVerification CheckAppendable()
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!;
        if (!Directory.Exists(folder))
        {
            throw new ModuleOperationException($"measured log '{_path}' cannot be written: its folder '{folder}' does not exist");
        }

        var check = Verify(_path);
        if (!check.Intact)
        {
            throw new ModuleOperationException($"measured log '{_path}' is broken at line {check.FirstBrokenLine}: {check.Problem}; refusing to extend it (run `predictor modules log --verify` and investigate before installing)");
        }

        return check;
    }

    /// <summary>Appends one event after checking the existing chain.</summary>
    public MeasuredLogEntry Append(string evt, string module, string version, string digest, string keyId, string slot, string detail)
    {
        var check = CheckAppendable();
        var seq = check.Entries.Count;
        var prev = check.FinalPcr;
        var time = _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var body = Body(seq, evt, module, version, digest, keyId, slot, time, detail, prev);
        var entryDigest = SHA256.HashData(body);
        var pcr = Chain(Convert.FromHexString(prev), entryDigest);
        var line = new byte[body.Length - 1 + PcrSuffixStart.Length + 64 + 3];
        body.AsSpan(0, body.Length - 1).CopyTo(line);
        Encoding.ASCII.GetBytes(PcrSuffixStart + Convert.ToHexStringLower(pcr) + "\"}\n").CopyTo(line.AsSpan(body.Length - 1));

        using (var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            stream.Write(line);
            stream.Flush(_durable);
        }

        // After the line is durable: a crash here leaves the TPM one extend behind the log, which verification
        // against the TPM reports; the other order would leave a TPM value no log line explains.
        _pcr?.Extend(entryDigest);
        return new MeasuredLogEntry(seq, evt, module, version, digest, keyId, slot, time, detail, prev, Convert.ToHexStringLower(pcr));
    }

    /// <summary>Replays the chain of the log at <paramref name="path"/>; a missing file is an empty, intact log.</summary>
    /// <exception cref="ModuleOperationException"><paramref name="path"/> is a directory.</exception>
    public static MeasuredLogVerification Verify(string path)
    {
        var entries = new List<MeasuredLogEntry>();
        var pcr = new byte[32];
        if (Directory.Exists(path))
        {
            throw new ModuleOperationException($"measured log '{path}' is a directory, not the log file; move it aside (the log is an append-only file written by `predictor modules install`) and run `predictor modules log --verify`");
        }

        if (!File.Exists(path))
        {
            return new MeasuredLogVerification(entries, null, null, Convert.ToHexStringLower(pcr));
        }

        var bytes = File.ReadAllBytes(path);
        var lineNo = 0;
        var start = 0;
        while (start < bytes.Length)
        {
            lineNo++;
            var nl = Array.IndexOf(bytes, (byte)'\n', start);
            if (nl < 0)
            {
                return Broken(entries, lineNo, "the last line has no newline (a torn write)", pcr);
            }

            var line = bytes.AsSpan(start, nl - start);
            start = nl + 1;
            var suffixLength = PcrSuffixStart.Length + 64 + 2;
            if (line.Length <= suffixLength || !Encoding.ASCII.GetString(line[^suffixLength..]).StartsWith(PcrSuffixStart, StringComparison.Ordinal) || line[^1] != (byte)'}')
            {
                return Broken(entries, lineNo, "the line does not end with its \"pcr\" member", pcr);
            }

            var storedPcr = Encoding.ASCII.GetString(line.Slice(line.Length - 66, 64));
            var body = new byte[line.Length - suffixLength + 1];
            line[..(line.Length - suffixLength)].CopyTo(body);
            body[^1] = (byte)'}';

            MeasuredLogEntry entry;
            try
            {
                using var doc = JsonDocument.Parse(body);
                var r = doc.RootElement;
                entry = new MeasuredLogEntry(
                    r.GetProperty("seq").GetInt64(), S(r, "event"), S(r, "module"), S(r, "version"), S(r, "digest"),
                    S(r, "keyId"), S(r, "slot"), S(r, "time"), S(r, "detail"), S(r, "prev"), storedPcr);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                return Broken(entries, lineNo, $"not a log entry ({ex.Message.Split('\n')[0]})", pcr);
            }

            if (entry.Seq != entries.Count)
            {
                return Broken(entries, lineNo, $"seq is {entry.Seq}, expected {entries.Count} (an entry was removed or reordered)", pcr);
            }

            if (entry.Prev != Convert.ToHexStringLower(pcr))
            {
                return Broken(entries, lineNo, "prev does not equal the previous entry's pcr (an entry before it was removed or altered)", pcr);
            }

            var next = Chain(pcr, SHA256.HashData(body));
            if (Convert.ToHexStringLower(next) != storedPcr)
            {
                return Broken(entries, lineNo, "pcr does not equal SHA-256(prev || SHA-256(entry)) (the entry was altered)", pcr);
            }

            pcr = next;
            entries.Add(entry);
        }

        return new MeasuredLogVerification(entries, null, null, Convert.ToHexStringLower(pcr));
    }

    /// <summary>SHA-256(prev || digest), the TPM 2.0 PCR_Extend for a SHA-256 bank.</summary>
    public static byte[] Chain(ReadOnlySpan<byte> prev, ReadOnlySpan<byte> digest)
    {
        Span<byte> both = stackalloc byte[64];
        prev.CopyTo(both);
        digest.CopyTo(both[32..]);
        return SHA256.HashData(both);
    }

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString() ?? throw new FormatException($"{name} is null");

    private static MeasuredLogVerification Broken(List<MeasuredLogEntry> entries, int line, string problem, byte[] pcr) =>
        new(entries, line, problem, Convert.ToHexStringLower(pcr));

    private static byte[] Body(long seq, string evt, string module, string version, string digest, string keyId, string slot, string time, string detail, string prev)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", seq);
            json.WriteString("event", evt);
            json.WriteString("module", module);
            json.WriteString("version", version);
            json.WriteString("digest", digest);
            json.WriteString("keyId", keyId);
            json.WriteString("slot", slot);
            json.WriteString("time", time);
            json.WriteString("detail", detail);
            json.WriteString("prev", prev);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}

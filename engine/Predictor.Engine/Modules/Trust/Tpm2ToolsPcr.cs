using System.Diagnostics;
using System.Globalization;

namespace Predictor.Engine.Modules.Trust;

/// <summary>
/// A real TPM 2.0 PCR, extended and read through tpm2-tools (<c>tpm2_pcrextend</c>, <c>tpm2_pcrread</c>) with a
/// TCTI string such as <c>swtpm:path=/run/swtpm/tpm.sock</c> or <c>device:/dev/tpmrm0</c>. The default PCR 16 is the
/// debug PCR that locality 0 may reset, so it never disturbs a boot measurement chain. Extending uses the
/// SHA-256 bank, the same formula as <see cref="MeasuredLog.Chain"/>, so a PCR that started at zero and saw every
/// append equals the log's final chain value.
/// </summary>
public sealed class Tpm2ToolsPcr : IPcrExtender
{
    private readonly string _tcti;
    private readonly int _index;

    /// <summary>Uses PCR <paramref name="index"/> of the TPM reached through <paramref name="tcti"/>.</summary>
    public Tpm2ToolsPcr(string tcti, int index = 16)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tcti);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, 23);
        _tcti = tcti;
        _index = index;
    }

    /// <inheritdoc/>
    public void Extend(ReadOnlySpan<byte> digest)
    {
        if (digest.Length != 32)
        {
            throw new ArgumentException("a SHA-256 digest is 32 bytes", nameof(digest));
        }

        Run("tpm2_pcrextend", string.Create(CultureInfo.InvariantCulture, $"{_index}:sha256={Convert.ToHexStringLower(digest)}"));
    }

    /// <summary>Reads the PCR's SHA-256 bank value.</summary>
    public byte[] Read()
    {
        var file = Path.Combine(Path.GetTempPath(), $"predictor-pcr-{Guid.NewGuid():N}.bin");
        try
        {
            Run("tpm2_pcrread", "-o", file, string.Create(CultureInfo.InvariantCulture, $"sha256:{_index}"));
            var value = File.ReadAllBytes(file);
            return value.Length == 32 ? value : throw new ModuleOperationException($"tpm2_pcrread wrote {value.Length} bytes for sha256:{_index}; expected 32");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private void Run(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["TPM2TOOLS_TCTI"] = _tcti;
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new ModuleOperationException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new ModuleOperationException($"cannot run {tool} ({ex.Message}); install tpm2-tools (apt-get install tpm2-tools) or run without --tpm", ex);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new ModuleOperationException($"{tool} failed with exit code {process.ExitCode} on TCTI '{_tcti}': {stderr.Result.Trim().Split('\n').LastOrDefault()}");
            }
        }
    }
}

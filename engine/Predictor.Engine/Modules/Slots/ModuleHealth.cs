using System.Diagnostics;
using Predictor.Engine.Modules.Packaging;

namespace Predictor.Engine.Modules.Slots;

/// <summary>The outcome of a health check.</summary>
/// <param name="Healthy">True when the module may stay active.</param>
/// <param name="Detail">Why, in one line.</param>
public sealed record ModuleHealth(bool Healthy, string Detail);

/// <summary>A slot just made active, as the health check sees it.</summary>
/// <param name="Manifest">The slot's manifest.</param>
/// <param name="FilesDirectory">Where the module's files are.</param>
public sealed record InstalledSlot(ModuleManifest Manifest, string FilesDirectory);

/// <summary>Decides whether a freshly switched module is healthy (one verb). Runs after the switch, before commit.</summary>
public interface IModuleHealthCheck
{
    /// <summary>Checks the module; must return within the time the caller allows (cancellation).</summary>
    Task<ModuleHealth> CheckAsync(InstalledSlot slot, CancellationToken cancellationToken);
}

/// <summary>
/// The default health check: runs the manifest's <c>healthCheck.command</c> in the slot's files directory and
/// accepts exit code 0 within <c>timeoutMs</c>; on timeout the whole process tree is killed. A manifest without a
/// health check is accepted when its entry point exists.
/// </summary>
internal sealed class CommandHealthCheck : IModuleHealthCheck
{
    private readonly TimeProvider _time;

    public CommandHealthCheck(TimeProvider time) => _time = time;

    public async Task<ModuleHealth> CheckAsync(InstalledSlot slot, CancellationToken cancellationToken)
    {
        var spec = slot.Manifest.HealthCheck;
        if (spec is null)
        {
            var entry = Path.Combine(slot.FilesDirectory, slot.Manifest.EntryPoint);
            return File.Exists(entry)
                ? new ModuleHealth(true, "no health check declared; entry point present")
                : new ModuleHealth(false, $"entry point '{slot.Manifest.EntryPoint}' is missing");
        }

        var program = spec.Command[0];
        if (program.StartsWith("./", StringComparison.Ordinal))
        {
            PackagePaths.Check(program[2..], "healthCheck.command[0]");
            program = Path.Combine(slot.FilesDirectory, program[2..]);
        }

        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = slot.FilesDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in spec.Command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["PREDICTOR_MODULE_DIR"] = slot.FilesDirectory;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(spec.TimeoutMs), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("process did not start");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new ModuleHealth(false, $"health check '{spec.Command[0]}' could not start: {ex.Message}");
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                return new ModuleHealth(false, timeout.IsCancellationRequested
                    ? $"health check timed out after {spec.TimeoutMs} ms"
                    : "health check cancelled");
            }

            _ = await stdout.ConfigureAwait(false);
            var err = (await stderr.ConfigureAwait(false)).Trim();
            return process.ExitCode == 0
                ? new ModuleHealth(true, "health check exited 0")
                : new ModuleHealth(false, $"health check exited {process.ExitCode}{(err.Length > 0 ? ": " + err.Split('\n')[^1] : string.Empty)}");
        }
    }
}

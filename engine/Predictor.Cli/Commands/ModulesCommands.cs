using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Predictor.Engine;
using Predictor.Engine.Modules;
using Predictor.Engine.Modules.Packaging;
using Predictor.Engine.Modules.Slots;
using Predictor.Engine.Modules.Trust;

namespace Predictor.Cli.Commands;

/// <summary>
/// <c>predictor modules</c>: keys, signed packages, A/B install with health check and rollback, the measured log.
/// </summary>
internal static class ModulesCommands
{
    /// <summary>Test hook: the install kills its own process (SIGKILL) right after the named <see cref="InstallStep"/>.</summary>
    internal const string KillAtVariable = "PREDICTOR_MODULES_KILL_AT";

    public static Command Build()
    {
        var modules = new Command("modules", "Signed module packages: keys, signing, verification, A/B install with health check and rollback, and the measured log.");
        modules.Subcommands.Add(Keygen());
        modules.Subcommands.Add(Sign());
        modules.Subcommands.Add(Verify());
        modules.Subcommands.Add(Install());
        modules.Subcommands.Add(List());
        modules.Subcommands.Add(Rollback());
        modules.Subcommands.Add(Log());
        return modules;
    }

    private static Option<string> RootOption() => new("--root")
    {
        Description = "Module root directory (slots, state, measured.log; trust.json by default).",
        Required = true,
    };

    private static Option<string?> TrustOption(string description) => new("--trust-store") { Description = description };

    private static Option<string?> TctiOption() => new("--tpm-tcti")
    {
        Description = "Also extend (install) or compare (log --verify) a TPM PCR through tpm2-tools, e.g. swtpm:path=/run/swtpm/tpm.sock.",
    };

    private static Option<int> PcrOption() => new("--tpm-pcr")
    {
        Description = "PCR index for --tpm-tcti (16 is the resettable debug PCR).",
        DefaultValueFactory = _ => 16,
    };

    private static Command Keygen()
    {
        var output = new Option<string>("--out") { Description = "Where to write the new private key (PKCS#8 PEM, mode 0600). Must not exist.", Required = true };
        var trust = TrustOption("Trust store to create pinning this key (without --rotate-from), or to add it to through a signed rotation (with --rotate-from).");
        var rotateFrom = new Option<string?>("--rotate-from") { Description = "A currently trusted private key that signs the rotation statement introducing the new key." };
        var retire = new Option<bool>("--retire-old") { Description = "With --rotate-from: the statement also retires the old key, which may then sign nothing." };
        var cmd = new Command("keygen", "Create an ECDSA P-256 signing key; optionally pin it in a new trust store or rotate it in with a statement signed by a trusted key.")
        {
            output, trust, rotateFrom, retire,
        };
        cmd.SetAction(parse =>
        {
            var outPath = parse.GetValue(output)!;
            var trustPath = parse.GetValue(trust);
            var oldPath = parse.GetValue(rotateFrom);
            var retireOld = parse.GetValue(retire);
            if (oldPath is not null && trustPath is null)
            {
                throw new PredictorException("--rotate-from needs --trust-store: the rotation is applied to that trust store");
            }

            if (retireOld && oldPath is null)
            {
                throw new PredictorException("--retire-old needs --rotate-from: it retires the key that signs the rotation, and without --rotate-from there is none");
            }

            // Everything that can fail is checked before any file is written, so a refused keygen leaves nothing behind.
            CheckOutputFile("--out", outPath, "keygen never overwrites a key, choose another --out", "key.pem");
            using var key = ModuleSigningKey.Generate();
            var w = parse.InvocationConfiguration.Output;
            if (oldPath is null)
            {
                if (trustPath is not null)
                {
                    CheckOutputFile("--trust-store", trustPath, "add keys to it with a rotation (`predictor modules keygen --rotate-from TRUSTED-KEY`), or choose another path", "trust.json");
                }

                WriteOrRemove([outPath], () =>
                {
                    key.SavePem(outPath);
                    if (trustPath is not null)
                    {
                        TrustStore.CreatePinned(trustPath, key.PublicKeySpki, TimeProvider.System);
                    }
                });
                WriteKey(w, key, outPath);
                if (trustPath is not null)
                {
                    w.WriteLine($"trust store {trustPath} created, pinning {key.KeyId}");
                }

                return 0;
            }

            using var old = ModuleSigningKey.LoadPem(oldPath);
            var store = TrustStore.Load(trustPath!);
            var (statement, signature) = TrustStore.CreateRotation(old, key.PublicKeySpki, retireOld, TimeProvider.System);
            store.CheckRotation(statement, signature, TimeProvider.System);
            string[] written = [outPath, outPath + ".rotation.json", outPath + ".rotation.sig"];
            WriteOrRemove(written, () =>
            {
                key.SavePem(outPath);
                File.WriteAllBytes(written[1], statement);
                File.WriteAllBytes(written[2], signature);
                store.ApplyRotation(statement, signature, TimeProvider.System);
            });
            WriteKey(w, key, outPath);
            w.WriteLine($"rotation {old.KeyId} -> {key.KeyId} signed ({outPath}.rotation.json/.sig) and applied to {trustPath}{(retireOld ? $"; {old.KeyId} retired" : string.Empty)}");
            return 0;
        });
        return cmd;
    }

    private static void WriteKey(TextWriter w, ModuleSigningKey key, string outPath)
    {
        w.WriteLine($"key {key.KeyId} written to {outPath}");
        w.WriteLine($"public key (SubjectPublicKeyInfo, base64): {Convert.ToBase64String(key.PublicKeySpki)}");
    }

    /// <summary>Runs <paramref name="write"/>; if it throws, removes whichever of <paramref name="files"/> it created.</summary>
    private static void WriteOrRemove(string[] files, Action write)
    {
        var existed = files.Select(File.Exists).ToArray();
        try
        {
            write();
        }
        catch
        {
            for (var i = 0; i < files.Length; i++)
            {
                if (!existed[i])
                {
                    File.Delete(files[i]);
                }
            }

            throw;
        }
    }

    /// <summary>
    /// Refuses an output path that is a directory, lies in a folder that does not exist, or (when
    /// <paramref name="existsAdvice"/> is given) already exists; each message names the option and says what to do.
    /// </summary>
    private static void CheckOutputFile(string option, string path, string? existsAdvice, string example)
    {
        OutputPaths.RefuseDirectory(option, path, example);

        if (existsAdvice is not null && File.Exists(path))
        {
            throw new PredictorException($"{option} '{path}' already exists; {existsAdvice}");
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
        {
            throw new PredictorException($"{option} '{path}': the folder '{folder}' does not exist; create it first or choose another path");
        }
    }

    private static Command Sign()
    {
        var key = new Option<string>("--key") { Description = "Private key (PEM) from `modules keygen`.", Required = true };
        var source = new Option<string>("--source") { Description = "Directory whose regular files become the package (symlinks are refused).", Required = true };
        var name = new Option<string>("--name") { Description = "Module name: a-z, 0-9, '-', '_', '.'.", Required = true };
        var version = new Option<string>("--version") { Description = "SemVer MAJOR.MINOR.PATCH[-pre]; installs must be strictly newer than the committed version.", Required = true };
        var entry = new Option<string>("--entry") { Description = "Entry point: a path relative to --source.", Required = true };
        var profile = new Option<ExecutionProfile>("--profile") { Description = "Execution profile: Standard, Fast or Secure.", DefaultValueFactory = _ => ExecutionProfile.Standard };
        var cpu = new Option<double>("--cpu") { Description = "CPU needed, in cores.", DefaultValueFactory = _ => 1.0 };
        var memory = new Option<long>("--memory") { Description = "Memory needed, in bytes.", DefaultValueFactory = _ => 64L * 1024 * 1024 };
        var capability = new Option<string[]>("--capability") { Description = "A capability the location must offer (repeatable), e.g. accelerator:gpu.", AllowMultipleArgumentsPerToken = false };
        var health = new Option<string?>("--health") { Description = "Health-check command, split on spaces; './x' names a package file. Exit 0 = healthy." };
        var healthTimeout = new Option<int>("--health-timeout-ms") { Description = "Health-check timeout in milliseconds.", DefaultValueFactory = _ => 10_000 };
        var output = new Option<string>("--out") { Description = "Package file to write (.tar).", Required = true };
        var cmd = new Command("sign", "Build a module package from a directory: manifest with every file's SHA-256, signed (ECDSA P-256) by --key.")
        {
            key, source, name, version, entry, profile, cpu, memory, capability, health, healthTimeout, output,
        };
        cmd.SetAction(parse =>
        {
            var outPath = parse.GetValue(output)!;
            CheckOutputFile("--out", outPath, null, "module.tar");
            using var signer = ModuleSigningKey.LoadPem(parse.GetValue(key)!);
            var healthText = parse.GetValue(health);
            var spec = new ModulePackageSpec(
                parse.GetValue(name)!, parse.GetValue(version)!, parse.GetValue(entry)!, parse.GetValue(profile),
                new ModuleResources(parse.GetValue(cpu), parse.GetValue(memory), parse.GetValue(capability) ?? []),
                string.IsNullOrWhiteSpace(healthText) ? null : new ModuleHealthCheckSpec(healthText.Split(' ', StringSplitOptions.RemoveEmptyEntries), parse.GetValue(healthTimeout)));
            var files = ModulePackageWriter.ReadDirectory(parse.GetValue(source)!);
            var bytes = ModulePackageWriter.Create(spec, files, signer);
            File.WriteAllBytes(outPath, bytes);
            parse.InvocationConfiguration.Output.WriteLine($"{outPath}: {spec.Name} {spec.Version}, {files.Count} files, {bytes.Length} bytes, signed by {signer.KeyId}");
            return 0;
        });
        return cmd;
    }

    private static Command Verify()
    {
        var package = new Option<string>("--package") { Description = "Package file to check.", Required = true };
        var trust = TrustOption("Trust store holding the signer's key.");
        trust.Required = true;
        var cmd = new Command("verify", "Check a package without installing it: archive structure, signature, trusted key, every file hash.") { package, trust };
        cmd.SetAction(parse =>
        {
            var verified = ModulePackageReader.ReadFile(parse.GetValue(package)!, TrustStore.Load(parse.GetValue(trust)!));
            var m = verified.Manifest;
            var w = parse.InvocationConfiguration.Output;
            w.WriteLine($"OK {m.Name} {m.Version}: signed by {m.KeyId}, {m.Files.Count} files verified, digest {verified.Digest}");
            w.WriteLine($"entry {m.EntryPoint}, profile {m.Profile}, cpu {m.Resources.CpuCores.ToString(CultureInfo.InvariantCulture)} cores, memory {m.Resources.MemoryBytes} bytes");
            return 0;
        });
        return cmd;
    }

    private static Command Install()
    {
        var package = new Option<string>("--package") { Description = "Package file to install.", Required = true };
        var root = RootOption();
        var trust = TrustOption("Trust store (default: ROOT/trust.json).");
        var tcti = TctiOption();
        var pcr = PcrOption();
        var cmd = new Command("install", "Verify, write the inactive slot, switch, run the health check; on failure or timeout switch back automatically.")
        {
            package, root, trust, tcti, pcr,
        };
        cmd.SetAction(parse =>
        {
            var store = new ModuleStore(Options(parse.GetValue(root)!, parse.GetValue(trust), parse.GetValue(tcti), parse.GetValue(pcr)));
            var result = store.Install(parse.GetValue(package)!);
            if (!result.Committed)
            {
                var now = store.List().FirstOrDefault(m => m.Module == result.Module);
                throw new ModuleOperationException(
                    $"{result.Module} {result.Version}: health check failed ({result.Health.Detail}); switched back to {(now?.ActiveSlot is null ? "no active slot" : $"slot {now.ActiveSlot} ({now.ActiveVersion})")}; recorded in the measured log");
            }

            parse.InvocationConfiguration.Output.WriteLine($"installed {result.Module} {result.Version} in slot {result.Slot} (digest {result.Digest}); health: {result.Health.Detail}");
            return 0;
        });
        return cmd;
    }

    private static Command List()
    {
        var root = RootOption();
        var cmd = new Command("list", "Show each module's active slot and version, the other slot, the anti-rollback floor, and whether the active files are intact (exits 1 when any are damaged).") { root };
        cmd.SetAction(parse =>
        {
            var w = parse.InvocationConfiguration.Output;
            var modules = new ModuleStore(Options(parse.GetValue(root)!, null, null, 16)).List();
            if (modules.Count == 0)
            {
                w.WriteLine("no modules installed");
            }

            foreach (var m in modules)
            {
                var files = m.ActiveSlot is null ? "none (no active slot)" : m.ActiveIntact ? "intact" : "DAMAGED";
                w.WriteLine($"{m.Module}: active slot {m.ActiveSlot ?? "-"} version {m.ActiveVersion ?? "-"}, other slot {m.OtherSlotVersion ?? "-"}, committed {m.CommittedVersion ?? "-"}, files {files}");
            }

            // A damaged active slot is what a script running `list` must notice: one line each on stderr, and exit 1.
            var damaged = modules.Where(m => m.ActiveSlot is not null && !m.ActiveIntact).ToList();
            foreach (var m in damaged)
            {
                parse.InvocationConfiguration.Error.WriteLine(
                    $"predictor: error: module '{m.Module}': the files of its active slot {m.ActiveSlot} no longer match their manifest; reinstall it, or roll back to the other slot.");
            }

            return damaged.Count > 0 ? 1 : 0;
        });
        return cmd;
    }

    private static Command Rollback()
    {
        var root = RootOption();
        var trust = TrustOption("Trust store (default: ROOT/trust.json).");
        var name = new Option<string>("--name") { Description = "Module to switch back to its other slot.", Required = true };
        var cmd = new Command("rollback", "Switch a module to its other slot (checked against its manifest and a trusted key). The anti-rollback floor is not lowered.") { root, trust, name };
        cmd.SetAction(parse =>
        {
            var m = new ModuleStore(Options(parse.GetValue(root)!, parse.GetValue(trust), null, 16)).Rollback(parse.GetValue(name)!);
            parse.InvocationConfiguration.Output.WriteLine($"{m.Module}: active slot {m.ActiveSlot} version {m.ActiveVersion} (was {m.OtherSlotVersion})");
            return 0;
        });
        return cmd;
    }

    private static Command Log()
    {
        var root = RootOption();
        var verify = new Option<bool>("--verify") { Description = "Recompute the hash chain and report the first broken entry (exit 1 if any)." };
        var tcti = TctiOption();
        var pcr = PcrOption();
        var cmd = new Command("log", "Print the measured log (every install, commit, rollback), optionally verifying its hash chain and a TPM PCR.") { root, verify, tcti, pcr };
        cmd.SetAction(parse =>
        {
            var w = parse.InvocationConfiguration.Output;
            var rootPath = parse.GetValue(root)!;
            if (!Directory.Exists(rootPath))
            {
                throw new ModuleOperationException($"module root '{rootPath}' does not exist; check --root (the first `predictor modules install` creates it)");
            }

            var path = Path.Combine(rootPath, "measured.log");
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                // Nothing to replay: never report an absent log as an intact chain.
                if (parse.GetValue(verify))
                {
                    throw new ModuleOperationException($"measured log '{path}' does not exist: nothing was installed under '{rootPath}', or the log was removed; there is no chain to verify");
                }

                w.WriteLine($"no measured log at '{path}' (nothing installed under this root yet)");
                return 0;
            }

            var check = MeasuredLog.Verify(path);
            foreach (var e in check.Entries)
            {
                w.WriteLine($"{e.Seq,4} {e.Time} {e.Event,-14} {e.Module} {e.Version} slot {e.Slot} key {e.KeyId} digest {e.Digest[..Math.Min(16, e.Digest.Length)]} pcr {e.Pcr[..16]} {e.Detail}");
            }

            if (!parse.GetValue(verify))
            {
                return 0;
            }

            if (!check.Intact)
            {
                throw new ModuleOperationException($"measured log '{path}' is broken at line {check.FirstBrokenLine}: {check.Problem}; entries before it are intact");
            }

            w.WriteLine($"chain intact: {check.Entries.Count} entries, final value {check.FinalPcr}");
            if (parse.GetValue(tcti) is { } t)
            {
                var value = Convert.ToHexStringLower(new Tpm2ToolsPcr(t, parse.GetValue(pcr)).Read());
                if (value != check.FinalPcr)
                {
                    throw new ModuleOperationException($"TPM PCR {parse.GetValue(pcr)} is {value} but the log replays to {check.FinalPcr}: the log lost or gained entries since the PCR was last reset");
                }

                w.WriteLine($"TPM PCR {parse.GetValue(pcr)} matches");
            }

            return 0;
        });
        return cmd;
    }

    private static ModuleStoreOptions Options(string root, string? trust, string? tcti, int pcr)
    {
        var options = new ModuleStoreOptions { Root = root, TrustStorePath = trust, Pcr = tcti is null ? null : new Tpm2ToolsPcr(tcti, pcr) };
        if (Environment.GetEnvironmentVariable(KillAtVariable) is { Length: > 0 } killAt)
        {
            if (!Enum.TryParse<InstallStep>(killAt, ignoreCase: false, out var step))
            {
                throw new PredictorException($"{KillAtVariable}='{killAt}' is not an install step ({string.Join(", ", Enum.GetNames<InstallStep>())})");
            }

            options.AfterStep = s =>
            {
                if (s == step)
                {
                    // SIGKILL on Unix: no finally block, no flush, exactly like a power cut for this process.
                    using var self = Process.GetCurrentProcess();
                    self.Kill();
                }
            };
        }

        return options;
    }
}

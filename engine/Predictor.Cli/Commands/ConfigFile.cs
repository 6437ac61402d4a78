using System.Collections;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Predictor.Engine;
using Predictor.Hosting;

namespace Predictor.Cli.Commands;

/// <summary>
/// <c>run --config FILE</c>: a JSON file (appsettings.json's shape) whose <c>"Predictor"</c> section holds
/// <see cref="PredictorOptions"/>, bound exactly as <c>AddPredictor(IConfiguration)</c> binds it. Relative paths in the
/// file are taken relative to the file, so a unit file or a container can run it from any working directory.
/// </summary>
internal sealed class ConfigFile
{
    /// <summary>The section read, the one <c>AddPredictor(builder.Configuration.GetSection("Predictor"))</c> binds.</summary>
    public const string SectionName = "Predictor";

    // The options whose values are paths; a relative one in the file is made relative to the file's directory.
    private static readonly string[] PathKeys = [nameof(PredictorOptions.StorePath), nameof(PredictorOptions.ProcRoot), nameof(PredictorOptions.CgroupRoot)];

    private ConfigFile(string path, IReadOnlyList<KeyValuePair<string, string?>> settings)
    {
        Path = path;
        Settings = settings;
    }

    /// <summary>The path as it was given.</summary>
    public string Path { get; }

    /// <summary>The <c>"Predictor"</c> section's settings as configuration keys (<c>Predictor:ModelPaths:0</c>), paths resolved.</summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Settings { get; }

    /// <summary>Reads and parses the file; a missing or unreadable file, bad JSON or no <c>"Predictor"</c> section is one line naming the file.</summary>
    public static ConfigFile Read(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new PredictorException($"--config {path} is a directory; give a JSON file with a \"{SectionName}\" section, e.g. {System.IO.Path.Combine(path, "predictor.json")}.");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PredictorException(
                $"--config {path}: cannot read it ({e.Message.TrimEnd('.')}); give a JSON file with a \"{SectionName}\" section (README, \"Hosting and predictor run\").");
        }

        IConfigurationRoot root;
        try
        {
            root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(bytes)).Build();
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidDataException)
        {
            var why = (e.InnerException ?? e).Message.TrimEnd('.');
            throw new PredictorException($"--config {path} is not a JSON object of settings: {why}.");
        }

        // An empty section ("Predictor": {}) is a section: the defaults and the command line apply.
        if (!root.GetChildren().Any(c => string.Equals(c.Key, SectionName, StringComparison.OrdinalIgnoreCase)))
        {
            var found = root.GetChildren().Select(c => c.Key).ToList();
            throw new PredictorException(
                $"--config {path} has no \"{SectionName}\" section (top-level keys: {(found.Count == 0 ? "none" : string.Join(", ", found))}); " +
                $"put the options under {{ \"{SectionName}\": {{ \"Backend\": \"Simulated\", ... }} }}.");
        }

        var directory = System.IO.Path.GetDirectoryName(full)!;
        var settings = root.GetSection(SectionName).AsEnumerable()
            .Select(kv => new KeyValuePair<string, string?>(kv.Key, IsPath(kv.Key) && !string.IsNullOrWhiteSpace(kv.Value)
                ? System.IO.Path.GetFullPath(kv.Value, directory) // blank values stay, for the validator to refuse with its message
                : kv.Value))
            .ToList();
        return new ConfigFile(path, settings);
    }

    /// <summary>
    /// The environment's settings for the section, as .NET's environment-variable configuration reads them:
    /// <c>Predictor__TickInterval</c> is <c>Predictor:TickInterval</c>, <c>Predictor__ModelPaths__0</c> the first model
    /// (names are case-insensitive). Returned sorted by name so that what <c>run</c> prints is stable.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string?>> FromEnvironment(IDictionary environment)
    {
        const string prefix = SectionName + "__";
        return environment.Cast<DictionaryEntry>()
            .Select(e => (Name: (string)e.Key, Value: e.Value as string))
            .Where(e => e.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => new KeyValuePair<string, string?>(e.Name, e.Value))
            .ToList();
    }

    /// <summary>
    /// The section <c>run</c> binds: the file's settings (if any), then the environment's over them, key by key (an
    /// environment variable replaces one value, one list item by its index). The command line comes last, in code.
    /// </summary>
    public static IConfigurationSection Compose(ConfigFile? file, IReadOnlyList<KeyValuePair<string, string?>> environment)
    {
        var builder = new ConfigurationBuilder();
        if (file is not null)
        {
            builder.AddInMemoryCollection(file.Settings);
        }

        builder.AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)));
        return builder.Build().GetSection(SectionName);
    }

    // Predictor:StorePath, Predictor:ModelPaths:3, ... (keys keep the file's case; the binder ignores it).
    private static bool IsPath(string key)
    {
        var parts = key.Split(':');
        return parts.Length switch
        {
            2 => PathKeys.Contains(parts[1], StringComparer.OrdinalIgnoreCase),
            3 => string.Equals(parts[1], nameof(PredictorOptions.ModelPaths), StringComparison.OrdinalIgnoreCase),
            _ => false,
        };
    }
}

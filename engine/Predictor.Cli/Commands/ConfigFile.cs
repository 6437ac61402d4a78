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

    private readonly string _directory;

    private ConfigFile(string directory, IConfigurationSection section)
    {
        _directory = directory;
        Section = section;
    }

    /// <summary>The file's <c>"Predictor"</c> section.</summary>
    public IConfigurationSection Section { get; }

    /// <summary>Reads and parses the file; a missing or unreadable file, bad JSON or no <c>"Predictor"</c> section is one line naming the file.</summary>
    public static ConfigFile Read(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new PredictorException($"--config {path} is a directory; give a JSON file with a \"{SectionName}\" section, e.g. {Path.Combine(path, "predictor.json")}.");
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
        var section = root.GetSection(SectionName);
        if (!root.GetChildren().Any(c => string.Equals(c.Key, SectionName, StringComparison.OrdinalIgnoreCase)))
        {
            var found = root.GetChildren().Select(c => c.Key).ToList();
            throw new PredictorException(
                $"--config {path} has no \"{SectionName}\" section (top-level keys: {(found.Count == 0 ? "none" : string.Join(", ", found))}); " +
                $"put the options under {{ \"{SectionName}\": {{ \"Backend\": \"Simulated\", ... }} }}.");
        }

        return new ConfigFile(Path.GetDirectoryName(full)!, section);
    }

    /// <summary>Makes the file's relative paths (models, store, proc and cgroup roots) relative to the file's directory.</summary>
    public void ResolvePaths(PredictorOptions options)
    {
        for (var i = 0; i < options.ModelPaths.Count; i++)
        {
            options.ModelPaths[i] = Resolve(options.ModelPaths[i])!;
        }

        options.StorePath = Resolve(options.StorePath);
        options.ProcRoot = Resolve(options.ProcRoot)!;
        options.CgroupRoot = Resolve(options.CgroupRoot)!;
    }

    // Blank values stay as they are, for the validator to refuse with its message.
    private string? Resolve(string? path) => string.IsNullOrWhiteSpace(path) ? path : Path.GetFullPath(path, _directory);
}

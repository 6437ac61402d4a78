using System.Globalization;
using System.Text.Json;
using Predictor.Engine.Forecasting;
using Predictor.Engine.Placement;
using Predictor.Engine.Telemetry.Import;

namespace Predictor.Engine.Replay;

/// <summary>
/// Reads scenario files (JSON, format in README) into validated <see cref="ScenarioOptions"/>. Every error names the
/// field by JSON path and says what is expected; unknown fields are errors (a typo must not silently fall back to a
/// default). Relative paths are relative to the scenario file's folder.
/// </summary>
public static class ScenarioFile
{
    /// <summary>Trace format names as written in scenario files.</summary>
    public static readonly IReadOnlyDictionary<string, TraceFormat> Formats = new Dictionary<string, TraceFormat>(StringComparer.Ordinal)
    {
        ["nab"] = TraceFormat.Nab,
        ["azure-v1"] = TraceFormat.AzureV1,
        ["aggregate"] = TraceFormat.Aggregate,
        ["google2011"] = TraceFormat.Google2011,
        ["bitbrains"] = TraceFormat.Bitbrains,
        ["alibaba"] = TraceFormat.Alibaba,
        ["csv"] = TraceFormat.Csv,
    };

    private static readonly Dictionary<string, ScenarioPolicyKind> PolicyKinds = new(StringComparer.Ordinal)
    {
        ["threshold"] = ScenarioPolicyKind.Threshold,
        ["vpa"] = ScenarioPolicyKind.Vpa,
        ["autopilot"] = ScenarioPolicyKind.Autopilot,
        ["predictive"] = ScenarioPolicyKind.Predictive,
    };

    private static readonly Dictionary<string, LocationKind> LocationKinds = new(StringComparer.Ordinal)
    {
        ["coreSet"] = LocationKind.CoreSet,
        ["numaNode"] = LocationKind.NumaNode,
        ["accelerator"] = LocationKind.Accelerator,
    };

    /// <summary>Reads and validates a scenario file.</summary>
    /// <exception cref="ScenarioException">The file is missing, not JSON, or a field is wrong.</exception>
    public static ScenarioOptions Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new ScenarioException(path, "$", "the file does not exist; pass the path of a scenario JSON file (see datasets/scenarios/).");
        }

        return Parse(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Parses and validates scenario JSON.</summary>
    /// <param name="json">The document.</param>
    /// <param name="file">Name used in error messages.</param>
    /// <param name="baseDirectory">Folder that relative paths in the scenario are relative to.</param>
    /// <exception cref="ScenarioException">Not JSON, or a field is wrong.</exception>
    public static ScenarioOptions Parse(string json, string file, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ScenarioException(file, (e.LineNumber ?? 0) + 1, (e.BytePositionInLine ?? 0) + 1,
                $"not valid JSON ({FirstSentence(e.Message)}); fix the syntax there.", e);
        }

        using (doc)
        {
            return new Reader(file, baseDirectory).Scenario(doc.RootElement);
        }
    }

    // The parser's message without its own position (" Path: … | LineNumber: … | BytePositionInLine: …", 0-based),
    // which the exception gives 1-based in front.
    private static string FirstSentence(string message)
    {
        var cut = new[] { " Path:", " LineNumber:" }.Select(m => message.IndexOf(m, StringComparison.Ordinal)).Where(i => i > 0).DefaultIfEmpty(message.Length).Min();
        return message[..cut].TrimEnd('.', ' ', '|');
    }

    private sealed class Reader
    {
        private readonly string _file;
        private readonly string _base;

        public Reader(string file, string baseDirectory)
        {
            _file = file;
            _base = baseDirectory;
        }

        public ScenarioOptions Scenario(JsonElement root)
        {
            var o = Object(root, "$", "name", "description", "source", "tickSeconds", "downsample", "warmUp", "unit", "partitions", "budget", "locations", "modules", "policies", "models", "surge");
            var name = RequiredString(o, "name", "$");
            var description = OptionalString(o, "description", "$") ?? "";
            var source = Source(Required(o, "source", "$"), "$.source");
            TimeSpan? tick = o.TryGetValue("tickSeconds", out var ts) ? TimeSpan.FromSeconds(Number(ts, "$.tickSeconds", 0.001, 86_400, "a tick length in seconds, from 0.001 to 86400, e.g. 300")) : null;
            if (tick is { } t && t.Ticks % TimeSpan.TicksPerMillisecond != 0)
            {
                throw new ScenarioException(_file, "$.tickSeconds", FormattableString.Invariant($"{t.TotalSeconds} s is not a whole number of milliseconds; the replay's clock counts milliseconds (e.g. 0.1 or 300)."));
            }

            var downsample = OptionalString(o, "downsample", "$") switch
            {
                null or "mean" => ScenarioDownsample.Mean,
                "max" => ScenarioDownsample.Max,
                "last" => ScenarioDownsample.Last,
                var other => throw Error("$.downsample", $"unknown downsample '{other}'; expected \"mean\" (the default: each tick's step averaged), \"max\" (its peak) or \"last\" (the last sample, held)."),
            };
            // Days replayed by every policy (windows, histograms and models fill) but left out of every metric: the
            // replayed suffix a model trained on the trace's prefix is judged on (no leakage).
            var warmUp = o.TryGetValue("warmUp", out var wu) ? Duration(wu, "$.warmUp") : TimeSpan.Zero;
            var unit = OptionalString(o, "unit", "$") ?? "units";
            var partitions = Partitions(Required(o, "partitions", "$"), "$.partitions");
            var budget = Budget(Required(o, "budget", "$"), "$.budget");
            var locations = o.TryGetValue("locations", out var ls) ? Locations(ls, "$.locations") : [];
            var modules = o.TryGetValue("modules", out var ms) ? Modules(ms, "$.modules", locations) : [];
            var models = o.TryGetValue("models", out var md) ? Models(md, "$.models") : [];
            var policies = Policies(Required(o, "policies", "$"), "$.policies", models);
            var surge = o.TryGetValue("surge", out var sg) ? Surge(sg, "$.surge") : new SurgeDefinition();
            return new ScenarioOptions(_file, name, description, source, tick, unit, partitions, budget, locations, modules, policies, models, surge) { WarmUp = warmUp, Downsample = downsample };
        }

        private ScenarioSource Source(JsonElement e, string path)
        {
            var o = Object(e, path, "store", "trace", "format");
            var hasStore = o.ContainsKey("store");
            var hasTrace = o.ContainsKey("trace");
            if (hasStore == hasTrace)
            {
                throw Error(path, "expected exactly one of \"store\" (a SQLite store file) or \"trace\" (a trace file or folder, with \"format\").");
            }

            if (hasStore)
            {
                if (o.ContainsKey("format"))
                {
                    throw Error(path + ".format", "a store needs no format; remove \"format\" or use \"trace\" instead of \"store\".");
                }

                return new ScenarioSource(ExistingPath(o["store"], path + ".store", mustBeFile: true), null, null);
            }

            var formatText = RequiredString(o, "format", path);
            if (!Formats.TryGetValue(formatText, out var format))
            {
                throw Error(path + ".format", $"unknown format '{formatText}'; expected one of: {string.Join(", ", Formats.Keys)}.");
            }

            return new ScenarioSource(null, ExistingPath(o["trace"], path + ".trace", mustBeFile: false), format);
        }

        private List<ScenarioPartition> Partitions(JsonElement e, string path)
        {
            var o = Object(e, path, "user", "system");
            var list = new List<ScenarioPartition>();
            foreach (var name in new[] { "user", "system" })
            {
                var p = path + "." + name;
                var po = Object(Required(o, name, path), p, "series", "scale");
                list.Add(new ScenarioPartition(name, Patterns(Required(po, "series", p), p + ".series"), Scale(po, p)));
            }

            return list;
        }

        private ScenarioBudget Budget(JsonElement e, string path)
        {
            var o = Object(e, path, "total", "headroomFactor", "reason");
            var total = Required(o, "total", path);
            var reason = OptionalString(o, "reason", path);
            if (total.ValueKind == JsonValueKind.String)
            {
                if (total.GetString() != "auto")
                {
                    throw Error(path + ".total", $"expected \"auto\" or a positive number, found \"{total.GetString()}\".");
                }

                var factor = o.TryGetValue("headroomFactor", out var f) ? Number(f, path + ".headroomFactor", 1.0, 100, "a factor ≥ 1, e.g. 1.25") : 1.25;
                return new ScenarioBudget(null, factor, reason);
            }

            var value = Number(total, path + ".total", double.Epsilon, double.MaxValue, "\"auto\" or a positive number");
            if (o.ContainsKey("headroomFactor"))
            {
                throw Error(path + ".headroomFactor", "applies only to \"total\": \"auto\"; remove it or set \"total\" to \"auto\".");
            }

            if (string.IsNullOrWhiteSpace(reason))
            {
                throw Error(path + ".reason",
                    "an explicit total needs a \"reason\" saying how it was chosen (DESIGN.md: size it so peak demand fills most of it); expected a non-empty string.");
            }

            return new ScenarioBudget(value, 1.25, reason);
        }

        private List<HardwareLocation> Locations(JsonElement e, string path)
        {
            var list = new List<HardwareLocation>();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            var i = 0;
            foreach (var item in Array(e, path))
            {
                var p = $"{path}[{i++}]";
                var o = Object(item, p, "id", "kind", "cpus", "numaNode", "cpuCapacity", "memoryBytes", "capabilities");
                var id = RequiredString(o, "id", p);
                if (!ids.Add(id))
                {
                    throw Error(p + ".id", $"the id '{id}' is used twice; expected a unique location id.");
                }

                var kindText = OptionalString(o, "kind", p) ?? "coreSet";
                if (!LocationKinds.TryGetValue(kindText, out var kind))
                {
                    throw Error(p + ".kind", $"unknown kind '{kindText}'; expected one of: {string.Join(", ", LocationKinds.Keys)}.");
                }

                var cpus = new List<int>();
                if (o.TryGetValue("cpus", out var c))
                {
                    var j = 0;
                    foreach (var cpu in Array(c, p + ".cpus"))
                    {
                        cpus.Add((int)Number(cpu, $"{p}.cpus[{j++}]", 0, 65_535, "a logical CPU number (integer ≥ 0)", integer: true));
                    }
                }

                var numa = o.TryGetValue("numaNode", out var n) ? (int)Number(n, p + ".numaNode", 0, 1023, "a NUMA node number (integer ≥ 0)", integer: true) : 0;
                var capacity = Number(Required(o, "cpuCapacity", p), p + ".cpuCapacity", double.Epsilon, 1e6, "a positive capacity in the scenario's unit, e.g. 1.0 core");
                var memory = o.TryGetValue("memoryBytes", out var m) ? (long)Number(m, p + ".memoryBytes", 0, 1e18, "bytes (integer ≥ 0)", integer: true) : 0;
                var caps = o.TryGetValue("capabilities", out var cp) ? Strings(cp, p + ".capabilities", "a capability such as \"accelerator:gpu\"") : [];
                list.Add(new HardwareLocation(id, kind, cpus, numa, capacity, memory, caps.ToHashSet(StringComparer.Ordinal)));
            }

            return list;
        }

        private List<ScenarioModule> Modules(JsonElement e, string path, List<HardwareLocation> locations)
        {
            var list = new List<ScenarioModule>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var i = 0;
            foreach (var item in Array(e, path))
            {
                var p = $"{path}[{i++}]";
                var o = Object(item, p, "name", "series", "scale", "location", "stateBytes", "affinity");
                var name = RequiredString(o, "name", p);
                if (!names.Add(name))
                {
                    throw Error(p + ".name", $"the name '{name}' is used twice; expected a unique module name.");
                }

                var location = RequiredString(o, "location", p);
                if (!locations.Any(l => l.Id == location))
                {
                    throw Error(p + ".location", locations.Count == 0
                        ? $"no locations are declared; add $.locations with a location '{location}' for the modules to run on."
                        : $"no location has the id '{location}'; expected one of: {string.Join(", ", locations.Select(l => l.Id))}.");
                }

                var state = o.TryGetValue("stateBytes", out var s) ? (long)Number(s, p + ".stateBytes", 0, 1e18, "bytes (integer ≥ 0)", integer: true) : 0;
                var affinity = o.TryGetValue("affinity", out var a) ? Strings(a, p + ".affinity", "a capability such as \"accelerator:gpu\"") : [];
                for (var k = 0; k < affinity.Count; k++)
                {
                    // A preference no location can meet is a typo, never a choice: say so rather than ignore it.
                    if (!locations.Any(l => l.Capabilities.Contains(affinity[k])))
                    {
                        var offered = locations.SelectMany(l => l.Capabilities).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                        throw Error($"{p}.affinity[{k}]", $"no location offers the capability '{affinity[k]}'; expected one of the locations' capabilities: {(offered.Count == 0 ? "(none are declared)" : string.Join(", ", offered))}.");
                    }
                }

                list.Add(new ScenarioModule(name, Patterns(Required(o, "series", p), p + ".series"), Scale(o, p), location, state, affinity));
            }

            return list;
        }

        private List<ScenarioModel> Models(JsonElement e, string path)
        {
            var list = new List<ScenarioModel>();
            var i = 0;
            foreach (var item in Array(e, path))
            {
                var p = $"{path}[{i++}]";
                var o = Object(item, p, "name", "path");
                var name = RequiredString(o, "name", p);
                if (list.Any(m => m.Name == name))
                {
                    throw Error(p + ".name", $"the name '{name}' is used twice; expected a unique model name.");
                }

                if (name == "naive" && o.ContainsKey("path"))
                {
                    throw Error(p + ".path", "'naive' is the built-in model and takes no path; remove \"path\" or choose another name.");
                }

                var file = name == "naive" ? null : ExistingPath(Required(o, "path", p), p + ".path", mustBeFile: true);
                if (file is not null && !file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                {
                    throw Error(p + ".path", $"'{file}' is not an .onnx file; expected the path of an ONNX model.");
                }

                list.Add(new ScenarioModel(name, file));
            }

            return list;
        }

        private List<ScenarioPolicy> Policies(JsonElement e, string path, List<ScenarioModel> models)
        {
            var list = new List<ScenarioPolicy>();
            var i = 0;
            foreach (var item in Array(e, path))
            {
                var p = $"{path}[{i++}]";
                string kindText;
                string? model = null;
                string? name = null;
                JsonElement? settingsJson = null;
                if (item.ValueKind == JsonValueKind.String)
                {
                    kindText = item.GetString()!;
                }
                else
                {
                    var o = Object(item, p, "kind", "model", "name", "settings");
                    kindText = RequiredString(o, "kind", p);
                    model = OptionalString(o, "model", p);
                    name = OptionalString(o, "name", p);
                    settingsJson = o.TryGetValue("settings", out var st) ? st : null;
                }

                var kindPath = item.ValueKind == JsonValueKind.String ? p : p + ".kind";
                if (!PolicyKinds.TryGetValue(kindText, out var kind))
                {
                    throw Error(kindPath, $"unknown policy '{kindText}'; expected one of: {string.Join(", ", PolicyKinds.Keys)}.");
                }

                var settings = settingsJson is { } sj && kind == ScenarioPolicyKind.Predictive ? Settings(sj, p + ".settings") : null;
                if (kind != ScenarioPolicyKind.Predictive)
                {
                    if (model is not null)
                    {
                        throw Error(p + ".model", $"only a predictive policy takes a model; remove \"model\" from this {kindText} policy.");
                    }

                    if (settingsJson is not null)
                    {
                        throw Error(p + ".settings", $"only a predictive policy takes settings; remove \"settings\" from this {kindText} policy.");
                    }

                    list.Add(new ScenarioPolicy(name ?? kindText, kind, null));
                }
                else if (model is not null)
                {
                    if (model != "naive" && !models.Any(m => m.Name == model))
                    {
                        throw Error(p + ".model",
                            $"no model is named '{model}'; expected \"naive\" or one of $.models: {string.Join(", ", models.Select(m => m.Name).DefaultIfEmpty("(none declared)"))}.");
                    }

                    list.Add(new ScenarioPolicy(name ?? $"predictive/{model}", kind, model, settings));
                }
                else
                {
                    // No model named: one predictive policy per declared model (the built-in naive one when none is declared).
                    if (name is not null && models.Count > 1)
                    {
                        throw Error(p + ".name", "a predictive policy without \"model\" expands to one policy per model; name the model or drop \"name\".");
                    }

                    foreach (var m in models.Count > 0 ? models.Select(m => m.Name) : ["naive"])
                    {
                        list.Add(new ScenarioPolicy(name ?? $"predictive/{m}", kind, m, settings));
                    }
                }

                var duplicate = list.GroupBy(x => x.Name).FirstOrDefault(g => g.Count() > 1);
                if (duplicate is not null)
                {
                    throw Error(p, $"the policy name '{duplicate.Key}' appears twice; expected unique names (give one a \"name\").");
                }
            }

            if (list.Count == 0)
            {
                throw Error(path, "expected at least one policy, e.g. [\"threshold\", \"vpa\", \"autopilot\", \"predictive\"].");
            }

            return list;
        }

        // A predictive policy's "settings": each key sets one option; what is left out keeps its documented default.
        private PredictiveSettings Settings(JsonElement e, string path)
        {
            var o = Object(e, path, "headroom", "maxStepShare", "deadBand", "noiseBand", "growBand", "noiseHalfLifeTicks", "shrinkAfterTicks", "usageFloor", "usageFloorTicks", "leadSteps", "upperTracking");
            var d = PredictiveSettings.Default;
            var policy = d.Policy;
            if (o.TryGetValue("headroom", out var v))
            {
                policy.Headroom = Number(v, path + ".headroom", 0, 10, "a share above the forecast's upper bound in [0, 10], e.g. 0.1 for +10 %");
            }

            if (o.TryGetValue("maxStepShare", out v))
            {
                policy.MaxStepShare = Number(v, path + ".maxStepShare", 1e-9, 1, "the largest shrink per tick as a share of the total, in (0, 1], e.g. 0.2");
            }

            if (o.TryGetValue("deadBand", out v))
            {
                policy.DeadBandShare = Number(v, path + ".deadBand", 0, 1, "a share of the total in [0, 1], e.g. 0.05");
            }

            if (o.TryGetValue("noiseBand", out v))
            {
                policy.NoiseBand = Number(v, path + ".noiseBand", 0, 100, "a multiple of the usage's mean tick-to-tick move in [0, 100] (0 turns it off), e.g. 2");
            }

            if (o.TryGetValue("growBand", out v))
            {
                policy.GrowBand = Number(v, path + ".growBand", 0, 100, "a multiple of the usage's mean tick-to-tick move in [0, 100] to overshoot each growth by (0 grows exactly to the target), e.g. 1");
            }

            if (o.TryGetValue("noiseHalfLifeTicks", out v))
            {
                policy.NoiseHalfLifeTicks = (int)Number(v, path + ".noiseHalfLifeTicks", 1, 10_000_000, "a whole number of ticks from 1 to 10000000, e.g. 288", integer: true);
            }

            if (o.TryGetValue("shrinkAfterTicks", out v))
            {
                policy.ShrinkAfterTicks = (int)Number(v, path + ".shrinkAfterTicks", 1, 100_000, "a whole number of ticks from 1 to 100000, e.g. 12", integer: true);
            }

            if (o.TryGetValue("usageFloor", out v))
            {
                policy.UsageFloor = Number(v, path + ".usageFloor", 0, 10, "a factor of the usage just observed in [0, 10] (0 turns the floor off), e.g. 1");
            }

            if (o.TryGetValue("usageFloorTicks", out v))
            {
                policy.UsageFloorTicks = (int)Number(v, path + ".usageFloorTicks", 1, 64, "a whole number of ticks from 1 to 64 (the floor reads the median of that many last uses), e.g. 3", integer: true);
            }

            var lead = d.LeadSteps;
            if (o.TryGetValue("leadSteps", out v))
            {
                lead = v.ValueKind == JsonValueKind.String && v.GetString() == "horizon"
                    ? null
                    : (int)Number(v, path + ".leadSteps", 1, 10_000, "a whole number of forecast steps ≥ 1, e.g. 3, or \"horizon\" for the whole horizon", integer: true);
            }

            var tracking = d.UpperTracking;
            if (o.TryGetValue("upperTracking", out v))
            {
                tracking = v.ValueKind switch
                {
                    JsonValueKind.False => null,
                    JsonValueKind.True => tracking,
                    _ => Tracking(v, path + ".upperTracking"),
                };
            }

            return new PredictiveSettings(policy, lead, tracking);
        }

        private UpperTrackerOptions Tracking(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw Error(path, $"expected true, false (off) or an object {{ \"learningRate\": 0.05, \"scaleHalfLife\": 288 }}, found {Describe(e)}.");
            }

            var o = Object(e, path, "learningRate", "scaleHalfLife");
            var tracking = new UpperTrackerOptions();
            if (o.TryGetValue("learningRate", out var v))
            {
                tracking.LearningRate = Number(v, path + ".learningRate", double.Epsilon, 10, "a rate in (0, 10], e.g. 0.05");
            }

            if (o.TryGetValue("scaleHalfLife", out v))
            {
                tracking.ScaleHalfLife = (int)Number(v, path + ".scaleHalfLife", 1, 10_000_000, "a whole number of model steps from 1 to 10000000, e.g. 288", integer: true);
            }

            return tracking;
        }

        private SurgeDefinition Surge(JsonElement e, string path)
        {
            var o = Object(e, path, "threshold", "horizonTicks");
            var s = new SurgeDefinition();
            if (o.TryGetValue("threshold", out var t))
            {
                s.Threshold = Number(t, path + ".threshold", double.Epsilon, 10, "a share of capacity in (0, 10], e.g. 0.9");
            }

            if (o.TryGetValue("horizonTicks", out var h))
            {
                s.HorizonTicks = (int)Number(h, path + ".horizonTicks", 1, 1e6, "a whole number of ticks ≥ 1, e.g. 12", integer: true);
            }

            return s;
        }

        private List<SeriesPattern> Patterns(JsonElement e, string path)
        {
            var list = new List<SeriesPattern>();
            var i = 0;
            foreach (var item in Array(e, path))
            {
                var p = $"{path}[{i++}]";
                if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                {
                    throw Error(p, $"expected a series name or glob pattern (a non-empty string, e.g. \"nab/rds_cpu_*\"), found {Describe(item)}.");
                }

                list.Add(new SeriesPattern(item.GetString()!, p));
            }

            if (list.Count == 0)
            {
                throw Error(path, "expected at least one series name or glob pattern.");
            }

            return list;
        }

        private double Scale(Dictionary<string, JsonElement> o, string path) =>
            o.TryGetValue("scale", out var s) ? Number(s, path + ".scale", double.Epsilon, 1e12, "a positive factor to the scenario's unit, e.g. 0.01") : 1.0;

        private string ExistingPath(JsonElement e, string path, bool mustBeFile)
        {
            if (e.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(e.GetString()))
            {
                throw Error(path, $"expected a path (a non-empty string, relative to the scenario file), found {Describe(e)}.");
            }

            var full = Path.GetFullPath(Path.Combine(_base, e.GetString()!));
            var exists = mustBeFile ? File.Exists(full) : File.Exists(full) || Directory.Exists(full);
            if (!exists)
            {
                throw Error(path, $"'{e.GetString()}' does not exist (resolved to {full}); expected a path relative to the scenario file's folder.");
            }

            return full;
        }

        private Dictionary<string, JsonElement> Object(JsonElement e, string path, params string[] allowed)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw Error(path, $"expected an object {{…}}, found {Describe(e)}.");
            }

            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var p in e.EnumerateObject())
            {
                if (!allowed.Contains(p.Name, StringComparer.Ordinal))
                {
                    throw Error($"{path}.{p.Name}", $"unknown field; expected one of: {string.Join(", ", allowed)}.");
                }

                if (!fields.TryAdd(p.Name, p.Value))
                {
                    throw Error($"{path}.{p.Name}", "the field appears twice; keep one.");
                }
            }

            return fields;
        }

        private JsonElement.ArrayEnumerator Array(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.Array ? e.EnumerateArray() : throw Error(path, $"expected an array […], found {Describe(e)}.");

        private JsonElement Required(Dictionary<string, JsonElement> o, string key, string path) =>
            o.TryGetValue(key, out var v) ? v : throw Error($"{path}.{key}", "is missing; this field is required (see README, scenario format).");

        private string RequiredString(Dictionary<string, JsonElement> o, string key, string path)
        {
            var v = Required(o, key, path);
            return v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString())
                ? v.GetString()!
                : throw Error($"{path}.{key}", $"expected a non-empty string, found {Describe(v)}.");
        }

        private string? OptionalString(Dictionary<string, JsonElement> o, string key, string path) =>
            o.ContainsKey(key) ? RequiredString(o, key, path) : null;

        private List<string> Strings(JsonElement e, string path, string what)
        {
            var list = new List<string>();
            var i = 0;
            foreach (var item in Array(e, path))
            {
                if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                {
                    throw Error($"{path}[{i}]", $"expected {what}, found {Describe(item)}.");
                }

                list.Add(item.GetString()!);
                i++;
            }

            return list;
        }

        // A duration as a number and a unit: "30s", "7d", "90m", "1.5h", "250ms" (≥ 0, at most ten years).
        private TimeSpan Duration(JsonElement e, string path)
        {
            const string what = "a duration such as \"30s\", \"90m\", \"12h\" or \"7d\" (a number ≥ 0 and one of ms, s, m, h, d)";
            var text = e.ValueKind == JsonValueKind.String ? e.GetString()!.Trim() : null;
            if (text is not null)
            {
                var unitStart = text.Length;
                while (unitStart > 0 && char.IsAsciiLetter(text[unitStart - 1]))
                {
                    unitStart--;
                }

                var unit = text[unitStart..];
                double? perUnitMs = unit switch { "ms" => 1, "s" => 1000, "m" => 60_000, "h" => 3_600_000, "d" => 86_400_000, _ => null };
                if (perUnitMs is { } ms
                    && double.TryParse(text.AsSpan(0, unitStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
                    && amount * ms <= TimeSpan.FromDays(3650).TotalMilliseconds)
                {
                    return TimeSpan.FromMilliseconds(amount * ms);
                }
            }

            throw Error(path, $"expected {what}, found {Describe(e)}.");
        }

        private double Number(JsonElement e, string path, double min, double max, string what, bool integer = false)
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out var v) || !double.IsFinite(v))
            {
                throw Error(path, $"expected {what}, found {Describe(e)}.");
            }

            if (v < min || v > max || (integer && v != Math.Floor(v)))
            {
                throw Error(path, $"{v.ToString(CultureInfo.InvariantCulture)} is out of range; expected {what}.");
            }

            return v;
        }

        private ScenarioException Error(string path, string message) => new(_file, path, message);

        private static string Describe(JsonElement e)
        {
            var raw = e.GetRawText();
            if (raw.Length > 40)
            {
                raw = raw[..37] + "…";
            }

            return e.ValueKind switch
            {
                JsonValueKind.String => $"the string {raw}",
                JsonValueKind.Number => $"the number {raw}",
                JsonValueKind.True or JsonValueKind.False => $"the boolean {raw}",
                JsonValueKind.Null => "null",
                JsonValueKind.Array => $"an array {raw}",
                JsonValueKind.Object => $"an object {raw}",
                _ => raw,
            };
        }
    }
}

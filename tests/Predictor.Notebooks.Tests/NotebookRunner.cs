using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace Predictor.Notebooks.Tests;

/// <summary>What a notebook cell can call besides the project's API, mirroring the Polyglot Notebooks kernel.</summary>
public sealed class NotebookGlobals
{
    /// <summary>Everything the cells displayed, in order (the runner's stand-in for cell outputs).</summary>
    public StringBuilder Output { get; } = new();

    /// <summary>Like Polyglot's <c>display(value)</c>: records the value's text and returns it.</summary>
    public object? display(object? value)
    {
        Output.AppendLine(value?.ToString() ?? "null");
        return value;
    }

    /// <summary>Like Polyglot's <c>HTML(text)</c> (PocketViewTags): markup that <c>display</c> renders; here its text is recorded.</summary>
    public NotebookHtml HTML(string html) => new(html);
}

/// <summary>What <see cref="NotebookGlobals.HTML"/> returns: HTML text, shown as itself.</summary>
/// <param name="Html">The markup.</param>
public sealed record NotebookHtml(string Html)
{
    /// <inheritdoc/>
    public override string ToString() => Html;
}

/// <summary>One C# code cell to run: its position (for messages) and its source with directives handled.</summary>
/// <param name="Index">Index among all cells (0-based, as in the .ipynb file).</param>
/// <param name="CodeCellNumber">1-based number among code cells, as an editor shows them.</param>
/// <param name="Code">Source with <c>#r</c> and <c>#!</c> lines removed.</param>
/// <param name="References">Assembly paths the cell's <c>#r "path"</c> lines asked for.</param>
public sealed record NotebookCell(int Index, int CodeCellNumber, string Code, IReadOnlyList<string> References);

/// <summary>
/// Executes the C# code cells of a Polyglot Notebooks .ipynb in order, carrying state from cell to cell, against the
/// assemblies of this build. Rules (README, "Notebooks"):
/// <list type="bullet">
/// <item><c>#r "nuget: …"</c> lines are skipped: the runner already references the project's assemblies and their
/// packages; a notebook needing any other package fails to compile here, which is the point.</item>
/// <item><c>#r "path"</c>: when the file name is that of an assembly this build already loaded (e.g.
/// <c>Predictor.Engine.dll</c>), this build's copy is used, whatever configuration the path names; otherwise the path is
/// resolved against the notebook's folder and must exist.</item>
/// <item><c>#!</c> lines (kernel selectors, magics) are removed; a cell in another language than C# is an error.</item>
/// </list>
/// </summary>
public static class NotebookRunner
{
    private static readonly string[] Imports = ["System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks"];

    /// <summary>Reads the C# code cells of a notebook.</summary>
    public static IReadOnlyList<NotebookCell> ReadCells(string notebookPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(notebookPath));
        var root = doc.RootElement;
        var defaultLanguage = "csharp";
        if (root.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("kernelspec", out var ks) &&
            ks.TryGetProperty("name", out var kernel) && kernel.GetString() is { } k && k != ".net-csharp")
        {
            throw new InvalidOperationException($"{notebookPath}: kernelspec '{k}' is not '.net-csharp'; notebooks here are C#.");
        }

        var cells = new List<NotebookCell>();
        var index = -1;
        var codeNumber = 0;
        foreach (var cell in root.GetProperty("cells").EnumerateArray())
        {
            index++;
            if (cell.GetProperty("cell_type").GetString() != "code")
            {
                continue;
            }

            codeNumber++;
            var language = defaultLanguage;
            if (cell.TryGetProperty("metadata", out var cm))
            {
                if (cm.TryGetProperty("dotnet_interactive", out var di) && di.TryGetProperty("language", out var l1))
                {
                    language = l1.GetString() ?? language;
                }
                else if (cm.TryGetProperty("polyglot_notebook", out var pn) && pn.TryGetProperty("kernelName", out var l2))
                {
                    language = l2.GetString() ?? language;
                }
            }

            if (language != "csharp")
            {
                throw new InvalidOperationException($"{notebookPath}: code cell {codeNumber} is '{language}'; notebooks here are C# only.");
            }

            var source = cell.GetProperty("source");
            var text = source.ValueKind == JsonValueKind.Array
                ? string.Concat(source.EnumerateArray().Select(s => s.GetString()))
                : source.GetString() ?? "";
            cells.Add(Directives(notebookPath, index, codeNumber, text));
        }

        return cells;
    }

    /// <summary>Runs every C# code cell in order; throws <see cref="NotebookFailure"/> naming the notebook and cell on the first error.</summary>
    public static async Task<NotebookGlobals> RunAsync(string notebookPath)
    {
        var name = Path.GetFileName(notebookPath);
        var globals = new NotebookGlobals();
        var options = ScriptOptions.Default
            .WithReferences(BaseReferences())
            .WithImports(Imports)
            .WithEmitDebugInformation(false);
        ScriptState<object>? state = null;
        foreach (var cell in ReadCells(notebookPath))
        {
            if (cell.References.Count > 0)
            {
                options = options.AddReferences(cell.References.Select(r => MetadataReference.CreateFromFile(r)));
            }

            try
            {
                state = state is null
                    ? await CSharpScript.RunAsync(cell.Code, options, globals, typeof(NotebookGlobals)).ConfigureAwait(false)
                    : await state.ContinueWithAsync(cell.Code, options).ConfigureAwait(false);
            }
            catch (CompilationErrorException e)
            {
                throw new NotebookFailure(
                    $"{name}, code cell {cell.CodeCellNumber} (cell {cell.Index}): compilation failed:\n{string.Join("\n", e.Diagnostics)}", e);
            }
            catch (Exception e) when (e is not NotebookFailure)
            {
                throw new NotebookFailure($"{name}, code cell {cell.CodeCellNumber} (cell {cell.Index}): {e.GetType().Name}: {e.Message}", e);
            }
        }

        return globals;
    }

    private static NotebookCell Directives(string notebookPath, int index, int codeNumber, string text)
    {
        // Load the project's assemblies so a #r naming one of them resolves to this build's copy.
        _ = typeof(Predictor.Engine.PredictorException).Assembly;
        _ = typeof(Predictor.Training.Pipeline.ModelTrainer).Assembly;
        var loaded = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => !a.IsDynamic && a.Location.Length > 0)
            .GroupBy(a => Path.GetFileName(a.Location), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Location, StringComparer.OrdinalIgnoreCase);
        var references = new List<string>();
        var code = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("#!", StringComparison.Ordinal))
            {
                code.AppendLine();   // keep line numbers of diagnostics equal to the cell's
                continue;
            }

            if (trimmed.StartsWith("#r ", StringComparison.Ordinal))
            {
                var target = trimmed[3..].Trim().Trim('"');
                if (!target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
                {
                    var fileName = Path.GetFileName(target);
                    if (loaded.TryGetValue(fileName, out var ours))
                    {
                        references.Add(ours);
                    }
                    else
                    {
                        var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(notebookPath)!, target));
                        if (!File.Exists(full))
                        {
                            throw new NotebookFailure($"{Path.GetFileName(notebookPath)}, code cell {codeNumber}: #r \"{target}\" resolves to {full}, which does not exist.");
                        }

                        references.Add(full);
                    }
                }

                code.AppendLine();
                continue;
            }

            code.Append(line.TrimEnd('\r')).Append('\n');
        }

        return new NotebookCell(index, codeNumber, code.ToString(), references);
    }

    private static IEnumerable<MetadataReference> BaseReferences()
    {
        // The framework (as Polyglot's kernel has it) and this build's Predictor assemblies (engine and training).
        var tpa = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var path in tpa)
        {
            var file = Path.GetFileName(path);
            if (file.StartsWith("System.", StringComparison.Ordinal) || file is "netstandard.dll" or "mscorlib.dll" ||
                file.StartsWith("Microsoft.Win32.", StringComparison.Ordinal) || file == "Microsoft.CSharp.dll")
            {
                yield return MetadataReference.CreateFromFile(path);
            }
        }

        yield return MetadataReference.CreateFromFile(typeof(Predictor.Engine.PredictorException).Assembly.Location);
        yield return MetadataReference.CreateFromFile(typeof(Predictor.Training.Pipeline.ModelTrainer).Assembly.Location);
    }
}

/// <summary>A notebook cell failed to compile or run; the message names the notebook and cell.</summary>
public sealed class NotebookFailure : Exception
{
    /// <summary>Creates the failure.</summary>
    public NotebookFailure(string message)
        : base(message)
    {
    }

    /// <summary>Creates the failure with its cause.</summary>
    public NotebookFailure(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Use the constructors with a message.</summary>
    public NotebookFailure()
    {
    }
}

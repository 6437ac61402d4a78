using Predictor.Engine;

namespace Predictor.Cli.Commands;

/// <summary>
/// Checks a command's output files before its work starts, so a typo is one line at once rather than an error after
/// minutes of training or replay, with the work lost: an output that is a directory, that names one of the command's
/// own inputs (writing a model over the store it was trained from would destroy the recording), or that two outputs share.
/// </summary>
internal static class OutputPaths
{
    /// <summary>
    /// Returns the full paths of <paramref name="outputs"/> (option name and path; a null path is skipped and gives null).
    /// </summary>
    /// <param name="outputs">Each output option's name (e.g. <c>--out</c>) and the path given, or null when it was not.</param>
    /// <param name="inputs">Each input option's name and path (a file or a folder), or null when not given.</param>
    /// <exception cref="PredictorException">An output is empty, a directory, an input, or the same file as another output.</exception>
    public static string?[] Check(IReadOnlyList<(string Option, string? Path)> outputs, IReadOnlyList<(string Option, string? Path)> inputs)
    {
        var full = new string?[outputs.Count];
        for (var i = 0; i < outputs.Count; i++)
        {
            var (option, path) = outputs[i];
            if (path is null)
            {
                continue;
            }

            if (string.IsNullOrWhiteSpace(path))
            {
                throw new PredictorException($"{option} is empty; give the path of the file to write.");
            }

            var f = Path.GetFullPath(path);
            RefuseDirectory(option, path, Suggested(option));

            foreach (var (inputOption, input) in inputs)
            {
                if (input is not null && SameFile(f, Path.GetFullPath(input)))
                {
                    throw new PredictorException($"{option} '{path}' is the {inputOption} this command reads; writing it would destroy that input. Give another path.");
                }
            }

            for (var j = 0; j < i; j++)
            {
                if (full[j] is { } other && SameFile(f, other))
                {
                    throw new PredictorException($"{option} and {outputs[j].Option} are the same file '{path}'; the second would overwrite the first. Give them different paths.");
                }
            }

            full[i] = f;
        }

        return full;
    }

    /// <summary>Refuses an output <paramref name="path"/> that is a directory, suggesting <paramref name="example"/> inside it.</summary>
    /// <exception cref="PredictorException">The path is a directory.</exception>
    public static void RefuseDirectory(string option, string path, string example)
    {
        if (Directory.Exists(path))
        {
            throw new PredictorException($"{option} '{path}' is a directory; give the path of a file to write, e.g. '{Path.Combine(path, example)}'.");
        }
    }

    // The same path, or a symbolic link and the file it leads to.
    private static bool SameFile(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return true;
        }

        if (!File.Exists(a) || !File.Exists(b))
        {
            return false;
        }

        var ra = new FileInfo(a).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? a;
        var rb = new FileInfo(b).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? b;
        return string.Equals(ra, rb, StringComparison.Ordinal);
    }

    private static string Suggested(string option) => option switch
    {
        "--json" => "result.json",
        "--report" => "report.html",
        _ => "model.onnx",
    };
}

namespace Predictor.Engine.Modules.Packaging;

/// <summary>
/// The one rule for paths inside a package, applied to the manifest and to every archive entry before anything is
/// written: relative, '/'-separated, no empty, <c>.</c> or <c>..</c> segment, no backslash, no control character,
/// so that <c>Path.Combine(slot, path)</c> always stays inside the slot.
/// </summary>
internal static class PackagePaths
{
    public const int MaxLength = 1024;

    public static void Check(string? path, string where)
    {
        string? problem = null;
        if (string.IsNullOrEmpty(path))
        {
            problem = "is empty";
        }
        else if (path.Length > MaxLength)
        {
            problem = $"is longer than {MaxLength} characters";
        }
        else if (path[0] == '/' || (path.Length >= 2 && path[1] == ':'))
        {
            problem = "is absolute";
        }
        else if (path.Contains('\\', StringComparison.Ordinal))
        {
            problem = "contains a backslash";
        }
        else if (path.Any(char.IsControl))
        {
            problem = "contains a control character";
        }
        else
        {
            foreach (var segment in path.Split('/'))
            {
                if (segment.Length == 0 || segment == "." || segment == "..")
                {
                    problem = segment == ".." ? "climbs out with '..'" : "has an empty or '.' segment";
                    break;
                }
            }
        }

        if (problem is not null)
        {
            throw new ModulePackageException(
                ModuleRejection.PathTraversal,
                $"{where}: path '{Printable(path)}' {problem}; package paths are relative, '/'-separated, without '..'");
        }
    }

    public static string Printable(string? s) =>
        s is null ? string.Empty : new string(s.Select(c => char.IsControl(c) ? '?' : c).Take(200).ToArray());
}

namespace Predictor.TestSupport;

/// <summary>Locates the repository root (the folder holding Predictor.sln) and the shared datasets beside it.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder that holds Predictor.sln.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The read-only production traces in <c>../shared/datasets</c>, beside the project root.</summary>
    public static string SharedDatasets => Path.GetFullPath(Path.Combine(Root, "..", "shared", "datasets"));

    /// <summary>A path below the repository root.</summary>
    public static string InRepo(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Predictor.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Predictor.sln was not found above '{AppContext.BaseDirectory}'. Run the tests from inside the repository.");
    }
}

using Predictor.TestSupport;

namespace Predictor.Notebooks.Tests;

public sealed class NotebookTests
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(RepoPaths.InRepo("notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Fact]
    public void Notebooks_Folder_HoldsAtLeastOneNotebook()
    {
        Assert.NotEmpty(Notebooks());
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task RunAsync_EveryNotebook_AllCodeCellsRunWithoutError(string notebook)
    {
        var globals = await NotebookRunner.RunAsync(RepoPaths.InRepo("notebooks", notebook));

        // What the cells displayed, for a reader without Polyglot (README, "Notebooks").
        var shown = Path.Combine(Path.GetTempPath(), "predictor-notebooks", Path.ChangeExtension(notebook, ".displayed.txt"));
        Directory.CreateDirectory(Path.GetDirectoryName(shown)!);
        await File.WriteAllTextAsync(shown, globals.Output.ToString());

        // A notebook that runs but shows nothing is not doing its job; the ones listed must show what they promise.
        Assert.NotEqual(0, globals.Output.Length);
        foreach (var expected in MustShow.GetValueOrDefault(notebook, []))
        {
            Assert.Contains(expected, globals.Output.ToString(), StringComparison.Ordinal);
        }
    }

    // What each notebook's markdown promises to show (a notebook not listed only has to show something).
    private static readonly Dictionary<string, string[]> MustShow = new(StringComparer.Ordinal)
    {
        ["forecasting.ipynb"] = ["selected: ", "calib MASE", "gbdt ", "ridge ", "ssa ", "seasonal_naive ", "held-out, one hour ahead", "<svg", "upper (q = 0.9)"],
        ["replay.ipynb"] = ["predictive/ssa-first7d", "dominated", "<iframe", "replay-azure-placement.html", "migrations / module-day"],
        ["replay-metrics.ipynb"] = ["static-half", "last-hour-max+20%", "report: "],
    };

    [Fact]
    public void MustShow_EveryListedNotebook_Exists()
    {
        // A renamed notebook must not silently lose its checks.
        var present = Directory.EnumerateFiles(RepoPaths.InRepo("notebooks"), "*.ipynb").Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);

        Assert.All(MustShow.Keys, name => Assert.Contains(name, present));
    }

    [Fact]
    public async Task RunAsync_CellThatThrows_FailureNamesNotebookAndCell()
    {
        var path = WriteNotebook(["var x = 1;", "throw new InvalidOperationException(\"boom\");"]);
        try
        {
            var e = await Assert.ThrowsAsync<NotebookFailure>(() => NotebookRunner.RunAsync(path));

            Assert.Contains($"{Path.GetFileName(path)}, code cell 2", e.Message, StringComparison.Ordinal);
            Assert.Contains("boom", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task RunAsync_CompileError_FailureNamesCellAndDiagnostic()
    {
        var path = WriteNotebook(["int x = 1;", "var y = x + undefinedThing;"]);
        try
        {
            var e = await Assert.ThrowsAsync<NotebookFailure>(() => NotebookRunner.RunAsync(path));

            Assert.Contains("code cell 2", e.Message, StringComparison.Ordinal);
            Assert.Contains("compilation failed", e.Message, StringComparison.Ordinal);
            Assert.Contains("undefinedThing", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task RunAsync_StateCarriesAcrossCellsAndNugetLinesSkipped_Runs()
    {
        var path = WriteNotebook(["#r \"nuget: Something, 1.0.0\"\n#!time\nvar total = 20;", "total += 22;\ndisplay(total);"]);
        try
        {
            var globals = await NotebookRunner.RunAsync(path);

            Assert.Equal("42", globals.Output.ToString().Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReadCells_ProjectAssemblyReference_ResolvedToThisBuild()
    {
        var path = WriteNotebook(["#r \"../engine/Predictor.Engine/bin/Debug/net10.0/Predictor.Engine.dll\"\nusing Predictor.Engine;"]);
        try
        {
            var cell = Assert.Single(NotebookRunner.ReadCells(path));

            Assert.Equal(typeof(Predictor.Engine.PredictorException).Assembly.Location, Assert.Single(cell.References));
            Assert.DoesNotContain("#r", cell.Code, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task RunAsync_TrainingAssemblyReferencedFromTheCliOutput_UsesThisBuildsTrainingApi()
    {
        var path = WriteNotebook([
            "#r \"../engine/Predictor.Cli/bin/Debug/net10.0/Predictor.Training.dll\"\nusing Predictor.Training.Pipeline;",
            "display(new TrainingOptions().Horizon);",
        ]);
        try
        {
            var globals = await NotebookRunner.RunAsync(path);

            Assert.Equal("12", globals.Output.ToString().Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task RunAsync_HtmlDisplayed_RecordsTheMarkup()
    {
        var path = WriteNotebook(["display(HTML(\"<svg width='10'></svg>\"));"]);
        try
        {
            var globals = await NotebookRunner.RunAsync(path);

            Assert.Equal("<svg width='10'></svg>", globals.Output.ToString().Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string WriteNotebook(string[] cells)
    {
        var path = Path.Combine(Path.GetTempPath(), $"predictor-nb-{Guid.NewGuid():N}.ipynb");
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["cells"] = new System.Text.Json.Nodes.JsonArray(cells.Select(c => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["cell_type"] = "code",
                ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["dotnet_interactive"] = new System.Text.Json.Nodes.JsonObject { ["language"] = "csharp" } },
                ["source"] = new System.Text.Json.Nodes.JsonArray(c.Split('\n').Select(l => (System.Text.Json.Nodes.JsonNode)(l + "\n")).ToArray()),
                ["outputs"] = new System.Text.Json.Nodes.JsonArray(),
            }).ToArray()),
            ["metadata"] = new System.Text.Json.Nodes.JsonObject
            {
                ["kernelspec"] = new System.Text.Json.Nodes.JsonObject { ["name"] = ".net-csharp", ["display_name"] = ".NET (C#)", ["language"] = "C#" },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }
}

using System.Xml.Linq;

namespace Sair.Architecture.Tests;

/// <summary>The repository shape the product owner asked for, and the build settings every project inherits.</summary>
public sealed class SolutionLayoutTests
{
    [Fact]
    public void Layout_and_classic_solution_file_are_in_place()
    {
        var root = RepoPaths.Root;
        foreach (var dir in new[] { "src/Sair.Engine", "src/Sair.Grains.Abstractions", "src/Sair.Grains", "src/Sair.Silo", "src/Sair.Client", "tests", "bench", "k8s" })
        {
            Assert.True(Directory.Exists(Path.Combine(root, dir)), $"missing folder {dir}");
        }
        Assert.True(File.Exists(Path.Combine(root, "README.md")));
        var sln = File.ReadAllText(Path.Combine(root, "SairGrid.sln"));
        Assert.StartsWith("Microsoft Visual Studio Solution File", sln.TrimStart('\uFEFF', '\r', '\n'));
        foreach (var project in Directory.GetFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories)
                     .Concat(Directory.GetFiles(Path.Combine(root, "tests"), "*.csproj", SearchOption.AllDirectories)))
        {
            Assert.Contains(Path.GetFileName(project), sln);
        }
    }

    [Fact]
    public void Build_settings_are_central_strict_and_pinned()
    {
        var root = RepoPaths.Root;
        var props = XDocument.Load(Path.Combine(root, "Directory.Build.props"));
        Assert.Equal("enable", props.Descendants("Nullable").Single().Value);
        Assert.Equal("true", props.Descendants("TreatWarningsAsErrors").Single().Value);
        Assert.Equal("true", props.Descendants("ManagePackageVersionsCentrally").Single().Value);
        Assert.Contains("\"version\"", File.ReadAllText(Path.Combine(root, "global.json")));

        // Central versions: no project pins a version of its own.
        foreach (var project in Directory.GetFiles(root, "*.csproj", SearchOption.AllDirectories))
        {
            var xml = XDocument.Load(project);
            Assert.DoesNotContain(xml.Descendants("PackageReference"), p => p.Attribute("Version") is not null);
        }
    }
}

using System.Text.Json;
using System.Xml.Linq;
using Sair.Tests;

namespace Sair.Architecture.Tests;

/// <summary>
/// The layering rule, read from the project graph itself: Engine has no Orleans; Grains have neither TorchSharp nor
/// Engine (they reach the engine through ports they define); the client carries neither Engine nor libtorch.
/// </summary>
public sealed class DependencyRuleTests
{
    private static readonly string[] TorchPackages = ["TorchSharp", "libtorch-", "TorchSharp-", "TorchSharp.PyBridge"];

    [Fact]
    public void Engine_references_no_Orleans()
    {
        var closure = ProjectClosure("src/Sair.Engine/Sair.Engine.csproj");
        Assert.DoesNotContain(closure.Packages, p => p.StartsWith("Microsoft.Orleans", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("TorchSharp", closure.Packages);
    }

    [Fact]
    public void Grains_reference_neither_TorchSharp_nor_Engine()
    {
        var closure = ProjectClosure("src/Sair.Grains/Sair.Grains.csproj");
        Assert.DoesNotContain("Sair.Engine", closure.Projects);
        Assert.DoesNotContain(closure.Packages, IsTorch);
        Assert.Contains(closure.Packages, p => p.StartsWith("Microsoft.Orleans", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Client_references_neither_Engine_nor_TorchSharp()
    {
        var closure = ProjectClosure("src/Sair.Client/Sair.Client.csproj");
        Assert.DoesNotContain("Sair.Engine", closure.Projects);
        Assert.DoesNotContain("Sair.Silo", closure.Projects);
        Assert.DoesNotContain(closure.Packages, IsTorch);
    }

    [Fact]
    public void The_checker_sees_torch_where_it_is()
    {
        // Guards the test itself: the Silo does carry the engine, so a broken graph reader cannot pass the rules above.
        var closure = ProjectClosure("src/Sair.Silo/Sair.Silo.csproj");
        Assert.Contains("Sair.Engine", closure.Projects);
        Assert.Contains(closure.Packages, IsTorch);
    }

    [Fact]
    public void Restored_package_graphs_agree_when_present()
    {
        // After a restore, obj/project.assets.json holds every transitive package: no torch may sneak in through one.
        foreach (var project in new[] { "src/Sair.Grains", "src/Sair.Client" })
        {
            var assets = Path.Combine(RepoPaths.Root, project, "obj", "project.assets.json");
            if (!File.Exists(assets))
            {
                continue;
            }
            using var doc = JsonDocument.Parse(File.ReadAllText(assets));
            var libraries = doc.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name.Split('/')[0]).ToList();
            Assert.NotEmpty(libraries);
            Assert.DoesNotContain(libraries, IsTorch);
            Assert.DoesNotContain("Sair.Engine", libraries);
        }
    }

    private static bool IsTorch(string package) =>
        TorchPackages.Any(t => package.StartsWith(t, StringComparison.OrdinalIgnoreCase));

    private sealed record Closure(HashSet<string> Projects, HashSet<string> Packages);

    private static Closure ProjectClosure(string relativePath)
    {
        var projects = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var packages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>();
        pending.Push(Path.GetFullPath(Path.Combine(RepoPaths.Root, relativePath)));
        while (pending.Count > 0)
        {
            var path = pending.Pop();
            if (!projects.Add(Path.GetFileNameWithoutExtension(path)))
            {
                continue;
            }
            var xml = XDocument.Load(path);
            foreach (var reference in xml.Descendants("ProjectReference"))
            {
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, reference.Attribute("Include")!.Value)));
            }
            foreach (var package in xml.Descendants("PackageReference"))
            {
                packages.Add(package.Attribute("Include")!.Value);
            }
            // Directory.Build.targets adds TorchSharp and the libtorch runtime to every project that sets SairUsesTorch.
            if (xml.Descendants("SairUsesTorch").Any(e => e.Value.Trim() == "true"))
            {
                packages.UnionWith(TorchPackagesFromTargets());
            }
        }
        return new Closure(projects, packages);
    }

    private static IEnumerable<string> TorchPackagesFromTargets()
    {
        var targets = XDocument.Load(Path.Combine(RepoPaths.Root, "Directory.Build.targets"));
        return targets.Descendants("PackageReference").Select(p => p.Attribute("Include")!.Value);
    }
}

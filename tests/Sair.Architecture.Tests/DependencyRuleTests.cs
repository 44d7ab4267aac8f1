using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Sair.Architecture.Tests;

/// <summary>
/// The layering rule, read from the project graph itself: Engine has no Orleans; Grains have neither TorchSharp nor
/// Engine (they reach the engine through the ports of their contract, Sair.Grains.Abstractions, which references only
/// the Orleans SDK); the client carries the contract, but neither the grains, the silo runtime, Engine nor libtorch.
/// </summary>
public sealed partial class DependencyRuleTests
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
    public void Contract_references_only_the_Orleans_SDK()
    {
        var closure = ProjectClosure("src/Sair.Grains.Abstractions/Sair.Grains.Abstractions.csproj");
        Assert.Equal(["Sair.Grains.Abstractions"], closure.Projects);
        Assert.Equal(["Microsoft.Orleans.Sdk"], closure.Packages);
        Assert.Empty(GrainClasses(closure));
    }

    [Fact]
    public void Client_carries_the_contract_but_no_runtime_and_no_grain()
    {
        // The Orleans samples' split (GrainInterfaces / Abstractions): a client holds interfaces and DTOs, never the grain
        // classes, the engine worker or the silo runtime.
        var closure = ProjectClosure("src/Sair.Client/Sair.Client.csproj");
        Assert.Contains("Sair.Grains.Abstractions", closure.Projects);
        Assert.DoesNotContain("Sair.Grains", closure.Projects);
        Assert.DoesNotContain(closure.Packages, IsOrleansRuntime);
        Assert.Empty(GrainClasses(closure));
    }

    [Fact]
    public void The_checker_sees_grains_and_the_runtime_where_they_are()
    {
        // Guards the two rules above: the grains project does hold grain classes and the runtime.
        var closure = ProjectClosure("src/Sair.Grains/Sair.Grains.csproj");
        Assert.Contains(closure.Packages, IsOrleansRuntime);
        Assert.Contains("RestorationJobGrain", GrainClasses(closure));
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
        foreach (var project in new[] { "src/Sair.Grains.Abstractions", "src/Sair.Grains", "src/Sair.Client" })
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
            if (project != "src/Sair.Grains")
            {
                // Nor the silo runtime through a package that depends on it.
                Assert.DoesNotContain(libraries, IsOrleansRuntime);
                Assert.DoesNotContain("Sair.Grains", libraries);
            }
        }
    }

    private static bool IsOrleansRuntime(string package) =>
        package.Equals("Microsoft.Orleans.Runtime", StringComparison.OrdinalIgnoreCase)
        || package.Equals("Microsoft.Orleans.Server", StringComparison.OrdinalIgnoreCase)
        || package.StartsWith("Microsoft.Orleans.Reminders", StringComparison.OrdinalIgnoreCase);

    // Classes deriving from Orleans' Grain (directly or through a base named *Grain<…>) in the projects' sources.
    private static List<string> GrainClasses(Closure closure) => closure.Projects
        .Select(p => Path.Combine(RepoPaths.Root, "src", p))
        .Where(Directory.Exists)
        .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
        .SelectMany(f => GrainClassPattern().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
        .ToList();

    [GeneratedRegex(@"class\s+(\w+)(?:<[^>]*>)?(?:\((?:[^()]|\([^()]*\))*\))?\s*:\s*(?:Grain\b|\w*Grain<)", RegexOptions.Singleline)]
    private static partial Regex GrainClassPattern();

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

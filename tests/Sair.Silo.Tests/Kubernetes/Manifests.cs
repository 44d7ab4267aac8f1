using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Sair.Silo.Tests.Kubernetes;

/// <summary>The YAML under k8s/, read as plain trees (maps, lists, strings) with a few navigation helpers.</summary>
internal static class Manifests
{
    public static string Root => Path.Combine(RepoPaths.Root, "k8s");

    public static IEnumerable<string> YamlFiles =>
        Directory.EnumerateFiles(Root, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    /// <summary>Every document of every manifest file (kustomizations included, patches not), with the file it came from.</summary>
    public static IReadOnlyList<(string File, Dictionary<string, object?> Document)> All { get; } =
        [.. YamlFiles.Where(file => !IsPatch(file)).SelectMany(file => Load(File.ReadAllText(file)).Select(document => (file, document)))];

    /// <summary>The documents of overlays' patch files (<c>*.patch.yaml</c>): partial objects merged into base ones.</summary>
    public static IReadOnlyList<(string File, Dictionary<string, object?> Document)> Patches { get; } =
        [.. YamlFiles.Where(IsPatch).SelectMany(file => Load(File.ReadAllText(file)).Select(document => (file, document)))];

    private static bool IsPatch(string file) => file.EndsWith(".patch.yaml", StringComparison.Ordinal);

    public static IEnumerable<Dictionary<string, object?>> OfKind(string kind) =>
        All.Select(d => d.Document).Where(d => Str(d, "kind") == kind);

    public static Dictionary<string, object?> Named(string kind, string name) =>
        OfKind(kind).Single(d => Str(d, "metadata", "name") == name);

    public static List<Dictionary<string, object?>> Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Select(d => Plain(d.RootNode)).OfType<Dictionary<string, object?>>()];
    }

    public static object? At(object? node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node is Dictionary<string, object?> map && map.TryGetValue(key, out var child) ? child : null;
        }

        return node;
    }

    public static string? Str(object? node, params string[] path) => At(node, path) as string;

    public static Dictionary<string, object?> Map(object? node, params string[] path) =>
        At(node, path) as Dictionary<string, object?> ?? [];

    public static List<object?> List(object? node, params string[] path) => At(node, path) as List<object?> ?? [];

    public static IEnumerable<Dictionary<string, object?>> Containers(Dictionary<string, object?> deployment) =>
        List(deployment, "spec", "template", "spec", "containers").OfType<Dictionary<string, object?>>();

    /// <summary>The Deployments whose pods are silos (label sairgrid/silo=true).</summary>
    public static IEnumerable<Dictionary<string, object?>> SiloDeployments =>
        OfKind("Deployment").Where(d => Str(d, "spec", "template", "metadata", "labels", "sairgrid/silo") == "true");

    /// <summary>
    /// The environment a silo container gets: its ConfigMaps (envFrom) first, then its own env entries, which win as in
    /// Kubernetes. Values from the downward API or secrets are returned as null.
    /// </summary>
    public static Dictionary<string, string?> Environment(Dictionary<string, object?> container)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var source in List(container, "envFrom"))
        {
            if (Str(source, "configMapRef", "name") is { } configMap)
            {
                foreach (var (key, value) in Map(Named("ConfigMap", configMap), "data"))
                {
                    environment[key] = value as string;
                }
            }
        }

        foreach (var entry in List(container, "env"))
        {
            environment[Str(entry, "name")!] = Str(entry, "value");
        }

        return environment;
    }

    public static void ParseJson(string path) => JsonDocument.Parse(File.ReadAllText(path)).Dispose();

    private static object? Plain(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => Plain(p.Value)),
        YamlSequenceNode list => list.Children.Select(Plain).ToList(),
        YamlScalarNode scalar => scalar.Value,
        _ => null,
    };
}

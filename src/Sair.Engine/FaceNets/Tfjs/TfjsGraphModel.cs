using System.Text;
using System.Text.Json.Nodes;
using Sair.Engine.IO;

namespace Sair.Engine.FaceNets.Tfjs;

/// <summary>One node of a tfjs graph model (a TensorFlow GraphDef node as JSON).</summary>
public sealed class TfjsNode
{
    internal TfjsNode(string name, string op, IReadOnlyList<string> inputs, JsonObject attributes)
    {
        Name = name;
        Op = op;
        Inputs = inputs;
        Attributes = attributes;
    }

    public string Name { get; }

    public string Op { get; }

    /// <summary>Data inputs by node name (output index suffixes and control dependencies removed).</summary>
    public IReadOnlyList<string> Inputs { get; }

    public JsonObject Attributes { get; }

    /// <summary>An integer-list attribute such as strides or dilations (null when absent).</summary>
    public long[]? Ints(string attribute) =>
        (Attributes[attribute]?["list"]?["i"] as JsonArray)?.Select(v => long.Parse(v!.ToString(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>A string attribute (GraphDef JSON stores bytes as base64).</summary>
    public string? String(string attribute) =>
        Attributes[attribute]?["s"]?.GetValue<string>() is { } b64 ? Encoding.UTF8.GetString(Convert.FromBase64String(b64)) : null;

    /// <summary>A string-list attribute such as fused_ops.</summary>
    public string[] Strings(string attribute) =>
        (Attributes[attribute]?["list"]?["s"] as JsonArray)?.Select(v => Encoding.UTF8.GetString(Convert.FromBase64String(v!.GetValue<string>()))).ToArray() ?? [];

    public bool Bool(string attribute) => Attributes[attribute]?["b"]?.GetValue<bool>() ?? false;

    public float Float(string attribute, float fallback) =>
        Attributes[attribute]?["f"] is { } f ? (float)f.GetValue<double>() : fallback;
}

/// <summary>A tfjs graph model: <c>model.json</c> with <c>modelTopology</c> (GraphDef nodes) and <c>weightsManifest</c>.</summary>
public sealed class TfjsGraphModel : IDisposable
{
    private TfjsGraphModel(string sourcePath, IReadOnlyList<TfjsNode> nodes, TfjsWeightMap weights)
    {
        SourcePath = sourcePath;
        Nodes = nodes;
        Weights = weights;
    }

    public string SourcePath { get; }

    public IReadOnlyList<TfjsNode> Nodes { get; }

    /// <summary>The Const nodes' values, by node name.</summary>
    public TfjsWeightMap Weights { get; }

    public static TfjsGraphModel Load(string modelJsonPath)
    {
        var parsed = TfjsWeights.ReadJson(modelJsonPath, "tfjs graph model");
        if (parsed is not JsonObject root)
        {
            throw new CheckpointException(modelJsonPath, parsed is JsonArray
                ? "is a weights-only manifest (no modelTopology), not a graph model; read it with TfjsWeights.LoadManifest."
                : "is not a tfjs model.json (expected a JSON object).");
        }
        if (root["modelTopology"]?["node"] is not JsonArray nodeArray)
        {
            throw new CheckpointException(modelJsonPath,
                "has no modelTopology.node: it is not a tfjs graph model (a layers model or a weights-only manifest?).");
        }
        if (root["weightsManifest"] is not JsonArray manifest)
        {
            throw new CheckpointException(modelJsonPath, "has no weightsManifest.");
        }
        var nodes = nodeArray.Select(n => ParseNode(n as JsonObject, modelJsonPath)).ToArray();
        return new TfjsGraphModel(modelJsonPath, nodes, TfjsWeights.Decode(manifest, modelJsonPath));
    }

    public void Dispose() => Weights.Dispose();

    private static TfjsNode ParseNode(JsonObject? node, string path)
    {
        if (node?["name"]?.GetValue<string>() is not { } name || node["op"]?.GetValue<string>() is not { } op)
        {
            throw new CheckpointException(path, "has a graph node without name or op.");
        }
        var inputs = (node["input"] as JsonArray)?
            .Select(i => i!.GetValue<string>())
            .Where(i => !i.StartsWith('^'))
            .Select(StripOutputIndex)
            .ToArray() ?? [];
        return new TfjsNode(name, op, inputs, node["attr"] as JsonObject ?? []);
    }

    /// <summary>"node:0" → "node". Other output indices are kept, so a graph that needs them fails with an unknown-node error.</summary>
    internal static string StripOutputIndex(string input) => input.EndsWith(":0", StringComparison.Ordinal) ? input[..^2] : input;
}

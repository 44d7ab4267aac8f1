using System.Globalization;
using System.Text.Json.Nodes;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.StyleGan;

/// <summary>The rosinality oracle in shared/fixtures/stylegan2: its manifest, weights and arrays.</summary>
internal static class StyleGan2Fixtures
{
    private static readonly Lazy<JsonObject> ManifestLazy = new(() =>
        JsonNode.Parse(File.ReadAllText(RepoPaths.SharedFile("fixtures", "stylegan2", "manifest.json")))!.AsObject());

    public static JsonObject Manifest => ManifestLazy.Value;

    public static IEnumerable<string> AllConfigs => Manifest["configs"]!.AsObject().Select(c => c.Key);

    /// <summary>Every weights file of every config: the torch .pt, and the .safetensors copy where there is one.</summary>
    public static IEnumerable<(string Config, string Path)> AllWeightsFiles =>
        AllConfigs.SelectMany(c => WeightsFiles(c).Select(path => (c, path)));

    public static string Dir(string config) => RepoPaths.SharedFile("fixtures", "stylegan2", config);

    /// <summary>The config's weights files that exist: .pt always, .safetensors for three of the four configs.</summary>
    public static IEnumerable<string> WeightsFiles(string config) =>
        new[] { ".pt", ".safetensors" }.Select(ext => Path.Combine(Dir(config), config + ext)).Where(File.Exists);

    /// <summary>The generator of a config, loaded from its torch .pt checkpoint.</summary>
    public static StyleGan2Generator LoadGenerator(string config) => StyleGan2Loader.Load(Path.Combine(Dir(config), config + ".pt"));

    public static Tensor Npy(string config, string file) => Sair.Engine.IO.Npy.Read(Path.Combine(Dir(config), file));

    /// <summary>The manifest's own config block.</summary>
    public static StyleGan2Config ManifestConfig(string config)
    {
        var c = Manifest["configs"]![config]!["config"]!;
        return new StyleGan2Config
        {
            Size = (int)c["size"]!,
            StyleDim = (int)c["style_dim"]!,
            NMlp = (int)c["n_mlp"]!,
            ChannelMultiplier = (int)c["channel_multiplier"]!,
            LrMlp = (double)c["lr_mlp"]!,
            BlurKernel = c["blur_kernel"]!.AsArray().Select(k => (int)k!).ToArray(),
            Channels = c["channels"]!.AsObject().ToDictionary(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture), kv => (int)kv.Value!),
        };
    }

    /// <summary>(key, shape) of the config's state dict in PyTorch order, from the manifest.</summary>
    public static List<(string Key, long[] Shape)> ManifestStateDict(string config) =>
        Manifest["configs"]![config]!["state_dict"]!.AsArray()
            .Select(e => ((string)e!["key"]!, e["shape"]!.AsArray().Select(s => (long)s!).ToArray()))
            .ToList();

    /// <summary>The oracle's tolerance: |x − r| ≤ 1e-4 · max(1, max|r|) elementwise.</summary>
    public static void AssertClose(Tensor reference, Tensor actual, string what)
    {
        Assert.True(reference.shape.SequenceEqual(actual.shape),
            $"{what}: shape ({string.Join(", ", actual.shape)}) instead of ({string.Join(", ", reference.shape)})");
        using var r = reference.to(ScalarType.Float64);
        using var x = actual.detach().cpu().to(ScalarType.Float64);
        var bound = 1e-4 * Math.Max(1, r.abs().max().item<double>());
        var error = (x - r).abs().max().item<double>();
        Assert.True(error <= bound, $"{what}: max |x − r| = {error:G4} > {bound:G4}");
    }

    public static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors)
        {
            t.Dispose();
        }
    }
}

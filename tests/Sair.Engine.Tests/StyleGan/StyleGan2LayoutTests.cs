using Sair.Engine.StyleGan;
using Sair.Engine.IO;
using static Sair.Engine.Tests.StyleGan.StyleGan2Fixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.StyleGan;

/// <summary>State dict keys, shapes and order against rosinality's, and the config inferred from weights.</summary>
public sealed class StyleGan2LayoutTests
{
    [Theory]
    [InlineData(256, 135)]
    [InlineData(1024, 171)]
    public void Official_cm2_generator_has_rosinalitys_keys_shapes_kinds_and_order(int size, int entries)
    {
        var spec = File.ReadAllLines(RepoPaths.SharedFile("spec", $"stylegan2_rosinality_{size}_cm2.tsv"))
            .Skip(1)
            .Where(l => l.Length > 0)
            .Select(l => l.Split('\t'))
            .Select(f => (Key: f[0], Shape: f[1], Kind: f[2]))
            .ToList();
        Assert.Equal(entries, spec.Count);

        using var g = new StyleGan2Generator(new StyleGan2Config { Size = size, StyleDim = 512, NMlp = 8, ChannelMultiplier = 2 });
        var parameters = g.named_parameters().Select(p => p.name).ToHashSet();
        var actual = g.state_dict()
            .Select(kv => (Key: kv.Key, Shape: "(" + string.Join(",", kv.Value.shape) + (kv.Value.shape.Length == 1 ? ",)" : ")"),
                Kind: parameters.Contains(kv.Key) ? "param" : "buffer"))
            .ToList();
        Assert.Equal(spec, actual);
        Assert.Equal(2 * (int)Math.Log2(size) - 2, g.NLatent);
    }

    [Fact]
    public void Inferred_config_of_every_fixture_equals_the_manifest_and_rebuilds_its_state_dict()
    {
        foreach (var config in AllConfigs)
        {
            var expectedKeys = ManifestStateDict(config);
            // Zeros with the manifest's shapes: covers the configs without a readable weights file too.
            var fake = expectedKeys.Select(e => KeyValuePair.Create("g_ema." + e.Key, zeros(e.Shape))).ToList();
            try
            {
                var inferred = StyleGan2Config.InferFromStateDict(fake);
                Assert.Equal(ManifestConfig(config), inferred);
                var manifestConfig = Manifest["configs"]![config]!["config"]!;
                Assert.Equal((int)manifestConfig["n_latent"]!, inferred.NLatent);
                Assert.Equal((int)manifestConfig["num_layers"]!, inferred.NumLayers);

                using var g = new StyleGan2Generator(inferred);
                Assert.Equal(expectedKeys.Select(e => (e.Key, string.Join(",", e.Shape))),
                    g.state_dict().Select(kv => (kv.Key, string.Join(",", kv.Value.shape))));
            }
            finally
            {
                DisposeAll(fake.Select(f => f.Value));
            }
        }
    }

    [Fact]
    public void Inference_from_real_files_finds_the_manifest_config_and_the_standard_table_is_recognised()
    {
        foreach (var (config, path) in AllWeightsFiles)
        {
            using var file = Sair.Engine.IO.WeightsFile.Open(path);
            var (weights, _) = StyleGan2Loader.SelectGenerator(file.Tensors, path);
            Assert.Equal(ManifestConfig(config), StyleGan2Config.InferFromStateDict(weights));
        }

        // A state dict with rosinality's own table comes back as "default table, cm 2" rather than an explicit table.
        var official = new StyleGan2Config { Size = 64, StyleDim = 16, NMlp = 2, ChannelMultiplier = 2 };
        var shapes = SpecShapesOf(official);
        try
        {
            var inferred = StyleGan2Config.InferFromStateDict(shapes);
            Assert.Null(inferred.Channels);
            Assert.Equal(2, inferred.ChannelMultiplier);
            Assert.Equal(official, inferred);
            Assert.NotEqual(official with { ChannelMultiplier = 1 }, inferred);
        }
        finally
        {
            DisposeAll(shapes.Select(s => s.Value));
        }
    }

    [Fact]
    public void Invalid_configs_are_refused_with_what_to_change()
    {
        Assert.Contains("power of two", Assert.Throws<ArgumentException>(() => new StyleGan2Config { Size = 48 }.Validate()).Message);
        Assert.Contains("power of two", Assert.Throws<ArgumentException>(() => new StyleGan2Config { Size = 4 }.Validate()).Message);
        Assert.Contains("explicitly", Assert.Throws<ArgumentException>(() => new StyleGan2Config { Size = 2048 }.Validate()).Message);
        var partial = new StyleGan2Config { Size = 16, Channels = new Dictionary<int, int> { [4] = 8, [8] = 8 } };
        Assert.Contains("16 px", Assert.Throws<ArgumentException>(() => new StyleGan2Generator(partial)).Message);

        var shapes = new[] { KeyValuePair.Create("d.convs.0.0.weight", zeros(1)) };
        var e = Assert.Throws<CheckpointException>(() => StyleGan2Config.InferFromStateDict(shapes, "disc.safetensors"));
        Assert.Contains("disc.safetensors", e.Message);
        Assert.Contains("style.1.weight", e.Message);
        shapes[0].Value.Dispose();
    }

    // The state dict of a config, as zero tensors, taken from a module built from it.
    private static List<KeyValuePair<string, Tensor>> SpecShapesOf(StyleGan2Config config)
    {
        using var g = new StyleGan2Generator(config);
        return g.state_dict().Select(kv => KeyValuePair.Create(kv.Key, zeros(kv.Value.shape))).ToList();
    }
}

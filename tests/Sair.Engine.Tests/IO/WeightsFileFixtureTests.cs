using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Sair.Engine.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.IO;

/// <summary>Real and emulated torch.save files from shared/fixtures, checked against oracles that do not use the unpickler.</summary>
public sealed class WeightsFileFixtureTests
{
    private static readonly Lazy<JsonObject> Manifest = new(() =>
        JsonNode.Parse(File.ReadAllText(RepoPaths.SharedFile("fixtures", "stylegan2", "manifest.json")))!.AsObject());

    public static TheoryData<string> StyleGanConfigs()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in Manifest.Value["configs"]!.AsObject())
        {
            data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StyleGanConfigs))]
    public void StyleGan2_checkpoint_has_the_manifest_keys_shapes_and_the_safetensors_values(string config)
    {
        var dir = RepoPaths.SharedFile("fixtures", "stylegan2", config);
        var manifest = Manifest.Value["configs"]![config]!;
        using var file = WeightsFile.Open(Path.Combine(dir, config + ".pt"));

        Assert.Equal("torch", file.Format);
        var expected = manifest["state_dict"]!.AsArray()
            .Select(e => ("g_ema." + e!["key"]!.GetValue<string>(), e["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray()))
            .Append(("latent_avg", [manifest["config"]!["style_dim"]!.GetValue<long>()]))
            .ToList();
        Assert.Equal(expected.Select(e => e.Item1), file.Tensors.Select(t => t.Key));
        Assert.Equal(expected.Select(e => e.Item2), file.Tensors.Select(t => t.Value.shape));
        Assert.All(file.Tensors, t => Assert.Equal(ScalarType.Float32, t.Value.dtype));

        // The state_dict's _metadata arrives through BUILD as an attribute, not as a key.
        var root = Assert.IsType<PickleDict>(file.Root);
        var gEma = Assert.IsType<PickleDict>(root["g_ema"]);
        Assert.Equal("collections.OrderedDict", gEma.ClassName);
        var metadata = Assert.IsType<PickleDict>(gEma.Attributes["_metadata"]);
        Assert.Equal(manifest["metadata_prefixes"]!.AsArray().Select(p => p!.GetValue<string>()), metadata.Keys.Cast<string>());
        Assert.Equal(1L, Assert.IsType<PickleDict>(metadata["style.1"])["version"]);

        using var latentAvg = Npy.Read(Path.Combine(dir, "latent_avg.npy"));
        TensorAssert.Identical(latentAvg, file["latent_avg"]);

        var safetensorsPath = Path.Combine(dir, config + ".safetensors");
        if (File.Exists(safetensorsPath))
        {
            using var reference = WeightsFile.Open(safetensorsPath);
            Assert.Equal("safetensors", reference.Format);
            Assert.Equal(reference.Tensors.Select(t => t.Key), file.Tensors.Select(t => t.Key));
            foreach (var ((key, actual), (_, want)) in file.Tensors.Zip(reference.Tensors))
            {
                TensorAssert.Identical(want, actual, $"{config}: {key} (vs the safetensors copy)");
            }
        }
    }

    [Theory]
    [InlineData("obama_latents.pt")]
    [InlineData("beyonce_latents.pt")]
    public void E4e_latents_written_by_real_torch_on_cuda_load_on_the_cpu_with_the_raw_record_values(string name)
    {
        var path = RepoPaths.SharedFile("fixtures", "sair-official", name);
        var raw = RawSingleRecord(path);

        using var file = WeightsFile.Open(path);
        var (key, latent) = Assert.Single(file.Tensors);
        Assert.Equal("", key);
        Assert.Equal(new long[] { 1, 18, 512 }, latent.shape);
        Assert.Equal(DeviceType.CPU, latent.device_type);
        Assert.Equal(raw, latent.data<float>().ToArray());

        // e4e codes are W+ offsets around the average latent: finite, zero-centred-ish, with a spread of order 1.
        Assert.All(raw, v => Assert.True(float.IsFinite(v)));
        var mean = raw.Average(v => (double)v);
        var std = Math.Sqrt(raw.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(std, 0.05, 5);
        Assert.Equal(raw.Average(v => (double)v), latent.mean().item<float>(), 4);

        using var viaLatentFile = LatentFile.Load(path, expectedLatents: 18, expectedStyleDim: 512);
        Assert.Equal(raw, viaLatentFile.data<float>().ToArray());
    }

    [Theory]
    [InlineData("iresnet50_div8")]
    [InlineData("irse50_div4")]
    public void ArcFace_state_dicts_written_by_real_torch_match_their_key_tables(string net)
    {
        var dir = RepoPaths.SharedFile("fixtures", "arcface", net);
        var rows = File.ReadAllLines(Path.Combine(dir, "keys.tsv")).Skip(1)
            .Select(l => l.Split('\t'))
            .Select(c => (Key: c[0], Shape: ParseShape(c[1]), DType: c[3]))
            .ToList();
        var specKeys = File.ReadAllLines(RepoPaths.SharedFile("spec", $"arcface_{net.Split('_')[0]}.tsv"))
            .Skip(1)
            .Select(l => l.Split('\t')[0])
            .Order(StringComparer.Ordinal);

        using var file = WeightsFile.Open(Path.Combine(dir, net + ".pth"));
        Assert.Equal(rows.Select(r => r.Key), file.Tensors.Select(t => t.Key));
        Assert.Equal(rows.Select(r => r.Shape), file.Tensors.Select(t => t.Value.shape));
        Assert.Equal(specKeys, file.Tensors.Select(t => t.Key).Order(StringComparer.Ordinal));
        foreach (var ((_, tensor), row) in file.Tensors.Zip(rows))
        {
            Assert.Equal(row.DType == "int64" ? ScalarType.Int64 : ScalarType.Float32, tensor.dtype);
        }

        // num_batches_tracked is an int64 scalar drawn in [1000, 200000) (manifest weights_init).
        var counter = file.Tensors.First(t => t.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Value;
        Assert.Empty(counter.shape);
        Assert.InRange(counter.item<long>(), 1000, 199_999);
        // running_var was drawn in [0.5, 1.5]: the float bytes really are the BN statistics.
        var runningVar = file.Tensors.First(t => t.Key.EndsWith("running_var", StringComparison.Ordinal)).Value;
        Assert.All(runningVar.data<float>().ToArray(), v => Assert.InRange(v, 0.5f, 1.5f));
    }

    /// <summary>The float32 values of a file's only data record, read with System.IO.Compression alone.</summary>
    private static float[] RawSingleRecord(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var entry = Assert.Single(zip.Entries, e => e.FullName.Contains("/data/", StringComparison.Ordinal));
        using var stream = entry.Open();
        var bytes = new byte[entry.Length];
        stream.ReadExactly(bytes);
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    private static long[] ParseShape(string text) =>
        text.Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
}

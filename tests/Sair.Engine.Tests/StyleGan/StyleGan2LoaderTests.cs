using Sair.Engine.StyleGan;
using Sair.Engine.IO;
using static Sair.Engine.Tests.StyleGan.StyleGan2Fixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.StyleGan;

/// <summary>Checkpoint layouts the loader accepts, and the errors for state dicts that do not fit.</summary>
public sealed class StyleGan2LoaderTests
{
    private const string Config = "s16_sd32_m2_cm1_div16";
    private const string Source = "weights/broken.safetensors";

    [Fact]
    public void Bare_and_training_checkpoint_layouts_load_the_same_g_ema_weights()
    {
        var (tensors, _) = Safetensors.Read(Path.Combine(Dir(Config), Config + ".safetensors"));
        var shifted = new List<Tensor>();
        try
        {
            var bare = tensors.Select(t => KeyValuePair.Create(t.Key.Replace("g_ema.", "", StringComparison.Ordinal), t.Value)).ToList();
            // A training checkpoint: g (different weights), d, and g_ema; g_ema must win.
            var training = tensors
                .Where(t => t.Key != "latent_avg")
                .SelectMany(t => new[]
                {
                    KeyValuePair.Create("g." + t.Key["g_ema.".Length..], Track(shifted, t.Value + 1)),
                    KeyValuePair.Create("d." + t.Key["g_ema.".Length..], t.Value),
                    t,
                })
                .ToList();

            using var fromFile = LoadGenerator(Config);
            using var fromBare = StyleGan2Loader.FromStateDict(bare, "bare");
            using var fromTraining = StyleGan2Loader.FromStateDict(training, "training");
            Assert.NotNull(fromBare.LatentAvg);
            Assert.Null(fromTraining.LatentAvg);
            using var wPlus = Npy(Config, "input_wplus.npy");
            using var noGrad = no_grad();
            using var expected = Npy(Config, "out_img_wplus.npy");
            using var a = fromBare.forward(wPlus);
            using var b = fromTraining.forward(wPlus);
            AssertClose(expected, a, "bare state dict");
            AssertClose(expected, b, "training checkpoint (g_ema)");
            Assert.Equal(fromFile.state_dict().Keys, fromTraining.state_dict().Keys);
        }
        finally
        {
            DisposeAll(tensors.Select(t => t.Value));
            DisposeAll(shifted);
        }
    }

    [Fact]
    public void Missing_extra_and_misshaped_entries_are_each_listed_with_the_file()
    {
        var (tensors, _) = Safetensors.Read(Path.Combine(Dir(Config), Config + ".safetensors"));
        using var extra = zeros(3);
        using var wrong = zeros(31);
        try
        {
            var generator = tensors.Where(t => t.Key != "latent_avg").ToList();
            var config = ManifestConfig(Config);

            var missing = generator.Where(t => t.Key != "g_ema.convs.1.noise.weight" && t.Key != "g_ema.noises.noise_2").ToList();
            var e = Assert.Throws<CheckpointException>(() => StyleGan2Loader.FromStateDict(missing, Source, config));
            Assert.Equal(Source, e.FilePath);
            Assert.Contains("2 missing keys (convs.1.noise.weight, noises.noise_2)", e.Message);
            Assert.DoesNotContain("unexpected", e.Message);

            var withExtra = generator.Append(KeyValuePair.Create("g_ema.convs.9.noise.weight", extra)).ToList();
            e = Assert.Throws<CheckpointException>(() => StyleGan2Loader.FromStateDict(withExtra, Source, config));
            Assert.Contains("1 unexpected key (convs.9.noise.weight)", e.Message);
            Assert.DoesNotContain("missing", e.Message);

            var misshaped = generator.Select(t => t.Key == "g_ema.conv1.activate.bias" ? KeyValuePair.Create(t.Key, wrong) : t).ToList();
            e = Assert.Throws<CheckpointException>(() => StyleGan2Loader.FromStateDict(misshaped, Source, config));
            Assert.Contains("conv1.activate.bias: expected (32), got (31)", e.Message);
            Assert.Contains(Source, e.Message);

            var wrongAvg = generator.Append(KeyValuePair.Create("latent_avg", wrong)).ToList();
            e = Assert.Throws<CheckpointException>(() => StyleGan2Loader.FromStateDict(wrongAvg, Source, config));
            Assert.Contains("latent_avg", e.Message);
        }
        finally
        {
            DisposeAll(tensors.Select(t => t.Value));
        }
    }

    [Fact]
    public void State_dict_loader_copies_nothing_when_anything_is_wrong_and_everything_otherwise()
    {
        using var g = new StyleGan2Generator(ManifestConfig(Config));
        var before = g.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var replacement = g.state_dict().Select(kv => KeyValuePair.Create(kv.Key, ones_like(kv.Value))).ToList();
        try
        {
            var broken = replacement.Skip(1).ToList();
            Assert.Throws<CheckpointException>(() => StateDictLoader.Load(g, broken, Source));
            Assert.All(g.state_dict(), kv => Assert.True(kv.Value.allclose(before[kv.Key], rtol: 0, atol: 0), kv.Key));

            StateDictLoader.Load(g, replacement, Source);
            Assert.All(g.state_dict(), kv => Assert.Equal(1.0, kv.Value.min().item<float>()));
            Assert.All(g.state_dict(), kv => Assert.Equal(1.0, kv.Value.max().item<float>()));
        }
        finally
        {
            DisposeAll(before.Values);
            DisposeAll(replacement.Select(r => r.Value));
        }
    }

    [Fact]
    public void Files_that_are_not_checkpoints_are_refused_naming_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("sair-gen-").FullName;
        try
        {
            var png = Path.Combine(dir, "g.pt");
            File.Copy(RepoPaths.SharedFile("fixtures", "sair-official", "obama.png"), png);
            var e = Assert.Throws<CheckpointException>(() => StyleGan2Loader.Load(png));
            Assert.Equal(png, e.FilePath);

            var missing = Path.Combine(dir, "nope.pt");
            Assert.Contains("no such", Assert.Throws<CheckpointException>(() => StyleGan2Loader.Load(missing)).Message);

            // A real checkpoint that is not a generator: the e4e latent file holds one bare tensor.
            var latent = RepoPaths.SharedFile("fixtures", "sair-official", "obama_latents.pt");
            Assert.Equal(latent, Assert.Throws<CheckpointException>(() => StyleGan2Loader.Load(latent)).FilePath);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Tensor Track(List<Tensor> owned, Tensor t)
    {
        owned.Add(t);
        return t;
    }
}

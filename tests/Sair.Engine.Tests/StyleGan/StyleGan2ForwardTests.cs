using Sair.Engine.StyleGan;
using static Sair.Engine.Tests.StyleGan.StyleGan2Fixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.StyleGan;

/// <summary>Every output of the rosinality oracle, for every fixture whose weights can be read, in both modulation modes.</summary>
public sealed class StyleGan2ForwardTests
{
    public static TheoryData<string, string, ModulationMode> Cases()
    {
        var data = new TheoryData<string, string, ModulationMode>();
        foreach (var (config, path) in AllWeightsFiles)
        {
            data.Add(config, Path.GetFileName(path), ModulationMode.ScaledActivations);
            data.Add(config, Path.GetFileName(path), ModulationMode.GroupedWeights);
        }
        return data;
    }

    [Fact]
    public void All_four_configs_are_covered_from_pt_and_three_from_safetensors()
    {
        Assert.Equal(4, AllWeightsFiles.Count(f => f.Path.EndsWith(".pt", StringComparison.Ordinal)));
        Assert.Equal(3, AllWeightsFiles.Count(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void W_plus_paths_match_the_oracle_including_every_skip(string config, string file, ModulationMode mode)
    {
        using var scope = NewDisposeScope();
        using var g = StyleGan2Loader.Load(Path.Combine(Dir(config), file));
        g.Modulation = mode;
        using var noGrad = no_grad();

        var skips = new List<Tensor>();
        var image = g.Synthesis(Npy(config, "input_wplus.npy"), randomizeNoise: false, skips);
        AssertClose(Npy(config, "out_img_wplus.npy"), image, "out_img_wplus");
        AssertSkips(config, "wplus", skips, image);

        AssertClose(Npy(config, "out_img_wplus_b2.npy"), g.forward(Npy(config, "input_wplus_b2.npy")), "out_img_wplus_b2");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Z_paths_mapping_and_truncation_match_the_oracle(string config, string file, ModulationMode mode)
    {
        using var scope = NewDisposeScope();
        using var g = StyleGan2Loader.Load(Path.Combine(Dir(config), file));
        g.Modulation = mode;
        using var noGrad = no_grad();
        var z = Npy(config, "input_z.npy");

        AssertClose(Npy(config, "out_w.npy"), g.Mapping(z), "out_w");
        AssertClose(Npy(config, "latent_avg.npy"), g.LatentAvg!, "latent_avg");

        var skips = new List<Tensor>();
        var image = g.FromZ(z, skips: skips);
        AssertClose(Npy(config, "out_img_z.npy"), image, "out_img_z");
        AssertSkips(config, "z", skips, image);

        var truncated = g.ExpandToWPlus(g.Truncate(g.Mapping(z), 0.7));
        AssertClose(Npy(config, "dbg_z_trunc_latent.npy"), truncated, "dbg_z_trunc_latent");
        skips.Clear();
        image = g.FromZ(z, truncation: 0.7, skips: skips);
        AssertClose(Npy(config, "out_img_z_trunc0.7.npy"), image, "out_img_z_trunc0.7");
        AssertSkips(config, "ztrunc", skips, image);
    }

    private static void AssertSkips(string config, string path, List<Tensor> skips, Tensor image)
    {
        var size = (int)image.shape[3];
        var resolutions = Enumerable.Range(2, (int)Math.Log2(size) - 1).Select(i => 1 << i).ToList();
        Assert.Equal(resolutions.Count, skips.Count);
        for (var i = 0; i < resolutions.Count; i++)
        {
            AssertClose(Npy(config, $"dbg_{path}_skip_{resolutions[i]}.npy"), skips[i], $"dbg_{path}_skip_{resolutions[i]}");
        }
        Assert.True(skips[^1].allclose(image, rtol: 0, atol: 0), "the last skip must equal the image");
    }
}

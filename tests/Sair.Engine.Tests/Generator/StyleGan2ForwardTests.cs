using Sair.Engine.Generator;
using static Sair.Engine.Tests.Generator.StyleGan2Fixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Generator;

/// <summary>Every output of the rosinality oracle, for every fixture whose weights can be read, in both modulation modes.</summary>
public sealed class StyleGan2ForwardTests
{
    public static TheoryData<string, ModulationMode> Cases()
    {
        var data = new TheoryData<string, ModulationMode>();
        foreach (var config in ConfigsWithWeights)
        {
            data.Add(config, ModulationMode.ScaledActivations);
            data.Add(config, ModulationMode.GroupedWeights);
        }
        return data;
    }

    [Fact]
    public void At_least_the_three_safetensors_fixtures_are_covered()
    {
        Assert.Superset(new HashSet<string> { "s16_sd32_m2_cm1_div16", "s32_sd64_m3_cm2_div16", "s64_sd32_m2_cm1_div16" },
            ConfigsWithWeights.ToHashSet());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void W_plus_paths_match_the_oracle_including_every_skip(string config, ModulationMode mode)
    {
        using var scope = NewDisposeScope();
        using var g = LoadGenerator(config);
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
    public void Z_paths_mapping_and_truncation_match_the_oracle(string config, ModulationMode mode)
    {
        using var scope = NewDisposeScope();
        using var g = LoadGenerator(config);
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

using Sair.Engine.Degradation;
using Sair.Engine.StyleGan;
using Sair.Engine.Objective;
using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

/// <summary>The tiny oracle generator (64 px, style 32, n_latent 10) and latents on it for the restoration tests.</summary>
internal static class TinySair
{
    public const int Size = 64;

    public static StyleGan2Generator LoadGenerator() =>
        StyleGan2Loader.Load(RepoPaths.SharedFile("fixtures", "stylegan2", "s64_sd32_m2_cm1_div16", "s64_sd32_m2_cm1_div16.safetensors"));

    /// <summary>The mean latent of the generator, repeated to W+ (1, n_latent, style_dim).</summary>
    public static Tensor MeanWPlus(StyleGan2Generator g)
    {
        using var scope = NewDisposeScope();
        using var rng = new TorchSharp.torch.Generator(1);
        var mean = g.MeanLatent(512, rng);
        return g.ExpandToWPlus(mean.unsqueeze(0)).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>A W+ code pulled toward the mean (ψ), each row from its own z, reproducible from the seed.</summary>
    public static Tensor RandomWPlus(StyleGan2Generator g, ulong seed, double psi = 0.6)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var rng = new TorchSharp.torch.Generator(seed);
        var z = randn([g.NLatent, g.Config.StyleDim], generator: rng);
        var mean = MeanWPlus(g)[0];
        var w = mean + psi * (g.Mapping(z) - mean);
        return w.unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>G(w) in [0, 1] with the fixed noise.</summary>
    public static Tensor Render(StyleGan2Generator g, Tensor w)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return OutputNormalization.Paper(g.Synthesis(w, randomizeNoise: false)).MoveToOuterDisposeScope();
    }

    /// <summary>Y = D(G(w)) with the paper operator (bicubic ↓scale).</summary>
    public static Tensor Degrade(StyleGan2Generator g, Tensor w, int scale)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var op = new DegradationOperator(new DegradationOptions(scale));
        return op.forward(Render(g, w)).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Paper options with every term off; switch on what a test needs.</summary>
    public static SairOptions Nothing(int iterations) => SairOptions.Paper() with
    {
        Iterations = iterations,
        DataWeight = 0,
        IdentityWeight = 0,
        LatentPriorWeight = 0,
        EmotionWeight = 0,
        HistogramWeight = 0,
    };

    public static double Psnr(Tensor a, Tensor b)
    {
        using var mse = (a - b).pow(2).mean();
        return 10 * Math.Log10(1 / mse.item<float>());
    }

    /// <summary>Seven random directions (7, n_latent, style_dim), each with identical rows like the official files.</summary>
    public static EmotionDirections RandomDirections(StyleGan2Generator g, ulong seed = 3)
    {
        using var rng = new TorchSharp.torch.Generator(seed);
        using var rows = randn([7, 1, g.Config.StyleDim], generator: rng);
        using var directions = rows.expand(7, g.NLatent, g.Config.StyleDim).contiguous();
        return new EmotionDirections(directions);
    }
}

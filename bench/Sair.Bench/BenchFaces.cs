using Sair.Engine.Degradation;
using Sair.Engine.Objective;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>Generators and faces the benches draw their inputs from.</summary>
internal static class BenchFaces
{
    /// <summary>A random-weight generator of the official layout (style 512, 8 mapping layers, channel multiplier 2), frozen, in eval mode.</summary>
    public static StyleGan2Generator RandomOfficialLayout(int size)
    {
        var generator = new StyleGan2Generator(new StyleGan2Config { Size = size, StyleDim = 512, NMlp = 8, ChannelMultiplier = 2 });
        generator.eval();
        foreach (var parameter in generator.parameters())
        {
            parameter.requires_grad_(false);
        }
        return generator;
    }

    /// <summary>A seeded W+ latent of <paramref name="generator"/> near its mean (ψ 0.7), every row the same w.</summary>
    public static Tensor Latent(StyleGan2Generator generator, ulong seed)
    {
        using var noGrad = no_grad();
        using var rng = new TorchSharp.torch.Generator(seed);
        var w = generator.Truncate(generator.Mapping(randn([1, generator.Config.StyleDim], generator: rng)), 0.7);
        return generator.ExpandToWPlus(w).contiguous();
    }

    /// <summary><see cref="Face"/> taken down ×<paramref name="scale"/> by D's bicubic, in [0, 1].</summary>
    public static Tensor Degraded(StyleGan2Generator generator, ulong seed, int scale)
    {
        using var noGrad = no_grad();
        using var down = new BicubicDownsample(scale);
        return down.forward(Face(generator, seed)).clamp(0, 1);
    }

    /// <summary>G(<see cref="Latent"/>) in [0, 1], with the stored noise.</summary>
    public static Tensor Face(StyleGan2Generator generator, ulong seed)
    {
        using var noGrad = no_grad();
        return OutputNormalization.Paper(generator.Synthesis(Latent(generator, seed), randomizeNoise: false));
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (System.Progress posts to the thread pool).</summary>
internal sealed class CallbackProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

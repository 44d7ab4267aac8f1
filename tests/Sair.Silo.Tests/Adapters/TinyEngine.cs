using Sair.Engine.Degradation;
using Sair.Engine.Imaging;
using Sair.Engine.Objective;
using Sair.Silo.Adapters;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Sair.Silo.Tests.Adapters;

/// <summary>
/// The engine's models over the tiny fixture generator (64 px, W+ 10×32) and the npm face nets, loaded once per test
/// run and shared by every test and in-process silo (no run writes them; the job slots bound how many run at once).
/// </summary>
internal static class TinyEngine
{
    public const int Size = 64;

    public static string GeneratorPath =>
        RepoPaths.SharedFile("fixtures", "stylegan2", "s64_sd32_m2_cm1_div16", "s64_sd32_m2_cm1_div16.pt");

    public static SairEngineOptions Options() => new()
    {
        GeneratorPath = GeneratorPath,
        ModelsDirectory = Path.Combine(RepoPaths.Root, "models"),
        Device = "cpu",
        ProjectionIterations = 10,
    };

    private static readonly Lazy<EngineModels> ModelsLazy = new(() =>
    {
        var models = new EngineModels(Options(), restores: true);
        models.LoadAsync().GetAwaiter().GetResult();
        return models;
    });

    public static EngineModels Models => ModelsLazy.Value;

    /// <summary>A seeded W+ code (1, n_latent, style_dim) pulled toward the mean (ψ = 0.6), each row from its own z.</summary>
    public static Tensor Latent(ulong seed)
    {
        var g = Models.Generator;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var rng = new TorchSharp.torch.Generator(seed);
        var z = randn([g.NLatent, g.Config.StyleDim], generator: rng);
        var mean = Models.MeanWPlus[0];
        return (mean + 0.6 * (g.Mapping(z) - mean)).unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>G(w) in [0, 1] (1, 3, 64, 64) with the generator's fixed noise.</summary>
    public static Tensor Render(Tensor w)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return OutputNormalization.Paper(Models.Generator.Synthesis(w, randomizeNoise: false)).MoveToOuterDisposeScope();
    }

    /// <summary>A face of the generator: G(<see cref="Latent"/>).</summary>
    public static Tensor Face(ulong seed)
    {
        using var w = Latent(seed);
        return Render(w);
    }

    /// <summary>Y = bicubic ↓<paramref name="scale"/> of <paramref name="face"/>, as the engine's data term models it.</summary>
    public static Tensor Degrade(Tensor face, int scale)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var op = new DegradationOperator(new DegradationOptions(scale));
        return op.forward(face).clamp(0, 1).MoveToOuterDisposeScope();
    }

    public static byte[] Png(Tensor image)
    {
        using var picture = ImageTensors.ToImage(image);
        return ImageFiles.Encode(picture, "png");
    }

    public static Tensor FromPng(byte[] png)
    {
        using var picture = ImageFiles.Decode(png, "test image");
        return ImageTensors.ToTensor(picture);
    }

    /// <summary>A flat grey PNG of the given size (no face, valid image).</summary>
    public static byte[] BlankPng(int width, int height)
    {
        using var picture = new Image<Rgb24>(width, height, new Rgb24(128, 128, 128));
        return ImageFiles.Encode(picture, "png");
    }

    public static double MeanSquaredError(Tensor a, Tensor b)
    {
        using var difference = a - b;
        using var mse = difference.square().mean();
        return mse.item<float>();
    }
}

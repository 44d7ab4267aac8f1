using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

/// <summary>
/// A tiny random-weight conv net standing in for ArcFace: differentiable, deterministic (weights from a seeded
/// generator), cosine similarity. It resizes every input to 32×32 first, as real identity nets resize to 112.
/// </summary>
internal sealed class TinyIdentityNetwork : nn.Module<Tensor, Tensor>, IIdentityNetwork
{
    private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(3, 8, 3, stride: 2, padding: 1);
    private readonly nn.Module<Tensor, Tensor> conv2 = nn.Conv2d(8, 16, 3, stride: 2, padding: 1);
    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(16 * 4 * 4, 16);

    public TinyIdentityNetwork(ulong seed = 7) : base(nameof(TinyIdentityNetwork))
    {
        RegisterComponents();
        using var rng = new TorchSharp.torch.Generator(seed);
        using var noGrad = no_grad();
        foreach (var p in parameters())
        {
            using var values = randn(p.shape, generator: rng) * (1.0 / Math.Sqrt(p.numel() / p.shape[0]));
            p.copy_(values);
            p.requires_grad_(false);
        }
    }

    public string Name => "tiny-test";

    public int EmbeddingSize => 16;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.interpolate(input, size: [32, 32], mode: InterpolationMode.Bilinear, align_corners: false) * 2 - 1;
        x = nn.functional.leaky_relu(conv1.forward(x), 0.2);
        x = nn.functional.leaky_relu(conv2.forward(x), 0.2);
        x = nn.functional.adaptive_avg_pool2d(x, [4, 4]).flatten(1);
        return fc.forward(x).MoveToOuterDisposeScope();
    }

    public Tensor Embed(Tensor rgb01) => forward(rgb01);

    public Tensor Similarity(Tensor a, Tensor b) => nn.functional.cosine_similarity(a, b, dim: 1);
}

/// <summary>A landmark "detector" returning one fixed face-shaped 68-point layout scaled to the image.</summary>
internal sealed class FixedLandmarks : ILandmarkDetector
{
    public int Calls { get; private set; }

    /// <summary>The layout in unit coordinates: jaw (0–16) along the lower half of an ellipse, brows (17–26) above, the rest inside.</summary>
    public static (double X, double Y)[] UnitLayout()
    {
        var points = new List<(double X, double Y)>();
        for (var k = 0; k < 17; k++)
        {
            var theta = Math.PI * k / 16;
            points.Add((0.5 - 0.35 * Math.Cos(theta), 0.45 + 0.4 * Math.Sin(theta)));
        }
        for (var k = 0; k < 10; k++)
        {
            points.Add((0.22 + 0.56 * k / 9, 0.3));
        }
        for (var k = 27; k < 68; k++)
        {
            var theta = 2 * Math.PI * k / 41;
            points.Add((0.5 + 0.15 * Math.Cos(theta), 0.55 + 0.15 * Math.Sin(theta)));
        }
        return [.. points];
    }

    public Tensor Detect(Tensor rgb01)
    {
        Calls++;
        var (b, h, w) = (rgb01.shape[0], rgb01.shape[2], rgb01.shape[3]);
        var layout = UnitLayout().SelectMany(p => new[] { (float)(p.X * (w - 1)), (float)(p.Y * (h - 1)) }).ToArray();
        using var one = tensor(layout, [1, 68, 2]);
        return one.expand(b, 68, 2).contiguous();
    }

    public void Dispose()
    {
    }
}

/// <summary>An expression "classifier" that always answers one emotion.</summary>
internal sealed class FixedExpression(string emotion) : IExpressionClassifier
{
    public Tensor Probabilities(Tensor rgb01)
    {
        var p = new float[Emotions.Names.Count];
        p[Emotions.IndexOf(emotion)] = 1;
        using var one = tensor(p, [1, p.Length]);
        return one.expand(rgb01.shape[0], p.Length).contiguous();
    }

    public void Dispose()
    {
    }
}

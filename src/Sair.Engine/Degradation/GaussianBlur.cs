using Sair.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Engine.Degradation;

/// <summary>
/// The blur X ⊗ k of the paper's operator D(X) = JPEG_q((X ⊗ k)↓s + n_σ): a true 2-D convolution per channel with
/// reflect padding, so the output keeps the input's size.
/// </summary>
/// <remarks>The kernel is either an isotropic Gaussian of standard deviation σ (side 2·⌈3σ⌉ + 1, normalised to sum 1)
/// or a user kernel (odd sides, used as given; it is flipped so the operation is a convolution, not a correlation).</remarks>
internal sealed class GaussianBlur : nn.Module<Tensor, Tensor>
{
    private readonly Tensor kernel;

    /// <summary>A Gaussian blur of standard deviation <paramref name="sigma"/> pixels.</summary>
    public GaussianBlur(double sigma) : this(GaussianKernel(sigma))
    {
    }

    /// <summary>A blur with a user kernel (2-D, odd sides); the module keeps a copy.</summary>
    public GaussianBlur(Tensor userKernel) : base(nameof(GaussianBlur))
    {
        if (userKernel.dim() != 2 || userKernel.shape[0] % 2 == 0 || userKernel.shape[1] % 2 == 0)
        {
            throw new ArgumentException(
                $"A blur kernel must be a 2-D tensor with odd sides; got shape ({string.Join(", ", userKernel.shape)}).", nameof(userKernel));
        }
        kernel = userKernel.detach().to(ScalarType.Float32).flip(0, 1).reshape(1, 1, userKernel.shape[0], userKernel.shape[1]).clone();
        RegisterComponents();
    }

    /// <summary>The normalised Gaussian kernel of side 2·⌈3σ⌉ + 1.</summary>
    public static Tensor GaussianKernel(double sigma)
    {
        if (!(sigma > 0) || double.IsInfinity(sigma))
        {
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The blur sigma must be a positive number of pixels.");
        }
        var radius = (int)Math.Ceiling(3 * sigma);
        var taps = Enumerable.Range(-radius, 2 * radius + 1).Select(i => Math.Exp(-i * i / (2 * sigma * sigma))).ToArray();
        var sum = taps.Sum();
        var oneD = taps.Select(t => t / sum).ToArray();
        var side = oneD.Length;
        var k = new float[side * side];
        for (var r = 0; r < side; r++)
        {
            for (var c = 0; c < side; c++)
            {
                k[r * side + c] = (float)(oneD[r] * oneD[c]);
            }
        }
        return tensor(k).reshape(side, side);
    }

    public override Tensor forward(Tensor input)
    {
        ImageChecks.RequireNchw(input, nameof(GaussianBlur));
        var (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3]);
        var (kh, kw) = (kernel.shape[2], kernel.shape[3]);
        if (kh / 2 >= h || kw / 2 >= w)
        {
            throw new ArgumentException($"The {kh}×{kw} blur kernel is too large for a {h}×{w} image (reflect padding needs radius < side).", nameof(input));
        }
        using var scope = NewDisposeScope();
        var planes = nn.functional.pad(input.reshape(n * c, 1, h, w), [kw / 2, kw / 2, kh / 2, kh / 2], PaddingModes.Reflect);
        return EngineConv.Conv2d(planes, kernel.to(input.dtype)).reshape(n, c, h, w).MoveToOuterDisposeScope();
    }
}

using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>
/// The paper's skin-colour term L_hist = ∫ |CDF(F ⊙ G(w)) − CDF(F ⊙ Y)|: per RGB channel, a soft histogram over
/// [0, 1] where each masked-in pixel spreads a Gaussian kernel (σ = one bin width) over the bins, normalised to a
/// density; the loss is the L1 distance between the two CDFs (Σ_k |ΔCDF_k| · bin width, i.e. the 1-D Wasserstein
/// distance), averaged over channels and batch. Fully differentiable.
/// </summary>
/// <remarks>Memory grows with pixels × bins: compare at 256×256 or less (the official code does the same).</remarks>
public sealed class SoftHistogramLoss
{
    /// <summary>The weight α2 of this term (paper).</summary>
    public const double Weight = 0.05;

    private readonly float[] centers;
    private readonly double binWidth;

    public SoftHistogramLoss(int bins = 64)
    {
        if (bins < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "A histogram needs at least 2 bins.");
        }
        Bins = bins;
        binWidth = 1.0 / bins;
        centers = Enumerable.Range(0, bins).Select(k => (float)((k + 0.5) * binWidth)).ToArray();
    }

    public int Bins { get; }

    /// <param name="generated">NCHW image batch in [0, 1].</param>
    /// <param name="reference">Same shape as <paramref name="generated"/>.</param>
    /// <param name="mask">(N or 1, 1, H, W) weights in [0, 1] (the face region), or null for the whole image.</param>
    public Tensor Compute(Tensor generated, Tensor reference, Tensor? mask = null)
    {
        if (generated.dim() != 4 || !generated.shape.SequenceEqual(reference.shape))
        {
            throw new ArgumentException(
                $"Expected two NCHW batches of the same shape; got ({string.Join(", ", generated.shape)}) and ({string.Join(", ", reference.shape)}).",
                nameof(reference));
        }
        if (mask is not null && (mask.dim() != 4 || mask.shape[1] != 1 || mask.shape[2] != generated.shape[2] || mask.shape[3] != generated.shape[3]))
        {
            throw new ArgumentException(
                $"The mask must be (N or 1, 1, H, W) at the images' size; got ({string.Join(", ", mask.shape)}).", nameof(mask));
        }
        using var scope = NewDisposeScope();
        var weights = mask ?? ones(1, 1, generated.shape[2], generated.shape[3], dtype: generated.dtype, device: generated.device);
        var cdf1 = Cdf(generated, weights);
        var cdf2 = Cdf(reference, weights);
        return ((cdf1 - cdf2).abs().sum(-1) * binWidth).mean().MoveToOuterDisposeScope();
    }

    /// <summary>CDFs (N, C, bins) of the mask-weighted soft histograms.</summary>
    private Tensor Cdf(Tensor image, Tensor mask)
    {
        var (n, c) = (image.shape[0], image.shape[1]);
        var x = image.reshape(n, c, -1, 1);
        var w = mask.expand(n, 1, image.shape[2], image.shape[3]).reshape(n, 1, -1, 1);
        var k = tensor(centers, dtype: image.dtype, device: image.device).reshape(1, 1, 1, -1);
        var kernel = (-(x - k).pow(2) / (2 * binWidth * binWidth)).exp();
        // Each pixel contributes a unit of mass (times its mask weight), however much of its kernel falls outside [0, 1].
        kernel = kernel / (kernel.sum(-1, keepdim: true) + 1e-12);
        var histogram = (kernel * w).sum(2);
        var density = histogram / (histogram.sum(-1, keepdim: true) + 1e-12);
        return density.cumsum(-1);
    }
}

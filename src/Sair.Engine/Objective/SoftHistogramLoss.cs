using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>
/// The paper's skin-colour term L_hist = ∫ |CDF(F ⊙ G(w)) − CDF(F ⊙ Y)|: per RGB channel, a soft histogram over
/// [0, 1] where each masked-in pixel splits its mass between the two nearest bin centres by a triangular kernel
/// (linear interpolation, so the counts move smoothly with the pixel value), normalised to a density; the loss is the
/// L1 distance between the two CDFs (Σ_k |ΔCDF_k| · bin width, i.e. the 1-D Wasserstein distance), averaged over
/// channels and batch. Fully differentiable.
/// </summary>
/// <remarks>
/// The triangular kernel touches two bins per pixel, so the cost grows with the pixels only, not pixels × bins as a
/// Gaussian kernel over every bin would: at 256×256 it is a small fraction of a generator step.
/// </remarks>
internal sealed class SoftHistogramLoss
{
    /// <summary>The weight α2 of this term (paper).</summary>
    public const double Weight = 0.05;

    private readonly double binWidth;

    public SoftHistogramLoss(int bins = 64)
    {
        if (bins < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "A histogram needs at least 2 bins.");
        }
        Bins = bins;
        binWidth = 1.0 / bins;
    }

    public int Bins { get; }

    /// <param name="generated">NCHW image batch in [0, 1].</param>
    /// <param name="reference">Same shape as <paramref name="generated"/>.</param>
    /// <param name="mask">(N or 1, 1, H, W) weights in [0, 1] (the face region), or null for the whole image.</param>
    /// <returns>The loss; NaN when <paramref name="generated"/> or <paramref name="reference"/> holds NaN.</returns>
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
        var x = image.reshape(n, c, -1);
        var w = mask.expand(n, 1, image.shape[2], image.shape[3]).reshape(n, 1, -1).expand(n, c, -1);
        // Position in units of bins, measured from the first centre; values beyond the outer centres stay in the end bins.
        var position = (x * Bins - 0.5).clamp(0, Bins - 1);
        // clamp keeps NaN, and NaN cast to an index is −2⁶³: a NaN pixel takes bin 0 here and its NaN share makes
        // the loss NaN, which the restorer then recovers from, instead of failing inside scatter_add.
        var lower = position.detach().nan_to_num(0).floor().clamp(0, Bins - 2);
        var upperShare = position - lower;
        var lowerIndex = lower.to(ScalarType.Int64);
        var histogram = zeros(n, c, Bins, dtype: image.dtype, device: image.device)
            .scatter_add(-1, lowerIndex, w * (1 - upperShare))
            .scatter_add(-1, lowerIndex + 1, w * upperShare);
        var density = histogram / (histogram.sum(-1, keepdim: true) + 1e-12);
        return density.cumsum(-1);
    }
}

using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>
/// The official skin-colour term (spec §4): YUV histograms with 256 bins over [−0.05, 1.05] after mapping each
/// channel by (x + 1)/2, each sample adding 1.01^(h − |x − c_k|) to bin k when that exceeds 1 (h = half the bin
/// width), raw counts; loss = Σ_k (cumsum h₁ − cumsum h₂)², averaged over the batch and the three channels.
/// </summary>
/// <remarks>
/// Evaluated in float32 on purpose: the official numbers depend on it (samples within ~6e-6 of a bin edge round to
/// exactly 1 and drop out, and masked-out zeros land exactly on an edge and count nowhere). A sample can only pass
/// the threshold in the bin that contains it, so each sample is evaluated against that bin and its two neighbours
/// with exactly the official float32 operations instead of against all 256 (the same sums, 85× less memory).
/// The engine passes a 0/1 mask; the official code's 0/255 mask is a defect not reproduced here.
/// </remarks>
internal static class HistogramLoss
{
    public const int Bins = 256;

    /// <summary>The official code's weight on <see cref="Emd"/>: 0.05 / (256·256).</summary>
    public const double OfficialWeight = 0.05 / (256 * 256);

    /// <summary>The side both operands are resized to before comparison in the official code.</summary>
    public const int ComparisonSide = 256;

    /// <summary>The official code only adds this term after this iteration.</summary>
    public const int OfficialFirstStep = 201;

    private const double RangeStart = -0.05;
    private const double RangeEnd = 1.05;
    private const float Base = 1.01f;

    private static readonly (float[] Centers, float HalfWidth, double BinWidth) Layout = BuildLayout();

    /// <summary>The masked loss: <see cref="Emd"/>(mask ⊙ generated, mask ⊙ reference); mask (N or 1, 1, H, W) of 0/1.</summary>
    public static Tensor Compute(Tensor generated, Tensor reference, Tensor mask)
    {
        if (mask.dim() != 4 || mask.shape[1] != 1 || mask.shape[2] != generated.shape[2] || mask.shape[3] != generated.shape[3])
        {
            throw new ArgumentException(
                $"The face mask must be (N or 1, 1, H, W) at the operands' size; got ({string.Join(", ", mask.shape)}) for images " +
                $"({string.Join(", ", generated.shape)}). Resize the mask to the comparison side first.", nameof(mask));
        }
        using var scope = NewDisposeScope();
        return Emd(generated * mask, reference * mask).MoveToOuterDisposeScope();
    }

    /// <summary>The unweighted EMD of the YUV histograms of two NCHW RGB batches of the same shape (float32).</summary>
    public static Tensor Emd(Tensor input, Tensor reference)
    {
        if (input.dim() != 4 || input.shape[1] != 3 || !input.shape.SequenceEqual(reference.shape))
        {
            throw new ArgumentException(
                $"The histogram loss compares two NCHW RGB batches of the same shape; got ({string.Join(", ", input.shape)}) " +
                $"and ({string.Join(", ", reference.shape)}). Resize both with ToComparisonSize.", nameof(input));
        }
        if (input.dtype != ScalarType.Float32 || reference.dtype != ScalarType.Float32)
        {
            throw new ArgumentException("The official histogram loss must be evaluated in float32 to match the official numbers.", nameof(input));
        }
        using var scope = NewDisposeScope();
        var h1 = ChannelHistograms(ToYuv(input));
        var h2 = ChannelHistograms(ToYuv(reference));
        var emd = (h1.cumsum(2) - h2.cumsum(2)).pow(2).sum(2).mean([0]);
        return emd.mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Resizes an operand to the comparison side the way the official code does: torch bicubic interpolation with a
    /// scale factor (¼ for a 1024 rendering, 8 for a 32 input), align_corners = false.
    /// </summary>
    public static Tensor ToComparisonSize(Tensor image, int side = ComparisonSide)
    {
        if (image.dim() != 4)
        {
            throw new ArgumentException($"Expected an NCHW batch; got ({string.Join(", ", image.shape)}).", nameof(image));
        }
        var scale = (double)side / image.shape[2];
        return nn.functional.interpolate(image, scale_factor: [scale, scale], mode: InterpolationMode.Bicubic, align_corners: false);
    }

    /// <summary>Per-bin histograms (N, 3, 256) of the three channels of a YUV batch, with (x + 1)/2 applied.</summary>
    internal static Tensor ChannelHistograms(Tensor yuv)
    {
        var (n, c) = (yuv.shape[0], yuv.shape[1]);
        using var scope = NewDisposeScope();
        var (bins, responses) = BinResponses(((yuv + 1) / 2).reshape(n * c, -1));
        // Summed in float64 and rounded once: torch's float32 reduction over the pixels is nearly exact, while a
        // float32 scatter-add accumulates errors that the CDF differences amplify in the gradient.
        return zeros(n * c, Bins, dtype: ScalarType.Float64, device: yuv.device)
            .scatter_add(1, bins, responses.to(ScalarType.Float64))
            .to(ScalarType.Float32)
            .reshape(n, c, Bins)
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For each sample of (rows, samples), the three candidate bins and their thresholded responses
    /// 1.01^(h − |x − c_k|) (0 where not above 1), both (rows, 3·samples).
    /// </summary>
    internal static (Tensor Bins, Tensor Responses) BinResponses(Tensor values)
    {
        using var scope = NewDisposeScope();
        var centers = tensor(Layout.Centers, device: values.device);
        // clamp keeps NaN, and NaN cast to an index is −2⁶³: a NaN sample is given bin 0, where its NaN response
        // makes the loss NaN (which the restorer recovers from) instead of relying on the clamp after the overflow.
        var nearest = ((values.detach().to(ScalarType.Float64) - RangeStart) / Layout.BinWidth).nan_to_num(0).floor().clamp(0, Bins - 1)
            .to(ScalarType.Int64);
        var candidates = cat([nearest - 1, nearest, nearest + 1], dim: 1);
        var valid = candidates.ge(0).logical_and(candidates.lt(Bins));
        var bins = candidates.clamp(0, Bins - 1);
        var x = cat([values, values, values], dim: 1);
        // Exactly the official float32 steps: x − c_k, then h − |·|, then 1.01^t, then the strict "> 1" threshold.
        var t = Layout.HalfWidth - (x - centers[bins]).abs();
        var response = nn.functional.threshold(full_like(t, Base).pow(t), 1, 0);
        response = where(valid, response, zeros_like(response));
        return (bins.MoveToOuterDisposeScope(), response.MoveToOuterDisposeScope());
    }

    /// <summary>RGB → YUV with the official coefficients, summed in the official order, in the input's dtype.</summary>
    internal static Tensor ToYuv(Tensor rgb)
    {
        using var scope = NewDisposeScope();
        var (r, g, b) = (rgb[.., 0], rgb[.., 1], rgb[.., 2]);
        var y = 0.299 * r + 0.587 * g + 0.114 * b;
        var u = -0.14713 * r + -0.28886 * g + 0.436 * b;
        var v = 0.615 * r + -0.51499 * g + -0.10001 * b;
        return stack([y, u, v], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Bin centres and half width as the official code derives them: numpy linspace edges in double, then float32.</summary>
    private static (float[] Centers, float HalfWidth, double BinWidth) BuildLayout()
    {
        var step = (RangeEnd - RangeStart) / Bins;
        var edges = Enumerable.Range(0, Bins + 1).Select(j => j * step + RangeStart).ToArray();
        edges[Bins] = RangeEnd;
        var half = (edges[2] - edges[1]) / 2;
        var centers = Enumerable.Range(0, Bins).Select(k => (float)(edges[k] + half)).ToArray();
        return (centers, (float)half, step);
    }
}

using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// How an identity network turns (B, 3, H, W) RGB images in [0, 1] of any size into the (B, 3, 112, 112) tensor its
/// backbone takes. Every step is differentiable, so the loss gradient reaches the input pixels.
/// </summary>
public abstract class IdentityPreprocessing
{
    /// <summary>Side of the square both ArcFace backbones take.</summary>
    public const int NetworkInputSize = 112;

    /// <summary>Maps <paramref name="rgb01"/> (B, 3, H, W) in [0, 1] to the backbone's (B, 3, 112, 112) input.</summary>
    public abstract Tensor Apply(Tensor rgb01);

    /// <summary>Throws unless <paramref name="rgb01"/> is a (B, 3, H, W) floating-point batch.</summary>
    protected static void CheckImages(Tensor rgb01)
    {
        ArgumentNullException.ThrowIfNull(rgb01);
        if (rgb01.dim() != 4 || rgb01.shape[1] != 3 || rgb01.shape[2] < 1 || rgb01.shape[3] < 1 || !rgb01.is_floating_point())
        {
            throw new ArgumentException(
                $"Identity networks take floating-point (batch, 3, height, width) RGB images in [0, 1]; got {rgb01.dtype} " +
                $"({string.Join(", ", rgb01.shape)}).", nameof(rgb01));
        }
    }
}

/// <summary>
/// The SAIR code's input path to IResNet-50 (identity_L1loss.py): ImageNet mean/std normalisation, the crop of
/// rows and columns 100:900 of its 1024×1024 generator output, then bicubic resizing to 112 with align_corners=True.
/// Other sizes are cropped at the same fractions (100/1024 … 900/1024, rounded to whole pixels).
/// </summary>
internal sealed class SairIResNetPreprocessing : IdentityPreprocessing
{
    /// <summary>The size the SAIR crop is stated for.</summary>
    public const int ReferenceSize = 1024;

    /// <summary>First cropped row/column at <see cref="ReferenceSize"/>.</summary>
    public const int ReferenceCropStart = 100;

    /// <summary>One past the last cropped row/column at <see cref="ReferenceSize"/>.</summary>
    public const int ReferenceCropEnd = 900;

    private static readonly double[] ImageNetMean = [0.485, 0.456, 0.406];
    private static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    public static SairIResNetPreprocessing Instance { get; } = new();

    /// <summary>The cropped span [Start, End) of an image side of <paramref name="size"/> pixels.</summary>
    public static (long Start, long End) CropSpan(long size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        long Scale(int at) => (long)Math.Round((double)at * size / ReferenceSize, MidpointRounding.AwayFromZero);
        return (Scale(ReferenceCropStart), Scale(ReferenceCropEnd));
    }

    public override Tensor Apply(Tensor rgb01)
    {
        CheckImages(rgb01);
        using var scope = NewDisposeScope();
        var (top, bottom) = CropSpan(rgb01.shape[2]);
        var (left, right) = CropSpan(rgb01.shape[3]);
        // Cropping before normalising is SAIR's order reversed; both are per-pixel, so the values are identical.
        var crop = rgb01.narrow(2, top, bottom - top).narrow(3, left, right - left);
        var mean = tensor(ImageNetMean, dtype: rgb01.dtype, device: rgb01.device).view(1, 3, 1, 1);
        var std = tensor(ImageNetStd, dtype: rgb01.dtype, device: rgb01.device).view(1, 3, 1, 1);
        var normalised = crop.sub(mean).div(std);
        return F.interpolate(normalised, [NetworkInputSize, NetworkInputSize], mode: InterpolationMode.Bicubic, align_corners: true)
            .MoveToOuterDisposeScope();
    }
}

/// <summary>
/// pSp/e4e's input path to IR-SE50 (criteria/id_loss.py): images in [−1, 1] at 256×256, the crop of rows 35:223 and
/// columns 32:220, then adaptive average pooling to 112. Other sizes are first average-pooled to 256, as e4e does.
/// </summary>
internal sealed class PspIrSePreprocessing : IdentityPreprocessing
{
    /// <summary>The size pSp's crop is stated for.</summary>
    public const int AlignedSize = 256;

    /// <summary>Cropped rows [start, end) at 256.</summary>
    public static readonly (int Start, int End) CropRows = (35, 223);

    /// <summary>Cropped columns [start, end) at 256.</summary>
    public static readonly (int Start, int End) CropColumns = (32, 220);

    public static PspIrSePreprocessing Instance { get; } = new();

    public override Tensor Apply(Tensor rgb01)
    {
        CheckImages(rgb01);
        using var scope = NewDisposeScope();
        var aligned = rgb01.shape[2] == AlignedSize && rgb01.shape[3] == AlignedSize
            ? rgb01
            : F.adaptive_avg_pool2d(rgb01, [AlignedSize, AlignedSize]);
        var crop = aligned
            .narrow(2, CropRows.Start, CropRows.End - CropRows.Start)
            .narrow(3, CropColumns.Start, CropColumns.End - CropColumns.Start);
        var pooled = F.adaptive_avg_pool2d(crop, [NetworkInputSize, NetworkInputSize]);
        // [0, 1] → [−1, 1] after pooling: an affine map commutes with averaging and costs less on 112².
        return pooled.mul(2).sub_(1).MoveToOuterDisposeScope();
    }
}

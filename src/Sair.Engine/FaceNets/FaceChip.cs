using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets;

/// <summary>
/// Turns the engine's images — (B,3,H,W) RGB in [0,1] at any size — into a face network's square input, differentiably.
/// </summary>
internal static class FaceChip
{
    /// <summary>
    /// Cuts <paramref name="crop"/> out (the whole image when null), resizes to side×side and scales to 0..255.
    /// Downscaling is bilinear with antialiasing (a plain bilinear shrink of a 1024 image to 112 would read one pixel
    /// in nine and alias); upscaling is plain bilinear.
    /// A non-square input is stretched: aligned crops are square, and landmarks map back per axis.
    /// </summary>
    public static Tensor To255(Tensor rgb01, int side, string consumer, FaceCrop? crop = null)
    {
        Check(rgb01, consumer);
        using var scope = NewDisposeScope();
        var image = crop is null || crop == FaceCrop.Whole ? rgb01 : Cut(rgb01, crop);
        var height = image.shape[2];
        var width = image.shape[3];
        if (height != side || width != side)
        {
            var shrinking = height > side || width > side;
            image = F.interpolate(image, size: [side, side], mode: InterpolationMode.Bilinear, align_corners: false, antialias: shrinking);
        }
        return (image * 255.0).MoveToOuterDisposeScope();
    }

    private static Tensor Cut(Tensor rgb01, FaceCrop crop)
    {
        var height = rgb01.shape[2];
        var width = rgb01.shape[3];
        var top = Math.Min((long)Math.Round(crop.Top * height), height - 1);
        var left = Math.Min((long)Math.Round(crop.Left * width), width - 1);
        var cropHeight = Math.Clamp((long)Math.Round(crop.Size * height), 1, height - top);
        var cropWidth = Math.Clamp((long)Math.Round(crop.Size * width), 1, width - left);
        return rgb01.narrow(2, top, cropHeight).narrow(3, left, cropWidth);
    }

    /// <summary>Throws, saying what is expected, unless <paramref name="rgb01"/> is a floating-point (B,3,H,W) batch.</summary>
    public static void Check(Tensor rgb01, string consumer)
    {
        if (rgb01.dim() != 4 || rgb01.shape[1] != 3 || rgb01.shape[2] < 1 || rgb01.shape[3] < 1)
        {
            throw new ArgumentException(
                $"{consumer} takes an NCHW RGB batch (B, 3, H, W) with values in [0, 1]; got [{string.Join(", ", rgb01.shape)}].",
                nameof(rgb01));
        }
        if (!rgb01.is_floating_point())
        {
            throw new ArgumentException(
                $"{consumer} takes floating-point pixels in [0, 1]; got {rgb01.dtype}. Divide 8-bit images by 255 first.", nameof(rgb01));
        }
    }
}

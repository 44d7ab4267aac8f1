using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>Checks of what a caller hands the engine, with errors that say what to fix.</summary>
internal static class RestorationInputs
{
    /// <summary>A (1, 3, H, W) float32 copy on <paramref name="device"/> of an RGB image in [0, 1] given as (1, 3, H, W) or (3, H, W).</summary>
    public static Tensor Image(Tensor image, string what, Device device)
    {
        if (image.IsInvalid || image.numel() == 0)
        {
            throw new ArgumentException($"The {what} is empty; pass an RGB image tensor.");
        }
        var shape = string.Join(", ", image.shape);
        if (image.dim() is not (3 or 4) || (image.dim() == 4 && image.shape[0] != 1))
        {
            throw new ArgumentException($"The {what} must be one RGB image, (1, 3, H, W) or (3, H, W); got ({shape}).");
        }
        var channels = image.shape[^3];
        if (channels != 3)
        {
            throw new ArgumentException(
                $"The {what} has {channels} channel(s) (shape ({shape})); the engine needs RGB (3 channels): convert greyscale or drop alpha first.");
        }
        if (!image.is_floating_point())
        {
            throw new ArgumentException($"The {what} has dtype {image.dtype}; pass floating-point pixels in [0, 1] (divide bytes by 255).");
        }
        using var scope = NewDisposeScope();
        var x = image.detach().to(ScalarType.Float32, device).reshape(1, 3, image.shape[^2], image.shape[^1]);
        if (!x.isfinite().all().item<bool>())
        {
            throw new ArgumentException($"The {what} holds NaN or infinite pixels; repair or re-decode it before restoring.");
        }
        var (min, max) = (x.min().item<float>(), x.max().item<float>());
        if (min < 0 || max > 1)
        {
            throw new ArgumentException(
                $"The {what}'s pixels span [{min}, {max}]; the engine expects [0, 1] (divide 8-bit values by 255, map [−1, 1] by (x + 1)/2).");
        }
        return x.contiguous().clone().MoveToOuterDisposeScope();
    }

    /// <summary>A (1, n_latent, style_dim) float32 copy on <paramref name="device"/> of a W+ code for <paramref name="generator"/>.</summary>
    public static Tensor Latent(Tensor latent, StyleGan2Generator generator, string what, Device device)
    {
        var (n, d) = (generator.NLatent, generator.Config.StyleDim);
        if (latent.IsInvalid || latent.numel() == 0)
        {
            throw new ArgumentException($"The {what} is empty; pass a (1, {n}, {d}) W+ code.");
        }
        if (latent.numel() != n * d || latent.shape[^1] != d)
        {
            throw new ArgumentException(
                $"The {what} has shape ({string.Join(", ", latent.shape)}) but this generator takes (1, {n}, {d}); was it made for another generator or resolution?");
        }
        using var scope = NewDisposeScope();
        var x = latent.detach().to(ScalarType.Float32, device).reshape(1, n, d);
        if (!x.isfinite().all().item<bool>())
        {
            throw new ArgumentException($"The {what} holds NaN or infinite values.");
        }
        return x.contiguous().clone().MoveToOuterDisposeScope();
    }

    public static Device DeviceOf(StyleGan2Generator generator) => generator.parameters().First().device;

    /// <summary>Resizes an NCHW image to side × side (antialiased when shrinking), for comparisons at a common size.</summary>
    public static Tensor Resize(Tensor image, int side) =>
        image.shape[2] == side && image.shape[3] == side
            ? image.alias()
            : nn.functional.interpolate(image, size: [side, side], mode: InterpolationMode.Bicubic, align_corners: false,
                antialias: image.shape[2] > side);
}

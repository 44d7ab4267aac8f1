using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Sair.Engine.Imaging;

/// <summary>The value range of an image tensor: [0,1] (operators, losses) or [−1,1] (the generator's output).</summary>
public enum PixelRange
{
    ZeroOne,
    MinusOneOne,
}

/// <summary>RGB images ↔ float32 tensors of shape (1, 3, H, W).</summary>
public static class ImageTensors
{
    /// <summary>A (1,3,H,W) float32 CPU tensor of the image in the given range.</summary>
    public static Tensor ToTensor(Image<Rgb24> image, PixelRange range = PixelRange.ZeroOne)
    {
        // The pixels go straight into a byte tensor's memory, planar and float only there: a 40-megapixel photo costs
        // its float tensor and a byte copy of it, and leaves nothing on the managed heap for a later collection.
        using var interleaved = empty([1, image.Height, image.Width, 3], ScalarType.Byte);
        image.CopyPixelDataTo(interleaved.bytes);
        using var planar = interleaved.permute(0, 3, 1, 2).contiguous();
        var pixels = planar.to(ScalarType.Float32);
        return range == PixelRange.ZeroOne ? pixels.div_(255f) : pixels.div_(127.5f).sub_(1f);
    }

    /// <summary>
    /// An image of one batch item of a (B,3,H,W) or (3,H,W) tensor in the given range; values are clamped and rounded
    /// to the nearest 8-bit level. NaN pixels are refused, not written as black.
    /// </summary>
    public static Image<Rgb24> ToImage(Tensor tensor, PixelRange range = PixelRange.ZeroOne, int batchIndex = 0)
    {
        using var scope = NewDisposeScope();
        var t = tensor.detach().cpu().to(ScalarType.Float32);
        if (t.dim() == 4)
        {
            t = t[batchIndex];
        }
        if (t.dim() != 3 || t.shape[0] != 3)
        {
            throw new ArgumentException($"expected an RGB tensor (3,H,W) or (B,3,H,W), got ({string.Join(", ", tensor.shape)}).", nameof(tensor));
        }
        if (t.isnan().any().item<bool>())
        {
            throw new ArgumentException("the image tensor holds NaN values.", nameof(tensor));
        }
        var scaled = range == PixelRange.ZeroOne ? t * 255f : (t + 1f) * 127.5f;
        var bytes = scaled.round().clamp(0, 255).to(ScalarType.Byte).permute(1, 2, 0).contiguous();
        var height = (int)t.shape[1];
        var width = (int)t.shape[2];
        return Image.LoadPixelData<Rgb24>(bytes.bytes, width, height);
    }
}

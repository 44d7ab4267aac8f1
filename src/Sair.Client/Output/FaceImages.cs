using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace Sair.Client.Output;

/// <summary>The images of the GFPGAN-style layout, composed from the input and the grid's result.</summary>
public static class FaceImages
{
    /// <summary>The smallest side of a <see cref="Comparison"/> panel: big enough to judge a face by eye.</summary>
    public const int MinPanelSide = 256;

    /// <summary>
    /// Input | restored | reference (the reference panel only when there is one), each panel square at the restored
    /// face's side or <see cref="MinPanelSide"/>, whichever is larger. The degraded input is enlarged nearest-neighbour,
    /// so its pixels show as they are; the restored face and the reference are resampled smoothly.
    /// </summary>
    public static byte[] Comparison(byte[] inputPng, byte[] restoredPng, byte[]? referencePng)
    {
        using var input = Image.Load<Rgb24>(inputPng);
        using var restored = Image.Load<Rgb24>(restoredPng);
        using var reference = referencePng is null ? null : Image.Load<Rgb24>(referencePng);
        var side = Math.Max(MinPanelSide, Math.Max(restored.Width, restored.Height));
        Panel(input, side, KnownResamplers.NearestNeighbor);
        Panel(restored, side, KnownResamplers.Bicubic);
        if (reference is not null)
        {
            Panel(reference, side, KnownResamplers.Bicubic);
        }

        using var canvas = new Image<Rgb24>(side * (reference is null ? 2 : 3), side);
        canvas.Mutate(x =>
        {
            x.DrawImage(input, new Point(0, 0), 1f).DrawImage(restored, new Point(side, 0), 1f);
            if (reference is not null)
            {
                x.DrawImage(reference, new Point(2 * side, 0), 1f);
            }
        });
        return Png(canvas);
    }

    private static void Panel(Image<Rgb24> image, int side, IResampler resampler)
    {
        if (image.Width != side || image.Height != side)
        {
            image.Mutate(x => x.Resize(side, side, resampler));
        }
    }

    /// <summary>
    /// The grid's whole restored photo at the input photo's size times <paramref name="upscale"/>. The engine already
    /// pasted the face back at the upscale the album was submitted with, so this resizes only when another scale is
    /// asked for (e.g. <c>album results --upscale</c>) or the engine had to stay within its pixel limit.
    /// </summary>
    public static byte[] AtScale(byte[] photoPng, int inputWidth, int inputHeight, double upscale)
    {
        using var photo = Image.Load<Rgb24>(photoPng);
        var width = Math.Max(1, (int)Math.Round(inputWidth * upscale));
        var height = Math.Max(1, (int)Math.Round(inputHeight * upscale));
        if (photo.Width == width && photo.Height == height)
        {
            return photoPng;
        }

        photo.Mutate(x => x.Resize(width, height, KnownResamplers.Lanczos3));
        return Png(photo);
    }

    /// <summary>The PNG re-encoded as a JPEG of the given quality.</summary>
    public static byte[] Jpeg(byte[] png, int quality)
    {
        using var image = Image.Load<Rgb24>(png);
        using var stream = new MemoryStream();
        image.Save(stream, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = quality });
        return stream.ToArray();
    }

    private static byte[] Png(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder { ColorType = PngColorType.Rgb });
        return stream.ToArray();
    }
}

using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Sair.Client.Output;

/// <summary>The images of the GFPGAN-style layout, composed from the input and the grid's result.</summary>
public static class FaceImages
{
    /// <summary>Before | after, both at the restored face's height (the degraded input is upscaled, nearest-neighbour, so its blockiness shows).</summary>
    public static byte[] SideBySide(byte[] beforePng, byte[] afterPng)
    {
        using var before = Image.Load<Rgb24>(beforePng);
        using var after = Image.Load<Rgb24>(afterPng);
        var height = after.Height;
        var beforeWidth = Math.Max(1, (int)Math.Round(before.Width * (double)height / before.Height));
        before.Mutate(x => x.Resize(beforeWidth, height, KnownResamplers.NearestNeighbor));
        using var canvas = new Image<Rgb24>(beforeWidth + after.Width, height);
        canvas.Mutate(x => x.DrawImage(before, new Point(0, 0), 1f).DrawImage(after, new Point(beforeWidth, 0), 1f));
        return Png(canvas);
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

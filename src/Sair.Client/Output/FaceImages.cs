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
    /// The restored photo at the input photo's size times <paramref name="upscale"/>: the grid restores the one face it
    /// finds in each photo and returns one image, so putting it back in the input's frame is a resize.
    /// </summary>
    public static byte[] PasteBack(byte[] restoredPng, int inputWidth, int inputHeight, double upscale)
    {
        using var restored = Image.Load<Rgb24>(restoredPng);
        var width = Math.Max(1, (int)Math.Round(inputWidth * upscale));
        var height = Math.Max(1, (int)Math.Round(inputHeight * upscale));
        if (restored.Width != width || restored.Height != height)
        {
            restored.Mutate(x => x.Resize(width, height, KnownResamplers.Lanczos3));
        }

        return Png(restored);
    }

    private static byte[] Png(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder { ColorType = PngColorType.Rgb });
        return stream.ToArray();
    }
}

using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Sair.Client.Tests.Support;

public static class TestImages
{
    public static string SampleAlbum => Path.Combine(RepoPaths.Root, "samples", "album");

    public static string SamplePhoto(string name) => Path.Combine(SampleAlbum, "photos", name);

    public static string SampleReference(string name) => Path.Combine(SampleAlbum, "references", name);

    public static byte[] Grayscale(string photo)
    {
        using var image = Image.Load<L8>(photo);
        return Png(image);
    }

    public static byte[] Flat(int side, byte value)
    {
        using var image = new Image<Rgb24>(side, side, new Rgb24(value, value, value));
        return Png(image);
    }

    /// <summary>The first bytes of a real JPEG (its markers) followed by noise where the scan data should be.</summary>
    public static byte[] CorruptJpeg(string jpeg)
    {
        var bytes = File.ReadAllBytes(jpeg);
        var noise = new byte[bytes.Length];
        new Random(3).NextBytes(noise);
        return [.. bytes.AsSpan(0, 24), .. noise];
    }

    private static byte[] Png<TPixel>(Image<TPixel> image)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder());
        return stream.ToArray();
    }


}

using Sair.Engine.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Sair.Silo.Tests.Support;

/// <summary>The johns face fixtures (5 people × 11 dlib chips) as photos the grid's face analyzer and engine take.</summary>
internal static class JohnsPhotos
{
    /// <summary>johns/ by person (sorted), each person's chips sorted.</summary>
    public static List<(string Person, string[] Photos)> People() =>
        Directory.GetDirectories(RepoPaths.SharedFile("fixtures", "faces", "johns"))
            .OrderBy(d => d, StringComparer.Ordinal)
            .Select(d => (Path.GetFileName(d), Directory.GetFiles(d, "*.jpg").OrderBy(f => f, StringComparer.Ordinal).ToArray()))
            .ToList();

    /// <summary>
    /// A johns chip as a photo: dlib cut the 150 px chips tight around the face, so it is set in a plain grey border,
    /// as a face sits in a real photo with background around it.
    /// </summary>
    public static byte[] Photo(string chipPath)
    {
        using var chip = ImageFiles.Load(chipPath);
        var border = chip.Width / 2;
        using var photo = new Image<Rgb24>(chip.Width + 2 * border, chip.Height + 2 * border, new Rgb24(110, 110, 110));
        photo.Mutate(p => p.DrawImage(chip, new Point(border, border), 1f));
        return ImageFiles.Encode(photo, "png");
    }

    /// <summary>A square PNG reduced (bicubic) to <paramref name="side"/> px: the degraded input the engine restores.</summary>
    public static byte[] Shrunk(byte[] png, int side)
    {
        using var image = ImageFiles.Decode(png, "aligned face");
        image.Mutate(p => p.Resize(side, side, KnownResamplers.Bicubic));
        return ImageFiles.Encode(image, "png");
    }
}

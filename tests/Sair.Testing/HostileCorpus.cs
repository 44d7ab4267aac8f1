using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Sair.Testing;

/// <summary>
/// Issue 18's hostile-input corpus, written into a folder for every door to be tried with: files each door must
/// refuse with a reason, files it must take, a folder named like a photo and symbolic links that lead nowhere good.
/// </summary>
public static class HostileCorpus
{
    /// <summary>Files that are not a whole, readable image (or lead out of the folder): refused with a reason.</summary>
    public static readonly string[] Refused = ["empty.jpg", "wrong-magic.png", "truncated.jpg", "truncated.png", "bomb.png", "loop.jpg", "outside.jpg"];

    /// <summary>Unusual but honest images: taken (the EXIF-rotated one upright, as photo viewers show it).</summary>
    public static readonly string[] Accepted = ["deep16.png", "alpha.png", "cmyk.jpg", "animated.gif", "exif-rotated.jpg", "name with spaces & ünïcode.jpg"];

    /// <summary>
    /// A whole, readable image without a face: refused with a reason by every door that looks for faces (restore, pool
    /// enrolment, album submission, the pool grain), taken by training, whose data is not searched for faces. Group
    /// photos (many faces) have tests of their own (GroupPhotoTests, GroupPhotoOnRealEngineTests).
    /// </summary>
    public const string NoFace = "no-face.jpg";

    /// <summary>The refused files that are bytes (not links), for doors that take bytes.</summary>
    public static IEnumerable<string> RefusedFiles => Refused.Where(name => name is not ("loop.jpg" or "outside.jpg"));

    /// <summary>Writes the corpus from a sample photo of a known face into <paramref name="folder"/>.</summary>
    public static async Task WriteAsync(string folder, string goodPhoto)
    {
        var good = await File.ReadAllBytesAsync(goodPhoto);
        using var face = Image.Load<Rgb24>(good);
        await File.WriteAllBytesAsync(Path.Combine(folder, "empty.jpg"), []);
        await File.WriteAllBytesAsync(Path.Combine(folder, "wrong-magic.png"), [.. "GIF89a"u8, .. good.Skip(6)]);
        await File.WriteAllBytesAsync(Path.Combine(folder, "truncated.jpg"), good[..(good.Length / 2)]);
        var png = Encode(face, new PngEncoder());
        await File.WriteAllBytesAsync(Path.Combine(folder, "truncated.png"), png[..(png.Length / 2)]);
        await File.WriteAllBytesAsync(Path.Combine(folder, "bomb.png"), TestPngs.HeaderOnly(100_000, 100_000));
        await File.WriteAllBytesAsync(Path.Combine(folder, "deep16.png"), Encode(face.CloneAs<Rgb48>(), new PngEncoder { BitDepth = PngBitDepth.Bit16 }));
        await File.WriteAllBytesAsync(Path.Combine(folder, "alpha.png"), Encode(face.CloneAs<Rgba32>(), new PngEncoder { ColorType = PngColorType.RgbWithAlpha }));
        await File.WriteAllBytesAsync(Path.Combine(folder, "cmyk.jpg"), Encode(face, new JpegEncoder { ColorType = JpegColorType.Cmyk }));
        using (var animated = face.Clone())
        {
            using var second = face.Clone(c => c.Invert());
            animated.Frames.AddFrame(second.Frames.RootFrame);
            await File.WriteAllBytesAsync(Path.Combine(folder, "animated.gif"), Encode(animated, new GifEncoder()));
        }

        using (var sideways = face.Clone(c => c.Rotate(RotateMode.Rotate270)))
        {
            // Stored a quarter-turn anticlockwise, with the tag that tells viewers to turn it back (6: 90° clockwise).
            sideways.Metadata.ExifProfile = new ExifProfile();
            sideways.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
            await File.WriteAllBytesAsync(Path.Combine(folder, "exif-rotated.jpg"), Encode(sideways, new JpegEncoder()));
        }

        using (var flat = new Image<Rgb24>(face.Width, face.Height, new Rgb24(128, 128, 128)))
        {
            await File.WriteAllBytesAsync(Path.Combine(folder, NoFace), Encode(flat, new JpegEncoder()));
        }

        Directory.CreateDirectory(Path.Combine(folder, "folder.jpg"));
        File.CreateSymbolicLink(Path.Combine(folder, "loop.jpg"), Path.Combine(folder, "loop.jpg"));
        File.CreateSymbolicLink(Path.Combine(folder, "outside.jpg"), "/etc/passwd");
        await File.WriteAllBytesAsync(Path.Combine(folder, "name with spaces & ünïcode.jpg"), good);
    }

    private static byte[] Encode(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}

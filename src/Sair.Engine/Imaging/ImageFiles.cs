using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Sair.Engine.IO;

namespace Sair.Engine.Imaging;

/// <summary>
/// Reading and writing photos through ImageSharp, safely: size and pixel limits are checked from the header before
/// decoding, every failure is an <see cref="ImageLoadException"/> with a reason, and writes never leave half a file.
/// </summary>
public static class ImageFiles
{
    /// <summary>Loads an RGB image from a file (grey and palette images are converted; alpha is dropped).</summary>
    public static Image<Rgb24> Load(string path, ImageLimits? limits = null)
    {
        if (!File.Exists(path))
        {
            throw new ImageLoadException(path, "missing", "no such file.");
        }
        var length = new FileInfo(path).Length;
        limits ??= ImageLimits.Default;
        if (length > limits.MaxFileBytes)
        {
            throw new ImageLoadException(path, "too-large",
                $"the file is {length / (1024 * 1024)} MiB; the limit is {limits.MaxFileBytes / (1024 * 1024)} MiB.");
        }
        return Decode(File.ReadAllBytes(path), path, limits);
    }

    /// <summary>
    /// Loads an RGB image from encoded bytes (PNG, JPEG, BMP, GIF, TGA, …); <paramref name="source"/> names it in errors.
    /// The image comes upright: an EXIF orientation (a phone photo taken sideways) is applied and removed, as photo
    /// viewers show it.
    /// </summary>
    public static Image<Rgb24> Decode(byte[] bytes, string source, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (bytes.LongLength > limits.MaxFileBytes)
        {
            throw new ImageLoadException(source, "too-large",
                $"the data is {bytes.LongLength / (1024 * 1024)} MiB; the limit is {limits.MaxFileBytes / (1024 * 1024)} MiB.");
        }
        IImageInfo? info;
        try
        {
            info = Image.Identify(bytes);
        }
        catch (Exception e) when (e is InvalidImageContentException or UnknownImageFormatException or NotSupportedException)
        {
            throw new ImageLoadException(source, "corrupt", $"the image header cannot be read ({e.Message}).", e);
        }
        if (info is null)
        {
            throw new ImageLoadException(source, "not-an-image",
                "not an image in a known format (PNG, JPEG, BMP, GIF, TGA, TIFF, WebP, PBM).");
        }
        var pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
        {
            throw new ImageLoadException(source, "corrupt", $"the header claims an empty image ({info.Width}×{info.Height}).");
        }
        if (pixels > limits.MaxPixels || info.Width > limits.MaxSide || info.Height > limits.MaxSide)
        {
            throw new ImageLoadException(source, "too-many-pixels",
                $"the image is {info.Width}×{info.Height}; the limits are {limits.MaxPixels / 1_000_000.0:0.#} megapixels and " +
                $"{limits.MaxSide} px a side. Downscale it first.");
        }
        if (ImageCompleteness.Problem(bytes) is { } cutShort)
        {
            // Decoders fill a cut-off file's missing part with grey and report success.
            throw new ImageLoadException(source, "truncated", cutShort + ".");
        }
        try
        {
            var image = Image.Load<Rgb24>(bytes);
            image.Mutate(x => x.AutoOrient());
            return image;
        }
        catch (Exception e) when (e is InvalidImageContentException or UnknownImageFormatException or NotSupportedException
                                      or ImageFormatException or IndexOutOfRangeException or ArgumentException)
        {
            throw new ImageLoadException(source, "corrupt", $"the image data is damaged ({e.Message}).", e);
        }
    }

    /// <summary>Saves by extension (.png, .jpg/.jpeg), atomically: the file appears whole or not at all.</summary>
    public static void Save(Image image, string path, int jpegQuality = 95)
    {
        var encoder = EncoderFor(path, jpegQuality);
        AtomicFile.Write(path, stream => image.Save(stream, encoder));
    }

    /// <summary>Encodes to bytes in the given format ("png" or "jpeg").</summary>
    public static byte[] Encode(Image image, string format = "png", int jpegQuality = 95)
    {
        using var buffer = new MemoryStream();
        image.Save(buffer, EncoderFor("x." + format, jpegQuality));
        return buffer.ToArray();
    }

    private static IImageEncoder EncoderFor(string path, int jpegQuality)
    {
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => new PngEncoder(),
            ".jpg" or ".jpeg" => new JpegEncoder { Quality = Math.Clamp(jpegQuality, 1, 100) },
            var other => throw new ArgumentException($"cannot save '{path}': use .png or .jpg (got '{other}').", nameof(path)),
        };
    }
}

using System.Globalization;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Sair.Client.Photos;

/// <summary>A photo that passed every check, normalised to an RGB PNG for the grid.</summary>
/// <param name="Name">Safe file stem used for every output of this photo.</param>
/// <param name="Note">Something the user should know although the photo is fine (e.g. grayscale).</param>
public sealed record AcceptedPhoto(string Source, string Name, byte[] Png, int Width, int Height, string? Note);

/// <summary>A photo refused before reaching the grid, with why and what to do.</summary>
public sealed record RejectedPhoto(string Source, string Reason);

/// <summary>The outcome of checking all inputs: accepted ones in input order, and the refusals.</summary>
public sealed record IntakeResult(IReadOnlyList<AcceptedPhoto> Accepted, IReadOnlyList<RejectedPhoto> Rejected);

/// <summary>
/// Checks input photos before anything is uploaded: a safe name, a sane file size, dimensions read from the header
/// BEFORE decoding (a 20000×20000 PNG is a few kilobytes on disk and gigabytes in memory), then a full decode that
/// catches corrupt data. Good photos are re-encoded as RGB PNG, so grayscale or CMYK inputs reach the engine as colour.
/// </summary>
public static class PhotoIntake
{
    public const long MaxFileBytes = 64L * 1024 * 1024;

    public const int MaxSide = 8192;

    public const long MaxPixels = 40_000_000;

    /// <summary>
    /// The files to restore: <paramref name="input"/> itself when it is a file, else every file directly in the folder
    /// (sorted by name). Non-image files are kept: they are reported, not silently skipped.
    /// </summary>
    public static IReadOnlyList<string> ListInputs(string input)
    {
        if (File.Exists(input))
        {
            return [Path.GetFullPath(input)];
        }

        if (Directory.Exists(input))
        {
            return [.. Directory.EnumerateFiles(input).Select(Path.GetFullPath).Order(StringComparer.Ordinal)];
        }

        throw new FileNotFoundException($"Input '{input}' is neither a file nor a folder.", input);
    }

    public static IntakeResult Check(IEnumerable<string> files, bool aligned)
    {
        var accepted = new List<AcceptedPhoto>();
        var rejected = new List<RejectedPhoto>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in files)
        {
            var outcome = Check(file, aligned);
            if (outcome.Photo is { } photo)
            {
                accepted.Add(photo with { Name = Unique(photo.Name, names) });
            }
            else
            {
                rejected.Add(outcome.Rejection!);
            }
        }

        return new IntakeResult(accepted, rejected);
    }

    /// <summary>Checks one file; exactly one of the results is set.</summary>
    public static (AcceptedPhoto? Photo, RejectedPhoto? Rejection) Check(string file, bool aligned)
    {
        var fileName = Path.GetFileName(file);
        if (SafeNames.Stem(fileName) is not { } stem)
        {
            return Reject(file, $"unsafe file name '{SafeNames.Printable(fileName)}': rename it to letters, digits, '-', '_' or '.'");
        }

        var info = new FileInfo(file);
        if (info.Length == 0)
        {
            return Reject(file, "empty file");
        }

        if (info.Length > MaxFileBytes)
        {
            return Reject(file, $"file is {info.Length / (1024 * 1024)} MiB, over the {MaxFileBytes / (1024 * 1024)} MiB limit: downscale or recompress it");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return Reject(file, $"cannot read the file: {exception.Message}");
        }

        IImageInfo? header;
        try
        {
            header = Image.Identify(bytes);
        }
        catch (Exception exception) when (exception is UnknownImageFormatException or InvalidImageContentException or ImageFormatException or NotSupportedException)
        {
            return Reject(file, $"not a readable image ({exception.Message.TrimEnd('.')})");
        }

        if (header is null)
        {
            return Reject(file, "not an image (unrecognised format): use JPEG, PNG, BMP, GIF, TGA, TIFF or WebP");
        }

        if (header.Width > MaxSide || header.Height > MaxSide || (long)header.Width * header.Height > MaxPixels)
        {
            return Reject(file, string.Create(CultureInfo.InvariantCulture,
                $"image is {header.Width}×{header.Height}, over the {MaxSide} px per side / {MaxPixels / 1_000_000} MP limit: downscale it first"));
        }

        if (Sair.Grains.Ports.ImageCompleteness.Problem(bytes) is { } cutShort)
        {
            return Reject(file, cutShort);
        }

        if (aligned && header.Width != header.Height)
        {
            return Reject(file, $"--aligned expects square aligned face crops; this image is {header.Width}×{header.Height}");
        }

        try
        {
            using var image = Image.Load<Rgb24>(bytes);
            var note = IsGray(image) ? "grayscale photo: restored in colour" : null;
            using var png = new MemoryStream();
            image.Save(png, new PngEncoder { ColorType = PngColorType.Rgb });
            return (new AcceptedPhoto(file, stem, png.ToArray(), image.Width, image.Height, note), null);
        }
        catch (Exception exception) when (exception is InvalidImageContentException or ImageFormatException or NotSupportedException)
        {
            return Reject(file, $"corrupt image data ({exception.Message.TrimEnd('.')})");
        }
    }

    private static (AcceptedPhoto?, RejectedPhoto?) Reject(string file, string reason) => (null, new RejectedPhoto(file, reason));

    private static bool IsGray(Image<Rgb24> image)
    {
        var gray = true;
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height && gray; y++)
            {
                foreach (var pixel in rows.GetRowSpan(y))
                {
                    if (pixel.R != pixel.G || pixel.G != pixel.B)
                    {
                        gray = false;
                        break;
                    }
                }
            }
        });
        return gray;
    }

    private static string Unique(string stem, HashSet<string> taken)
    {
        var name = stem;
        for (var n = 2; !taken.Add(name); n++)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}");
        }

        return name;
    }
}

/// <summary>File names that are safe to reuse for outputs and image-store paths.</summary>
public static class SafeNames
{
    /// <summary>
    /// The file stem with anything outside letters, digits, ' ', '-', '_', '.', '(', ')' replaced by '_'; null when
    /// the name tries to leave a folder ('..', a separator of any platform, a drive colon) or is hidden.
    /// </summary>
    public static string? Stem(string fileName)
    {
        if (string.IsNullOrWhiteSpace(fileName) || fileName.StartsWith('.') || fileName.Contains("..", StringComparison.Ordinal)
            || fileName.IndexOfAny(['/', '\\', ':']) >= 0 || fileName.Any(char.IsControl))
        {
            return null;
        }

        var stem = Path.GetFileNameWithoutExtension(fileName);
        var safe = new StringBuilder(stem.Length);
        foreach (var c in stem)
        {
            safe.Append(char.IsLetterOrDigit(c) || c is ' ' or '-' or '_' or '.' or '(' or ')' ? c : '_');
        }

        var result = safe.ToString().Trim();
        return result.Length == 0 ? null : result;
    }

    /// <summary>The name with control characters escaped, for messages.</summary>
    public static string Printable(string name) =>
        string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}

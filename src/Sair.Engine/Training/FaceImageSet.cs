using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Sair.Engine.Imaging;
using static TorchSharp.torch;

namespace Sair.Engine.Training;

/// <summary>
/// A rectangle given as fractions of a square face image (0..1 from the left/top), cut out before resizing so that
/// sources with different framing give similar faces. Give a square box (Width = Height): the cut is resized to a
/// square, so any other box stretches the faces.
/// </summary>
/// <param name="Left">Left edge as a fraction of the width.</param>
/// <param name="Top">Top edge as a fraction of the height.</param>
/// <param name="Width">Width as a fraction of the width.</param>
/// <param name="Height">Height as a fraction of the height.</param>
public sealed record CropBox(double Left, double Top, double Width, double Height)
{
    /// <summary>The whole image.</summary>
    public static readonly CropBox Full = new(0, 0, 1, 1);

    /// <summary>Throws an <see cref="ArgumentException"/> unless the box is non-empty and lies inside the image.</summary>
    public void Validate()
    {
        if (!(Width > 0 && Height > 0 && Left >= 0 && Top >= 0 && Left + Width <= 1 + 1e-9 && Top + Height <= 1 + 1e-9))
        {
            throw new ArgumentException($"crop box {this} must be non-empty and lie within 0..1 on both axes.");
        }
    }

    /// <summary>The pixel rectangle of this box in a <paramref name="side"/>×<paramref name="side"/> image (at least 1 px).</summary>
    public Rectangle ToPixels(int side)
    {
        var x = (int)Math.Round(Left * side);
        var y = (int)Math.Round(Top * side);
        var w = Math.Clamp((int)Math.Round(Width * side), 1, side - x);
        var h = Math.Clamp((int)Math.Round(Height * side), 1, side - y);
        return new Rectangle(x, y, w, h);
    }
}

/// <summary>
/// Aligned face images held in memory as one uint8 tensor (N, 3, size, size): each file is centre-cropped to a square,
/// cut to its <see cref="CropBox"/>, and resized with ImageSharp's bicubic resampler (area-aware when shrinking).
/// 17k faces at 64 px take about 200 MB.
/// </summary>
public sealed class FaceImageSet : IDisposable
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    private FaceImageSet(Tensor images, IReadOnlyList<string> files)
    {
        Images = images;
        Files = files;
    }

    /// <summary>The faces, (N, 3, size, size) uint8 RGB.</summary>
    public Tensor Images { get; }

    /// <summary>The source file of each face, in the order of <see cref="Images"/>.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Files that could not be read when loading.</summary>
    public int SkippedFiles { get; private init; }

    /// <summary>Files left out because they show a person of the hold-out list given when loading.</summary>
    public int HeldOutFiles { get; private init; }

    /// <summary>Number of faces.</summary>
    public int Count => Files.Count;

    /// <summary>Side in pixels.</summary>
    public int Size => (int)Images.shape[2];

    /// <summary>
    /// Loads every image under <paramref name="folder"/> (recursively, sorted by path so the order is reproducible).
    /// <paramref name="crops"/> maps a top-level sub-folder name (e.g. <c>lfw</c>) to its crop; other images use
    /// <paramref name="defaultCrop"/>. Unreadable files are skipped and counted in <see cref="SkippedFiles"/>; photos of
    /// <paramref name="holdout"/>'s people are never read and are counted in <see cref="HeldOutFiles"/>.
    /// </summary>
    public static FaceImageSet Load(string folder, int size, CropBox? defaultCrop = null,
        IReadOnlyDictionary<string, CropBox>? crops = null, int maxImages = 0, HoldoutList? holdout = null,
        CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"training data folder '{folder}' does not exist: give a folder of aligned face images.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 4);
        defaultCrop ??= CropBox.Full;
        defaultCrop.Validate();
        foreach (var crop in crops?.Values ?? [])
        {
            crop.Validate();
        }
        var root = Path.GetFullPath(folder);
        var candidates = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToList();
        var files = holdout is null ? candidates : candidates.Where(f => !holdout.Excludes(f)).ToList();
        if (maxImages > 0 && files.Count > maxImages)
        {
            files = files.Take(maxImages).ToList();
        }
        var pixels = new byte[files.Count][];
        Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var relative = Path.GetRelativePath(root, files[i]);
            var topFolder = relative.Contains(Path.DirectorySeparatorChar) ? relative[..relative.IndexOf(Path.DirectorySeparatorChar)] : "";
            var crop = crops is not null && crops.TryGetValue(topFolder, out var c) ? c : defaultCrop;
            try
            {
                // A link that leads out of the data folder is not read: the folder is all a run may read.
                pixels[i] = LeadsOutside(files[i], root) ? [] : Load(files[i], crop, size);
            }
            catch (Exception exception) when (exception is ImageLoadException or IOException or UnauthorizedAccessException)
            {
                pixels[i] = [];
            }
        });
        var kept = Enumerable.Range(0, files.Count).Where(i => pixels[i].Length > 0).ToList();
        if (kept.Count == 0)
        {
            throw new InvalidDataException($"no readable images (jpg, png, bmp, webp) under '{folder}'.");
        }
        var plane = 3 * size * size;
        var all = new byte[(long)kept.Count * plane];
        for (var k = 0; k < kept.Count; k++)
        {
            pixels[kept[k]].CopyTo(all, (long)k * plane);
        }
        var images = tensor(all, [kept.Count, 3, size, size]).DetachFromDisposeScope();
        return new FaceImageSet(images, kept.Select(i => files[i]).ToList()) { SkippedFiles = files.Count - kept.Count, HeldOutFiles = candidates.Count - files.Count };
    }

    /// <summary>A set made from an existing uint8 tensor (N, 3, S, S) (copied), e.g. for tests.</summary>
    public static FaceImageSet FromTensor(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dtype != ScalarType.Byte || images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != images.shape[3])
        {
            throw new ArgumentException($"expected uint8 (N, 3, S, S); got {images.dtype} ({string.Join(", ", images.shape)}).", nameof(images));
        }
        var copy = images.clone().DetachFromDisposeScope();
        return new FaceImageSet(copy, Enumerable.Range(0, (int)images.shape[0]).Select(i => $"#{i}").ToList());
    }

    /// <summary>Faces <paramref name="indices"/> as float (B, 3, S, S) in [−1, 1].</summary>
    public Tensor Batch(Tensor indices)
    {
        using var picked = Images.index_select(0, indices);
        return picked.to(ScalarType.Float32).div_(127.5).sub_(1);
    }

    public void Dispose() => Images.Dispose();

    private static byte[] Load(string file, CropBox crop, int size)
    {
        using var image = ImageFiles.Load(file);
        return Prepare(image, crop, size);
    }

    /// <summary>Whether <paramref name="file"/> is a symbolic link whose final target lies outside <paramref name="root"/>.</summary>
    private static bool LeadsOutside(string file, string root)
    {
        if (new FileInfo(file).LinkTarget is null)
        {
            return false;
        }

        if (File.ResolveLinkTarget(file, returnFinalTarget: true)?.FullName is not { } target)
        {
            return true;
        }

        // The folder itself may be reached through a link: inside either its path or the path it leads to is inside.
        var realRoot = Directory.ResolveLinkTarget(root, returnFinalTarget: true)?.FullName ?? root;
        return !Within(root, target) && !Within(realRoot, target);
    }

    private static bool Within(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path);
        return relative != ".." && !relative.StartsWith($"..{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
    }

    // Planar RGB bytes of the centre square, cut to the crop box and resized to size×size.
    private static byte[] Prepare(Image<Rgb24> image, CropBox crop, int size)
    {
        var side = Math.Min(image.Width, image.Height);
        var square = new Rectangle((image.Width - side) / 2, (image.Height - side) / 2, side, side);
        var box = crop.ToPixels(side);
        box.Offset(square.X, square.Y);
        image.Mutate(c => c.Crop(box).Resize(size, size));
        var rgb = new Rgb24[size * size];
        image.CopyPixelDataTo(rgb);
        var planar = new byte[3 * rgb.Length];
        for (var i = 0; i < rgb.Length; i++)
        {
            planar[i] = rgb[i].R;
            planar[rgb.Length + i] = rgb[i].G;
            planar[2 * rgb.Length + i] = rgb[i].B;
        }
        return planar;
    }
}

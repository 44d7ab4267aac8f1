using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Sair.Engine.Imaging;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Alignment;

/// <summary>An aligned face (1, 3, S, S) in [0, 1] and the transform that produced it.</summary>
public sealed record AlignedFace(Tensor Face, AlignmentTransform Transform) : IDisposable
{
    public void Dispose() => Face.Dispose();
}

/// <summary>
/// Cuts an aligned square face out of a photo and puts a (restored) face back, both by bilinear
/// <c>grid_sample</c> over an affine grid, so both directions stay on tensors and are differentiable in the pixels.
/// </summary>
public static class FaceAligner
{
    /// <summary>
    /// Where <c>Align</c> would cut the face from (the photo-to-aligned map at <paramref name="outputSize"/>²),
    /// without sampling any pixels: what a paste-back needs.
    /// </summary>
    public static AlignmentTransform Transform(Tensor landmarks, int outputSize, AlignmentTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputSize, 8);
        return new AlignmentTransform(template.PhotoToUnit(landmarks).Then(Affine2D.ScaleTranslate(outputSize, outputSize)), outputSize);
    }

    /// <summary>
    /// The face of <paramref name="photo"/> ((1,3,H,W) RGB in [0,1]) with pixel <paramref name="landmarks"/> (5 or 68
    /// points), aligned to <paramref name="template"/> at <paramref name="outputSize"/>². Where the square leaves the
    /// photo the border is reflected (FFHQ also reflects, then blurs). A square larger than the output is reached by
    /// an antialiased shrink of the photo first, as FFHQ does, so that the bilinear sampling does not alias.
    /// </summary>
    public static AlignedFace Align(Tensor photo, Tensor landmarks, int outputSize, AlignmentTemplate template,
        GridSamplePaddingMode padding = GridSamplePaddingMode.Reflection)
    {
        CheckPhoto(photo, nameof(photo));
        ArgumentNullException.ThrowIfNull(template);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputSize, 8);
        var transform = Transform(landmarks, outputSize, template);

        using var scope = NewDisposeScope();
        var source = photo;
        var sourceToPhoto = Affine2D.Identity;
        var height = photo.shape[2];
        var width = photo.shape[3];
        var scale = transform.Scale;
        if (scale > 1)
        {
            var shrunkHeight = Math.Max(1, (long)Math.Round(height / scale));
            var shrunkWidth = Math.Max(1, (long)Math.Round(width / scale));
            source = F.interpolate(photo, size: [shrunkHeight, shrunkWidth], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
            sourceToPhoto = Affine2D.ScaleTranslate((double)width / shrunkWidth, (double)height / shrunkHeight);
            height = shrunkHeight;
            width = shrunkWidth;
        }
        // affine_grid maps output normalised coordinates to input normalised ones (align_corners = false: ±1 are the outer pixel edges).
        var theta = Affine2D.ScaleTranslate(outputSize / 2.0, outputSize / 2.0, outputSize / 2.0, outputSize / 2.0)
            .Then(transform.AlignedToPhoto)
            .Then(sourceToPhoto.Inverse())
            .Then(Affine2D.ScaleTranslate(2.0 / width, 2.0 / height, -1, -1));
        var grid = F.affine_grid(theta.ToTheta(photo.dtype, photo.device), [1, 3, outputSize, outputSize], align_corners: false);
        var face = F.grid_sample(source, grid, GridSampleMode.Bilinear, padding, align_corners: false);
        return new AlignedFace(face.MoveToOuterDisposeScope(), transform);
    }

    /// <inheritdoc cref="Align(Tensor, Tensor, int, AlignmentTemplate, GridSamplePaddingMode)"/>
    public static AlignedFace Align(Image<Rgb24> photo, Tensor landmarks, int outputSize, AlignmentTemplate template,
        GridSamplePaddingMode padding = GridSamplePaddingMode.Reflection)
    {
        using var pixels = ImageTensors.ToTensor(photo);
        return Align(pixels, landmarks, outputSize, template, padding);
    }

    /// <summary>
    /// <paramref name="photo"/> ((1,3,H,W), [0,1]) with <paramref name="restoredFace"/> ((1,3,S',S'), [0,1], any side)
    /// warped back through <paramref name="transform"/> and blended in with <see cref="SeamMask"/>; outside the
    /// aligned square the photo is returned unchanged.
    /// </summary>
    public static Tensor PasteBack(Tensor photo, Tensor restoredFace, AlignmentTransform transform, double featherPixels)
    {
        CheckPhoto(photo, nameof(photo));
        CheckPhoto(restoredFace, nameof(restoredFace));
        ArgumentNullException.ThrowIfNull(transform);
        if (restoredFace.shape[2] != restoredFace.shape[3])
        {
            throw new ArgumentException($"the restored face must be square; got {restoredFace.shape[3]}×{restoredFace.shape[2]}.", nameof(restoredFace));
        }
        using var scope = NewDisposeScope();
        var face = restoredFace.to(photo.dtype).to(photo.device);
        var footprint = (long)Math.Ceiling(transform.OutputSize * transform.Scale);
        if (face.shape[2] > footprint)
        {
            face = F.interpolate(face, size: [footprint, footprint], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        }

        // Only the pixels under the aligned square change: blend there, band by band, so that a 40-megapixel photo costs
        // one copy of itself and not a sampling grid, a warp and a mask of its whole size.
        if (Footprint(photo, transform) is not var (left, top, width, height))
        {
            return photo.detach().clone().MoveToOuterDisposeScope();
        }

        if (photo.requires_grad || restoredFace.requires_grad)
        {
            // Differentiable callers get the blend as a graph over the whole photo: the region's blend padded back out.
            var delta = F.pad(Blend(photo, face, transform, left, top, width, height, featherPixels, delta: true),
                [left, photo.shape[3] - left - width, top, photo.shape[2] - top - height]);
            return (photo + delta).MoveToOuterDisposeScope();
        }

        // In bands of rows, each a few tens of megabytes however wide the photo.
        var result = photo.detach().clone();
        var rows = Math.Max(1, PasteBandPixels / width);
        for (var band = top; band < top + height; band += rows)
        {
            using var bandScope = NewDisposeScope();
            var bandHeight = Math.Min(rows, top + height - band);
            result.narrow(2, band, bandHeight).narrow(3, left, width)
                .copy_(Blend(photo, face, transform, left, band, width, bandHeight, featherPixels, delta: false));
        }

        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Photo pixels per band of <see cref="PasteBack"/>.</summary>
    private const long PasteBandPixels = 1L << 20;

    /// <summary>
    /// The pasted face blended into the photo's region (left, top, width, height): the blended pixels, or with
    /// <paramref name="delta"/> only the change to add to the region.
    /// </summary>
    private static Tensor Blend(Tensor photo, Tensor face, AlignmentTransform transform, long left, long top, long width, long height,
        double featherPixels, bool delta)
    {
        var region = photo.narrow(2, top, height).narrow(3, left, width);
        var regionTransform = transform with { PhotoToAligned = Affine2D.ScaleTranslate(1, 1, left, top).Then(transform.PhotoToAligned) };
        var grid = PhotoGrid(region, regionTransform);
        var warped = F.grid_sample(face, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
        var mask = MaskFromGrid(grid, regionTransform, featherPixels).unsqueeze(1);
        var change = mask * (warped - region);
        return delta ? change : region + change;
    }

    /// <summary>
    /// The photo pixels (left, top, width, height) the aligned square of <paramref name="transform"/> touches, clipped
    /// to the photo, with a pixel to spare; null when the square lies outside the photo.
    /// </summary>
    private static (long Left, long Top, long Width, long Height)? Footprint(Tensor photo, AlignmentTransform transform)
    {
        var quad = transform.Quad;
        var left = Math.Max(0, (long)Math.Floor(quad.Min(p => p.X)) - 1);
        var top = Math.Max(0, (long)Math.Floor(quad.Min(p => p.Y)) - 1);
        var right = Math.Min(photo.shape[3], (long)Math.Ceiling(quad.Max(p => p.X)) + 1);
        var bottom = Math.Min(photo.shape[2], (long)Math.Ceiling(quad.Max(p => p.Y)) + 1);
        return right > left && bottom > top ? (left, top, right - left, bottom - top) : null;
    }

    /// <summary>
    /// The blending weight (1, H, W) of the pasted face at each photo pixel: 1 inside the aligned square farther than
    /// <paramref name="featherPixels"/> photo pixels from its edge, falling linearly to 0 at the edge, 0 outside.
    /// </summary>
    public static Tensor SeamMask(Tensor photo, AlignmentTransform transform, double featherPixels)
    {
        CheckPhoto(photo, nameof(photo));
        using var scope = NewDisposeScope();
        return MaskFromGrid(PhotoGrid(photo, transform), transform, featherPixels).MoveToOuterDisposeScope();
    }

    /// <summary>For every photo pixel, its position in the aligned square in normalised coordinates (1, H, W, 2).</summary>
    private static Tensor PhotoGrid(Tensor photo, AlignmentTransform transform)
    {
        var height = photo.shape[2];
        var width = photo.shape[3];
        var size = transform.OutputSize;
        var theta = Affine2D.ScaleTranslate(width / 2.0, height / 2.0, width / 2.0, height / 2.0)
            .Then(transform.PhotoToAligned)
            .Then(Affine2D.ScaleTranslate(2.0 / size, 2.0 / size, -1, -1));
        return F.affine_grid(theta.ToTheta(photo.dtype, photo.device), [1, 3, height, width], align_corners: false);
    }

    private static Tensor MaskFromGrid(Tensor grid, AlignmentTransform transform, double featherPixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(featherPixels);
        // 1 − max(|u|, |v|) is the distance to the square's edge in half-sides; a half-side is OutputSize/2 aligned pixels.
        var inside = 1 - grid.abs().amax([-1]);
        var distance = inside * (transform.OutputSize / 2.0 * transform.Scale);
        return featherPixels > 0
            ? (distance / featherPixels).clamp(0, 1)
            : (distance > 0).to(grid.dtype);
    }

    private static void CheckPhoto(Tensor image, string name)
    {
        if (image.dim() != 4 || image.shape[0] != 1 || image.shape[1] != 3 || !image.is_floating_point())
        {
            throw new ArgumentException(
                $"{name} must be one floating-point RGB image (1, 3, H, W) in [0, 1]; got {image.dtype} [{string.Join(", ", image.shape)}].", name);
        }
    }
}

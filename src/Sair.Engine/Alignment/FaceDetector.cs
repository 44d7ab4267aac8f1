using Sair.Engine.FaceNets;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Alignment;

/// <summary>A box in photo pixels (continuous coordinates; it may reach past the photo's edges).</summary>
public sealed record PixelBox(double X, double Y, double Width, double Height)
{
    public double CentreX => X + Width / 2;

    public double CentreY => Y + Height / 2;
}

/// <summary>A face found in a photo: detector score, box and 68 landmarks (68, 2), all in photo pixels.</summary>
public sealed record DetectedFace(float Score, PixelBox Box, Tensor Landmarks) : IDisposable
{
    public void Dispose() => Landmarks.Dispose();
}

/// <summary>
/// Faces and their landmarks in a whole photo of any size: face-api's tiny face detector on the photo letterboxed
/// to a square (padded at the bottom/right, as face-api does, and resized to each of <see cref="InputSizes"/>), then the
/// landmark detector on a square crop around each box.
/// </summary>
public sealed class FaceDetector : IDisposable
{
    private readonly TinyFaceDetector _detector;
    private readonly ILandmarkDetector _landmarks;
    private readonly bool _ownsNets;

    /// <summary>Boxes overlapping a better one by more than this are the same face (face-api's own NMS threshold).</summary>
    private const double MergeIou = 0.4;

    /// <summary>Uses loaded nets; they are disposed with this detector only when <paramref name="ownsNets"/> is true.</summary>
    public FaceDetector(TinyFaceDetector detector, ILandmarkDetector landmarks, bool ownsNets = false)
    {
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(landmarks);
        _detector = detector;
        _landmarks = landmarks;
        _ownsNets = ownsNets;
    }

    /// <summary>Loads face-api's tiny face detector and 68-point landmark net through <paramref name="locator"/>.</summary>
    public static FaceDetector Load(FaceModelLocator? locator = null) =>
        new(TinyFaceDetector.Load(locator), FaceApiLandmarks.Load(locator), ownsNets: true);

    /// <summary>
    /// Sides of the detector's square input, each a multiple of 32; the photo is searched at every one. The tiny
    /// detector's largest anchor spans about ten of its 32 px cells, so a face filling the photo is found only at a
    /// small side (160) and a small face only at a large one (416, face-api's default).
    /// </summary>
    public IReadOnlyList<int> InputSizes
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count == 0 || value.Any(side => side < 32 || side % 32 != 0))
            {
                throw new ArgumentOutOfRangeException(nameof(InputSizes), string.Join(", ", value),
                    "give one or more input sides, each a positive multiple of 32.");
            }
            field = value;
        }
    } = [TinyFaceDetector.DefaultInputSize, 224, 160];

    /// <summary>
    /// The longest side the search works at: a larger photo is first shrunk (antialiased) to this side, and its boxes
    /// scaled back. The detector never sees more than its largest input side, so this loses nothing it looks at, and a
    /// 40-megapixel photo is searched in a few tens of megabytes instead of gigabytes (its letterbox, and the grey
    /// border of the tight-crop search, at full size). 0 searches at the photo's own size.
    /// </summary>
    public int WorkingSide
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
        }
    } = 1664;

    /// <summary>Minimum detector score of a face.</summary>
    public float ScoreThreshold { get; init; } = 0.5f;

    /// <summary>The faces in <paramref name="photo"/> ((1,3,H,W) RGB in [0,1]), best score first, each with its landmarks.</summary>
    public IReadOnlyList<DetectedFace> Detect(Tensor photo)
    {
        var boxes = DetectBoxes(photo);
        return boxes.Select(b => new DetectedFace(b.Score, b.Box, LandmarksIn(photo, b.Box))).ToList();
    }

    /// <summary>
    /// Face boxes in photo pixels, best score first, without landmarks; overlapping boxes from different input sizes
    /// are merged. When the photo as it is shows no face, it is searched again set in a grey border of half its longer
    /// side: a face cut tight at the photo's edges (a 150 px chip, forehead to chin) fills the frame in a way the
    /// detector was not trained on, and in the border it looks like a face in a photo. Only faces centred inside the
    /// photo count.
    /// </summary>
    public IReadOnlyList<(float Score, PixelBox Box)> DetectBoxes(Tensor photo)
    {
        CheckPhoto(photo);
        var (height, width) = (photo.shape[2], photo.shape[3]);
        var workingSide = Math.Max(WorkingSide, InputSizes.Max());
        if (WorkingSide > 0 && Math.Max(height, width) > workingSide)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var scale = (double)workingSide / Math.Max(height, width);
            var small = F.interpolate(photo.detach(), size: [Math.Max(1, (long)Math.Round(height * scale)), Math.Max(1, (long)Math.Round(width * scale))],
                mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
            var (sx, sy) = ((double)width / small.shape[3], (double)height / small.shape[2]);
            return DetectBoxesAsIs(small)
                .Select(f => (f.Score, new PixelBox(f.Box.X * sx, f.Box.Y * sy, f.Box.Width * sx, f.Box.Height * sy)))
                .ToList();
        }

        return DetectBoxesAsIs(photo);
    }

    private List<(float Score, PixelBox Box)> DetectBoxesAsIs(Tensor photo)
    {
        var found = Search(photo);
        if (found.Count > 0)
        {
            return found;
        }
        using var scope = NewDisposeScope();
        var (height, width) = (photo.shape[2], photo.shape[3]);
        var border = Math.Max(height, width) / 2;
        var framed = F.pad(photo.detach(), [border, border, border, border], value: TightCropBorderGrey);
        return Search(framed)
            .Select(f => (f.Score, Box: f.Box with { X = f.Box.X - border, Y = f.Box.Y - border }))
            .Where(f => f.Box.CentreX >= 0 && f.Box.CentreX < width && f.Box.CentreY >= 0 && f.Box.CentreY < height)
            .ToList();
    }

    /// <summary>The grey of the border a tight crop is searched in (110/255, as the engine's tests frame their chips).</summary>
    public const double TightCropBorderGrey = 110.0 / 255;

    private List<(float Score, PixelBox Box)> Search(Tensor photo)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var side = Math.Max(photo.shape[2], photo.shape[3]);
        var square = F.pad(photo.detach(), [0, side - photo.shape[3], 0, side - photo.shape[2]]);
        var candidates = new List<(float Score, PixelBox Box)>();
        foreach (var inputSize in InputSizes)
        {
            var input = F.interpolate(square, size: [inputSize, inputSize], mode: InterpolationMode.Bilinear, align_corners: false,
                antialias: side > inputSize) * 255.0;
            candidates.AddRange(_detector.Detect(input, ScoreThreshold)
                .Select(b => (b.Score, new PixelBox(b.X * side, b.Y * side, b.Width * side, b.Height * side))));
        }
        var kept = new List<(float Score, PixelBox Box)>();
        foreach (var candidate in candidates.OrderByDescending(c => c.Score))
        {
            if (kept.All(k => Iou(k.Box, candidate.Box) <= MergeIou))
            {
                kept.Add(candidate);
            }
        }
        return kept;
    }

    /// <summary>
    /// The 68 landmarks (68, 2) in photo pixels of the face in <paramref name="box"/>: the landmark net sees the
    /// <see cref="SquareCrop(Tensor, PixelBox)"/> around the box.
    /// </summary>
    public Tensor LandmarksIn(Tensor photo, PixelBox box)
    {
        using var scope = NewDisposeScope();
        var (crop, left, top, scale) = SquareCrop(photo, box, LandmarkWorkingSide);
        var points = _landmarks.Detect(crop)[0] * scale;
        var offset = tensor(new float[] { left, top }, dtype: points.dtype, device: points.device);
        return (points + offset).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The longest side of the square the landmark net is given: a larger face's square is cut shrunk (antialiased) to
    /// this side — the net sees 112 px of it — so that a face filling a 40-megapixel photo does not cost a
    /// full-resolution copy of its square.
    /// </summary>
    public const int LandmarkWorkingSide = 1024;

    /// <summary>
    /// The square of side max(width, height) centred on <paramref name="box"/>, cut from <paramref name="photo"/>
    /// (zeros where it leaves the photo), and the photo pixel of its top-left corner.
    /// </summary>
    public static (Tensor Crop, long Left, long Top) SquareCrop(Tensor photo, PixelBox box)
    {
        var (crop, left, top, _) = SquareCrop(photo, box, maxSide: int.MaxValue);
        return (crop, left, top);
    }

    /// <summary>
    /// <see cref="SquareCrop(Tensor, PixelBox)"/>, shrunk to at most <paramref name="maxSide"/> pixels a side;
    /// <c>Scale</c> is photo pixels per crop pixel.
    /// </summary>
    private static (Tensor Crop, long Left, long Top, double Scale) SquareCrop(Tensor photo, PixelBox box, int maxSide)
    {
        CheckPhoto(photo);
        ArgumentNullException.ThrowIfNull(box);
        var side = Math.Max(1, (long)Math.Ceiling(Math.Max(box.Width, box.Height)));
        var left = (long)Math.Round(box.CentreX - side / 2.0);
        var top = (long)Math.Round(box.CentreY - side / 2.0);
        var height = photo.shape[2];
        var width = photo.shape[3];
        var cropSide = Math.Min(side, maxSide);
        var factor = (double)cropSide / side;
        // Cut the part inside the photo, then pad only the crop as far as it leaves the photo (never the whole photo).
        var (x0, x1) = (Math.Clamp(left, 0, width), Math.Clamp(left + side, 0, width));
        var (y0, y1) = (Math.Clamp(top, 0, height), Math.Clamp(top + side, 0, height));
        if (x1 <= x0 || y1 <= y0)
        {
            return (zeros([1, 3, cropSide, cropSide], dtype: photo.dtype, device: photo.device), left, top, 1.0 / factor);
        }

        using var scope = NewDisposeScope();
        var inside = photo.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0);
        if (cropSide == side)
        {
            var crop = F.pad(inside, [x0 - left, left + side - x1, y0 - top, top + side - y1]).contiguous();
            return (crop.MoveToOuterDisposeScope(), left, top, 1.0);
        }

        var (padLeft, padTop) = ((long)Math.Round((x0 - left) * factor), (long)Math.Round((y0 - top) * factor));
        var shrunkWidth = Math.Clamp((long)Math.Round((x1 - x0) * factor), 1, cropSide - padLeft);
        var shrunkHeight = Math.Clamp((long)Math.Round((y1 - y0) * factor), 1, cropSide - padTop);
        var shrunk = F.interpolate(inside, size: [shrunkHeight, shrunkWidth], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        var small = F.pad(shrunk, [padLeft, cropSide - padLeft - shrunkWidth, padTop, cropSide - padTop - shrunkHeight]).contiguous();
        return (small.MoveToOuterDisposeScope(), left, top, 1.0 / factor);
    }

    public void Dispose()
    {
        if (_ownsNets)
        {
            _detector.Dispose();
            _landmarks.Dispose();
        }
    }

    private static double Iou(PixelBox a, PixelBox b)
    {
        var w = Math.Max(0, Math.Min(a.X + a.Width, b.X + b.Width) - Math.Max(a.X, b.X));
        var h = Math.Max(0, Math.Min(a.Y + a.Height, b.Y + b.Height) - Math.Max(a.Y, b.Y));
        var inter = w * h;
        return inter / (a.Width * a.Height + b.Width * b.Height - inter);
    }

    private static void CheckPhoto(Tensor photo)
    {
        if (photo.dim() != 4 || photo.shape[0] != 1 || photo.shape[1] != 3 || !photo.is_floating_point())
        {
            throw new ArgumentException(
                $"the photo must be one floating-point RGB image (1, 3, H, W) in [0, 1]; got {photo.dtype} [{string.Join(", ", photo.shape)}].", nameof(photo));
        }
    }
}

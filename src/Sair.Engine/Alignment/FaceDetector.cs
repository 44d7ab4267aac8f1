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
    /// <see cref="SquareCrop"/> around the box.
    /// </summary>
    public Tensor LandmarksIn(Tensor photo, PixelBox box)
    {
        using var scope = NewDisposeScope();
        var (crop, left, top) = SquareCrop(photo, box);
        var points = _landmarks.Detect(crop)[0];
        var offset = tensor(new float[] { left, top }, dtype: points.dtype, device: points.device);
        return (points + offset).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The square of side max(width, height) centred on <paramref name="box"/>, cut from <paramref name="photo"/>
    /// (zeros where it leaves the photo), and the photo pixel of its top-left corner.
    /// </summary>
    public static (Tensor Crop, long Left, long Top) SquareCrop(Tensor photo, PixelBox box)
    {
        CheckPhoto(photo);
        ArgumentNullException.ThrowIfNull(box);
        var side = Math.Max(1, (long)Math.Ceiling(Math.Max(box.Width, box.Height)));
        var left = (long)Math.Round(box.CentreX - side / 2.0);
        var top = (long)Math.Round(box.CentreY - side / 2.0);
        var height = photo.shape[2];
        var width = photo.shape[3];
        // Pad only as far as the crop leaves the photo, then cut the crop out of the padded photo.
        var padLeft = Math.Max(0, -left);
        var padTop = Math.Max(0, -top);
        var padRight = Math.Max(0, left + side - width);
        var padBottom = Math.Max(0, top + side - height);
        using var padded = F.pad(photo, [padLeft, padRight, padTop, padBottom]);
        var crop = padded.narrow(2, top + padTop, side).narrow(3, left + padLeft, side).clone();
        return (crop, left, top);
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

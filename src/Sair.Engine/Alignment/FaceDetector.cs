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
/// to a square (padded at the bottom/right, as face-api does, and resized to <see cref="InputSize"/>), then the
/// landmark detector on a square crop around each box.
/// </summary>
public sealed class FaceDetector : IDisposable
{
    private readonly TinyFaceDetector _detector;
    private readonly ILandmarkDetector _landmarks;
    private readonly bool _ownsNets;

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

    /// <summary>Side of the detector's square input, a multiple of 32 (face-api's default 416).</summary>
    public int InputSize
    {
        get;
        init
        {
            if (value < 32 || value % 32 != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(InputSize), value, "the tiny face detector's input side must be a positive multiple of 32.");
            }
            field = value;
        }
    } = TinyFaceDetector.DefaultInputSize;

    /// <summary>Minimum detector score of a face.</summary>
    public float ScoreThreshold { get; init; } = 0.5f;

    /// <summary>The faces in <paramref name="photo"/> ((1,3,H,W) RGB in [0,1]), best score first, each with its landmarks.</summary>
    public IReadOnlyList<DetectedFace> Detect(Tensor photo)
    {
        var boxes = DetectBoxes(photo);
        return boxes.Select(b => new DetectedFace(b.Score, b.Box, LandmarksIn(photo, b.Box))).ToList();
    }

    /// <summary>Face boxes in photo pixels, best score first, without landmarks.</summary>
    public IReadOnlyList<(float Score, PixelBox Box)> DetectBoxes(Tensor photo)
    {
        CheckPhoto(photo);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var side = Math.Max(photo.shape[2], photo.shape[3]);
        var square = F.pad(photo.detach(), [0, side - photo.shape[3], 0, side - photo.shape[2]]);
        var input = F.interpolate(square, size: [InputSize, InputSize], mode: InterpolationMode.Bilinear, align_corners: false,
            antialias: side > InputSize) * 255.0;
        return _detector.Detect(input, ScoreThreshold)
            .Select(b => (b.Score, new PixelBox(b.X * side, b.Y * side, b.Width * side, b.Height * side)))
            .ToList();
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

    private static void CheckPhoto(Tensor photo)
    {
        if (photo.dim() != 4 || photo.shape[0] != 1 || photo.shape[1] != 3 || !photo.is_floating_point())
        {
            throw new ArgumentException(
                $"the photo must be one floating-point RGB image (1, 3, H, W) in [0, 1]; got {photo.dtype} [{string.Join(", ", photo.shape)}].", nameof(photo));
        }
    }
}

namespace Sair.Engine.FaceNets;

/// <summary>
/// A square part of an aligned face image, as fractions of its side: what an identity network should see when
/// the engine's images are framed differently from the network's training crops.
/// </summary>
public sealed record FaceCrop
{
    public FaceCrop(double left, double top, double size)
    {
        if (!(size > 0) || !(left >= 0) || !(top >= 0) || left + size > 1 + 1e-9 || top + size > 1 + 1e-9)
        {
            throw new ArgumentOutOfRangeException(nameof(size),
                $"a face crop must lie inside the unit square: left {left}, top {top}, size {size}.");
        }
        Left = left;
        Top = top;
        Size = size;
    }

    public double Left { get; }

    public double Top { get; }

    public double Size { get; }

    /// <summary>The whole image.</summary>
    public static FaceCrop Whole { get; } = new(0, 0, 1);

    /// <summary>
    /// Where a dlib 150 px face chip (the face-api recogniser's training framing) lies in an FFHQ-aligned square:
    /// the mean over the 55 dlib chips of fixtures/faces/johns of the chip's corners under the FFHQ recipe applied to
    /// face-api's landmarks (spread 0.01–0.017 of the side; the tests re-measure it).
    /// </summary>
    public static FaceCrop DlibChipInFfhq { get; } = new(0.164, 0.265, 0.694);
}

using static TorchSharp.torch;

namespace Sair.Engine.Alignment;

/// <summary>
/// Where an aligned face came from: the similarity taking photo pixels to the aligned square's pixels (continuous
/// coordinates, pixel i spans [i, i+1)), and the square's side.
/// </summary>
public sealed record AlignmentTransform(Affine2D PhotoToAligned, int OutputSize)
{
    /// <summary>The map from aligned-square pixels back to photo pixels.</summary>
    public Affine2D AlignedToPhoto => PhotoToAligned.Inverse();

    /// <summary>Photo pixels per aligned pixel.</summary>
    public double Scale => Math.Sqrt(Math.Abs(AlignedToPhoto.Determinant));

    /// <summary>The aligned square's corners in photo pixels, in FFHQ's order: top-left, bottom-left, bottom-right, top-right.</summary>
    public IReadOnlyList<(double X, double Y)> Quad
    {
        get
        {
            var back = AlignedToPhoto;
            return [back.Apply(0, 0), back.Apply(0, OutputSize), back.Apply(OutputSize, OutputSize), back.Apply(OutputSize, 0)];
        }
    }

    /// <summary>Photo-pixel points (…, 2) → aligned-square pixels.</summary>
    public Tensor ToAligned(Tensor photoPoints) => PhotoToAligned.Apply(photoPoints);

    /// <summary>Aligned-square pixel points (…, 2) → photo pixels.</summary>
    public Tensor ToPhoto(Tensor alignedPoints) => AlignedToPhoto.Apply(alignedPoints);
}

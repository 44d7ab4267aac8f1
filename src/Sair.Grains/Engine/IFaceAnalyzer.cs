namespace Sair.Grains.Engine;

/// <summary>Face detection, alignment and identity embedding for the reference pool.</summary>
public interface IFaceAnalyzer
{
    /// <summary>
    /// Finds the face <paramref name="choice"/> picks in <paramref name="photo"/> and returns its identity embedding and
    /// aligned crop. Throws <see cref="FaceNotFoundException"/> when the photo holds no usable face.
    /// </summary>
    Task<FaceAnalysis> AnalyzeAsync(byte[] photo, FaceChoice choice, CancellationToken cancellationToken);

    /// <summary>
    /// The identity embedding of <paramref name="photo"/> taken as a face that is already aligned in
    /// <paramref name="framing"/>: no detection (hopeless on the tiny degraded faces SAIR restores), the whole image goes
    /// to the identity network through the crop that makes it comparable with the pool's enrolled faces.
    /// Throws <see cref="FaceNotFoundException"/> when the photo cannot be an aligned face (not square).
    /// </summary>
    Task<float[]> EmbedAlignedAsync(byte[] photo, FaceFraming framing, CancellationToken cancellationToken);
}

/// <summary>How a photo given to the grid frames its face.</summary>
[GenerateSerializer, Alias("sair.FaceFraming")]
public enum FaceFraming
{
    /// <summary>An ordinary photo: the face is detected and aligned first (what specs written before framings mean).</summary>
    Unaligned = 0,

    /// <summary>A square crop aligned by the FFHQ recipe, as the generator's faces and the pools' aligned faces are.</summary>
    Ffhq = 1,

    /// <summary>A square dlib face chip (dlib's 150 px chips, the framing face-api's recogniser was trained on).</summary>
    DlibChip = 2,
}

/// <summary>Which face of a photo holding several the grid uses: it restores one face per photo.</summary>
[GenerateSerializer, Alias("sair.FaceChoice")]
public enum FaceChoice
{
    /// <summary>The face with the largest detected box (what options written before face choices mean).</summary>
    Largest = 0,

    /// <summary>The face whose box centre is nearest the photo's centre (GFPGAN's <c>--only_center_face</c>).</summary>
    Center = 1,
}

/// <param name="Embedding">Identity embedding (unit length is not assumed: matching normalises).</param>
/// <param name="AlignedFacePng">The face aligned to the generator's template, PNG encoded.</param>
[GenerateSerializer, Immutable, Alias("sair.FaceAnalysis")]
public sealed record FaceAnalysis(
    [property: Id(0)] float[] Embedding,
    [property: Id(1)] byte[] AlignedFacePng);

/// <summary>The photo holds no face the analyzer can use (serializable: it reaches clients through grain calls).</summary>
[GenerateSerializer, Alias("sair.FaceNotFoundException")]
public sealed class FaceNotFoundException(string message) : Exception(message);

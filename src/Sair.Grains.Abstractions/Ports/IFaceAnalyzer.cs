using System.Collections.Immutable;

namespace Sair.Grains.Ports;

/// <summary>Face detection, alignment and identity embedding for the reference pool.</summary>
public interface IFaceAnalyzer
{
    /// <summary>The identity net the embeddings come from, by name (e.g. <c>faceapi-resnet34</c>).</summary>
    string IdentityNet { get; }

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

    /// <summary>
    /// Every face detected in <paramref name="photo"/>, left to right (by box centre), each with where it is (box and
    /// landmarks, so the engine restores exactly this face) and its identity embedding (aligned as pool enrolment
    /// aligns). Empty when the photo holds no face.
    /// </summary>
    Task<ImmutableArray<PhotoFace>> FindFacesAsync(byte[] photo, CancellationToken cancellationToken);
}

/// <summary>Where one face of a photo is.</summary>
/// <param name="Index">The face's place among the photo's faces, left to right from 0 (GFPGAN's <c>_00</c>, <c>_01</c>).</param>
/// <param name="X">Left edge of the detected box, in photo pixels.</param>
/// <param name="Y">Top edge of the detected box.</param>
/// <param name="Width">Box width in photo pixels.</param>
/// <param name="Height">Box height in photo pixels.</param>
/// <param name="Landmarks">The 68 landmarks as x0, y0, x1, y1, … in photo pixels: what the face is aligned by.</param>
[GenerateSerializer, Immutable, Alias("sair.FaceLocation")]
public sealed record FaceLocation(
    [property: Id(0)] int Index,
    [property: Id(1)] double X,
    [property: Id(2)] double Y,
    [property: Id(3)] double Width,
    [property: Id(4)] double Height,
    [property: Id(5)] float[] Landmarks)
{
    public const int LandmarkValues = 68 * 2;

    /// <summary>Throws <see cref="ArgumentException"/> with what is wrong.</summary>
    public void Validate()
    {
        if (Landmarks is not { Length: LandmarkValues } || Landmarks.Any(v => !float.IsFinite(v)))
        {
            throw new ArgumentException($"FaceLocation {Index} needs {LandmarkValues} finite landmark values (68 points).");
        }

        if (Index < 0 || !(Width > 0) || !(Height > 0) || !double.IsFinite(X) || !double.IsFinite(Y))
        {
            throw new ArgumentException($"FaceLocation {Index} has no usable box ({X}, {Y}, {Width}×{Height}).");
        }
    }
}

/// <summary>A face found in a photo: where it is and who it looks like.</summary>
/// <param name="Embedding">Identity embedding of the face aligned as pool enrolment aligns (compare with <see cref="Pools.IReferencePoolGrain.MatchAsync"/>).</param>
/// <param name="Net">The identity net that made <paramref name="Embedding"/>.</param>
[GenerateSerializer, Immutable, Alias("sair.PhotoFace")]
public sealed record PhotoFace(
    [property: Id(0)] FaceLocation Location,
    [property: Id(1)] float[] Embedding,
    [property: Id(2)] string? Net = null);

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

/// <summary>Which face of a photo holding several a lone job restores when it is not told where the face is.</summary>
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

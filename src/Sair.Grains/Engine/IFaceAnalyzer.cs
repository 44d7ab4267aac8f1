namespace Sair.Grains.Engine;

/// <summary>Face detection, alignment and identity embedding for the reference pool.</summary>
public interface IFaceAnalyzer
{
    /// <summary>
    /// Finds the most prominent face in <paramref name="photo"/> and returns its identity embedding and aligned crop.
    /// Throws <see cref="FaceNotFoundException"/> when the photo holds no usable face.
    /// </summary>
    Task<FaceAnalysis> AnalyzeAsync(byte[] photo, CancellationToken cancellationToken);
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

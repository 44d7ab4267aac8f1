namespace Sair.Grains.Ports;

/// <summary>
/// Pastes several restored faces back into their photo (the engine silo implements it over Sair.Engine's alignment,
/// tests use fakes). A photo with one face gets it pasted by its restoration job; a group photo's faces are restored by
/// one job each and put together here once all of them finished.
/// </summary>
public interface IPhotoComposer
{
    /// <summary>
    /// The photo enlarged by <paramref name="upscale"/> with every face of <paramref name="faces"/> warped back to its place
    /// (in the order given); a face the photo holds sharper than the generator's output keeps its own pixels, as a
    /// lone job's paste-back does. PNG encoded.
    /// </summary>
    Task<byte[]> ComposeAsync(byte[] photoPng, IReadOnlyList<RestoredFace> faces, double upscale, CancellationToken cancellationToken);
}

/// <summary>One restored face and where in its photo it came from.</summary>
/// <param name="Location">Where the face is in the photo (what its job aligned it by).</param>
/// <param name="RestoredFacePng">The restored aligned face at the generator's size.</param>
public sealed record RestoredFace(FaceLocation Location, byte[] RestoredFacePng);

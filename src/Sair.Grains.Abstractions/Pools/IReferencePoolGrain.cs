using System.Collections.Immutable;
using Sair.Grains.Ports;

namespace Sair.Grains.Pools;

/// <summary>
/// A named pool of identity references (keyed by pool name). Keeps embeddings and blob paths in its state;
/// the photos themselves live in the image store.
/// </summary>
[Alias("sair.IReferencePoolGrain")]
public interface IReferencePoolGrain : IGrainWithStringKey
{
    /// <summary>
    /// Detects, aligns and embeds the (largest) face in <paramref name="photo"/> and adds it to <paramref name="person"/>.
    /// With <paramref name="framing"/> <see cref="FaceFraming.Ffhq"/> the photo is already an FFHQ-aligned face: it is
    /// embedded whole, without detection, and is itself the aligned face the engine uses.
    /// </summary>
    [Alias("Enroll")]
    Task<PoolReference> EnrollAsync(string person, byte[] photo, FaceFraming framing = FaceFraming.Unaligned);

    /// <summary>All references, or only those of <paramref name="person"/> when given.</summary>
    [Alias("List")]
    Task<ImmutableArray<PoolReference>> ListAsync(string? person = null);

    /// <summary>Removes one reference (by reference id) or every reference of a person (by name); returns how many.</summary>
    [Alias("Remove")]
    Task<int> RemoveAsync(string personOrReferenceId);

    /// <summary>
    /// Stores the reference's latent inversion w_z (engine-defined bytes), so jobs using this reference skip the
    /// inversion. Replaces an earlier one.
    /// </summary>
    [Alias("AttachLatent")]
    Task<PoolReference> AttachLatentAsync(string referenceId, byte[] latent);

    /// <summary>The <paramref name="k"/> people whose best reference is closest (cosine) to <paramref name="embedding"/>.</summary>
    [Alias("Match")]
    Task<ImmutableArray<PoolMatch>> MatchAsync(float[] embedding, int k);

    /// <summary>
    /// As <see cref="MatchAsync"/>, embedding <paramref name="photo"/> first: the face <paramref name="face"/> picks in it,
    /// or with an aligned <paramref name="framing"/> the whole photo as that aligned face
    /// (<see cref="IFaceAnalyzer.EmbedAlignedAsync"/>).
    /// </summary>
    [Alias("MatchPhoto")]
    Task<ImmutableArray<PoolMatch>> MatchPhotoAsync(
        byte[] photo, int k, FaceFraming framing = FaceFraming.Unaligned, FaceChoice face = FaceChoice.Largest);
}

/// <summary>One enrolled reference photo.</summary>
/// <param name="ReferenceId">Unique within the pool.</param>
/// <param name="Person">Who the photo shows.</param>
/// <param name="Embedding">Identity embedding of the face.</param>
/// <param name="PhotoPath">Image-store path of the photo as enrolled.</param>
/// <param name="AlignedFacePath">Image-store path of the aligned face the engine uses as reference.</param>
/// <param name="LatentPath">Image-store path of the attached latent inversion, or null when none is attached.</param>
[GenerateSerializer, Immutable, Alias("sair.PoolReference")]
public sealed record PoolReference(
    [property: Id(0)] string ReferenceId,
    [property: Id(1)] string Person,
    [property: Id(2)] float[] Embedding,
    [property: Id(3)] string PhotoPath,
    [property: Id(4)] string AlignedFacePath,
    [property: Id(5)] DateTimeOffset EnrolledAt,
    [property: Id(6)] string? LatentPath = null);

/// <summary>A ranked match: the person and the cosine similarity of their closest reference.</summary>
[GenerateSerializer, Immutable, Alias("sair.PoolMatch")]
public sealed record PoolMatch(
    [property: Id(0)] string Person,
    [property: Id(1)] double Similarity,
    [property: Id(2)] string ReferenceId);

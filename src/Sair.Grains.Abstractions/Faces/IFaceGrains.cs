using System.Collections.Immutable;
using Sair.Grains.Ports;

namespace Sair.Grains.Faces;

/// <summary>
/// Finds every face of a photo, with its place and identity embedding, so an album can give each face its own job and
/// its own pool match before anything is restored. Stateless: it runs on the calling silo, which has the face nets.
/// </summary>
[Alias("sair.IFaceFinderGrain")]
public interface IFaceFinderGrain : IGrainWithIntegerKey
{
    /// <summary>The photo's faces, left to right; empty when it holds none.</summary>
    [Alias("Find")]
    Task<ImmutableArray<PhotoFace>> FindAsync(byte[] photo);

    /// <summary>The identity net the embeddings come from (what a match threshold is calibrated for).</summary>
    [Alias("IdentityNet")]
    Task<string> GetIdentityNetAsync();
}

/// <summary>
/// Puts a group photo's restored faces back into it (see <see cref="IPhotoComposer"/>), keyed by album and photo. Runs
/// on an engine silo, where the alignment template and generator size live.
/// </summary>
[Alias("sair.IPhotoComposerGrain")]
public interface IPhotoComposerGrain : IGrainWithStringKey
{
    /// <summary>Reads the photo and the restored faces from the image store, composes them and writes <see cref="ComposeSpec.OutputPath"/>.</summary>
    [Alias("Compose")]
    Task<string> ComposeAsync(ComposeSpec spec);
}

/// <param name="PhotoPath">Image-store path of the (normalised) input photo.</param>
/// <param name="Faces">Each restored face's location and the image-store path of its restored aligned face.</param>
/// <param name="Upscale">Scale of the composed photo relative to the input.</param>
/// <param name="OutputPath">Where the composed photo is written.</param>
[GenerateSerializer, Immutable, Alias("sair.ComposeSpec")]
public sealed record ComposeSpec(
    [property: Id(0)] string PhotoPath,
    [property: Id(1)] ImmutableArray<ComposedFace> Faces,
    [property: Id(2)] double Upscale,
    [property: Id(3)] string OutputPath);

[GenerateSerializer, Immutable, Alias("sair.ComposedFace")]
public sealed record ComposedFace(
    [property: Id(0)] FaceLocation Location,
    [property: Id(1)] string RestoredFacePath);

using System.Collections.Immutable;
using Orleans.Concurrency;
using Sair.Grains.Ports;
using Sair.Grains.Placement;

namespace Sair.Grains.Faces;

[StatelessWorker]
public sealed class FaceFinderGrain(IFaceAnalyzer analyzer) : Grain, IFaceFinderGrain
{
    public Task<ImmutableArray<PhotoFace>> FindAsync(byte[] photo)
    {
        if (photo is not { Length: > 0 })
        {
            throw new ArgumentException("The photo to look for faces in is empty.", nameof(photo));
        }

        return analyzer.FindFacesAsync(photo, CancellationToken.None);
    }

    public Task<string> GetIdentityNetAsync() => Task.FromResult(analyzer.IdentityNet);
}

[EnginePlacement]
public sealed class PhotoComposerGrain(IPhotoComposer composer, IImageStore images) : Grain, IPhotoComposerGrain
{
    public async Task<string> ComposeAsync(ComposeSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Faces.IsDefaultOrEmpty)
        {
            throw new ArgumentException("ComposeSpec lists no faces to paste back.", nameof(spec));
        }

        var photo = await images.GetAsync(spec.PhotoPath, CancellationToken.None);
        var faces = new List<RestoredFace>();
        foreach (var face in spec.Faces)
        {
            faces.Add(new RestoredFace(face.Location, await images.GetAsync(face.RestoredFacePath, CancellationToken.None)));
        }

        var composed = await composer.ComposeAsync(photo, faces, spec.Upscale, CancellationToken.None);
        await images.PutAsync(spec.OutputPath, composed, CancellationToken.None);
        return spec.OutputPath;
    }
}

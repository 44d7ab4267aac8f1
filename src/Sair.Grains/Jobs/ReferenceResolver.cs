using Microsoft.Extensions.Logging;
using Sair.Grains.Ports;
using Sair.Grains.Pools;

namespace Sair.Grains.Jobs;

/// <summary>
/// A restoration's reference faces: explicit photos, the named person of a pool, or the pool's best match for the
/// input; and, once a run inverted a pool reference, its latent attached to the pool so the next job of that person
/// skips the inversion.
/// </summary>
public sealed class ReferenceResolver(IImageStore images, IGrainFactory grains, ILogger<ReferenceResolver> logger)
{
    /// <summary>
    /// Attaches the reference inversion the engine computed to its pool reference, so one reference is inverted once
    /// and reused by every job of that person. A failure here costs only a later projection, never the job.
    /// </summary>
    public async Task CacheLatentAsync(JobSpec spec, IReadOnlyList<ReferenceFace> references, RestorationOutcome restored)
    {
        if (restored.ReferenceLatent is not { } latent || spec.References.PoolName is not { } poolName
            || references.Count == 0 || references[0].Latent is not null)
        {
            return;
        }

        try
        {
            await grains.GetGrain<IReferencePoolGrain>(poolName).AttachLatentAsync(references[0].ReferenceId, latent);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Could not cache the inversion of reference {ReferenceId} in pool {Pool}",
                references[0].ReferenceId, poolName);
        }
    }

    /// <summary>The job's reference faces, and a note for the result when the pool's best match was not good enough.</summary>
    public async Task<(IReadOnlyList<ReferenceFace> Faces, string? Note)> ResolveAsync(JobSpec spec, byte[] input, CancellationToken token)
    {
        var selection = spec.References;
        if (selection.WithoutIdentity)
        {
            return ([], ReferenceSelection.NoReferenceNote);
        }

        if (!selection.ReferencePaths.IsDefaultOrEmpty)
        {
            var explicitFaces = new List<ReferenceFace>();
            foreach (var path in selection.ReferencePaths.Take(selection.MaxReferences))
            {
                explicitFaces.Add(new ReferenceFace(path, await images.GetAsync(path, token), null));
            }

            return (explicitFaces, null);
        }

        var poolName = selection.PoolName!;
        var pool = grains.GetGrain<IReferencePoolGrain>(poolName);
        var person = selection.Person;
        if (person is null)
        {
            var matches = await AcrossFailoverAsync(() => pool.MatchPhotoAsync(input, 1, spec.Framing, spec.Options.Face), token);
            if (matches.IsDefaultOrEmpty)
            {
                throw new InvalidOperationException(
                    $"Pool '{poolName}' has no references to match the face in '{spec.InputPath}': enroll the person first or name them.");
            }

            if (matches[0].Similarity < selection.MatchThreshold)
            {
                var unmatched = $"no one in pool '{poolName}' matches above {selection.MatchThreshold:0.00} " +
                    $"(best: {matches[0].Person} at {matches[0].Similarity:0.00})";
                return selection.SkipUnmatched
                    ? throw new InvalidOperationException($"{unmatched}: skipped, as the album asked. Enroll the person or lower the threshold.")
                    : ([], $"{unmatched}: restored without the identity term");
            }

            person = matches[0].Person;
        }

        var references = await AcrossFailoverAsync(() => pool.ListAsync(person), token);
        if (references.IsDefaultOrEmpty)
        {
            throw new InvalidOperationException($"Pool '{poolName}' has no references for '{person}': enroll some first.");
        }

        var faces = new List<ReferenceFace>();
        foreach (var reference in references.Take(selection.MaxReferences))
        {
            var latent = reference.LatentPath is null ? null : await images.GetAsync(reference.LatentPath, token);
            faces.Add(new ReferenceFace(
                reference.ReferenceId, await images.GetAsync(reference.AlignedFacePath, token), reference.Embedding, latent));
        }

        return (faces, null);
    }

    /// <summary>
    /// Calls a grain on another silo, retrying for a few seconds while a silo failure settles: until the cluster has
    /// declared the silo dead, calls may be forwarded to its activations and rejected, which must not fail the job.
    /// </summary>
    private static async Task<T> AcrossFailoverAsync<T>(Func<Task<T>> call, CancellationToken token)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await call();
            }
            catch (Exception exception) when (tries < 5 && exception is OrleansMessageRejectionException or SiloUnavailableException)
            {
                await Task.Delay(TimeSpan.FromSeconds(tries), token);
            }
        }
    }
}

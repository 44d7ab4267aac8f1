using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Sair.Grains.Ports;
using Sair.Grains.Tenancy;

namespace Sair.Grains.Pools;

[GenerateSerializer, Alias("sair.ReferencePoolState")]
public sealed class ReferencePoolState : IOwnedState
{
    [Id(0)] public List<PoolReference> References { get; set; } = [];

    /// <summary>The tenant the pool belongs to (null on a grid without tenants).</summary>
    [Id(1)] public string? Tenant { get; set; }
}

public sealed class ReferencePoolGrain(
    [PersistentState("pool", GridStorage.Pools)] IPersistentState<ReferencePoolState> pool,
    IFaceAnalyzer analyzer,
    IImageStore images,
    ILogger<ReferencePoolGrain> logger) : Grain, IReferencePoolGrain, IPoolOwnership, ITenantOwned
{
    private string PoolName => this.GetPrimaryKeyString();

    public string? Tenant => pool.State.Tenant;

    public Task<bool> ClaimAsync(string tenant) => Ownership.ClaimAsync(pool, tenant);

    public async Task<PoolReference> EnrollAsync(string person, byte[] photo, FaceFraming framing = FaceFraming.Unaligned)
    {
        if (PoolNames.PoolProblem(PoolName) is { } poolProblem)
        {
            throw new ArgumentException($"Cannot enrol: {poolProblem}.", nameof(person));
        }

        if (PoolNames.PersonProblem(person) is { } personProblem)
        {
            throw new ArgumentException($"Cannot enrol: {personProblem}.", nameof(person));
        }

        if (photo is not { Length: > 0 })
        {
            throw new ArgumentException($"The reference photo for '{person}' is empty.", nameof(photo));
        }

        if (ImageCompleteness.Problem(photo) is { } cutShort)
        {
            throw new ArgumentException($"The reference photo for '{person}' is refused: {cutShort}.", nameof(photo));
        }

        var face = framing switch
        {
            FaceFraming.Unaligned => await analyzer.AnalyzeAsync(photo, FaceChoice.Largest, CancellationToken.None),
            // The engine starts from the reference's aligned face, which must be framed like the generator's faces.
            FaceFraming.Ffhq => new FaceAnalysis(await analyzer.EmbedAlignedAsync(photo, framing, CancellationToken.None), photo),
            _ => throw new ArgumentException(
                $"A reference can be enrolled as an ordinary photo (Unaligned) or an FFHQ-aligned face (Ffhq), not as {framing}: " +
                "the engine restores towards FFHQ-aligned references. Enroll the photo the chip was cut from instead.", nameof(framing)),
        };
        var referenceId = Guid.NewGuid().ToString("N");
        var folder = $"pools/{PoolName}/{referenceId}";
        var reference = new PoolReference(
            referenceId, person, face.Embedding, $"{folder}/photo.png", $"{folder}/aligned.png", DateTimeOffset.UtcNow);

        // Blobs first: state that names a missing blob would be worse than an orphan blob. The tenant's quota counts both.
        await TenantStorage.ReserveAsync(GrainFactory, reference.PhotoPath, photo.LongLength + face.AlignedFacePng.LongLength);
        await images.PutAsync(reference.PhotoPath, photo, CancellationToken.None);
        await images.PutAsync(reference.AlignedFacePath, face.AlignedFacePng, CancellationToken.None);
        pool.State.References.Add(reference);
        pool.State.Tenant ??= TenantContext.Current;
        await pool.WriteStateAsync();
        logger.LogInformation("Pool {Pool}: enrolled reference {ReferenceId} for {Person}", PoolName, referenceId, person);
        return reference;
    }

    public Task<ImmutableArray<PoolReference>> ListAsync(string? person = null) =>
        Task.FromResult(pool.State.References
            .Where(r => person is null || string.Equals(r.Person, person, StringComparison.Ordinal))
            .ToImmutableArray());

    public async Task<int> RemoveAsync(string personOrReferenceId)
    {
        var removed = pool.State.References
            .Where(r => r.ReferenceId == personOrReferenceId || r.Person == personOrReferenceId)
            .ToList();
        if (removed.Count == 0)
        {
            return 0;
        }

        pool.State.References.RemoveAll(removed.Contains);
        await pool.WriteStateAsync();
        foreach (var reference in removed)
        {
            await images.DeleteAsync(reference.PhotoPath, CancellationToken.None);
            await images.DeleteAsync(reference.AlignedFacePath, CancellationToken.None);
            if (reference.LatentPath is not null)
            {
                await images.DeleteAsync(reference.LatentPath, CancellationToken.None);
            }
        }

        return removed.Count;
    }

    public async Task<PoolReference> AttachLatentAsync(string referenceId, byte[] latent)
    {
        var index = pool.State.References.FindIndex(r => r.ReferenceId == referenceId);
        if (index < 0)
        {
            throw new ArgumentException($"Pool '{PoolName}' has no reference '{referenceId}': list the pool for valid ids.", nameof(referenceId));
        }

        if (latent is not { Length: > 0 })
        {
            throw new ArgumentException($"The latent for reference '{referenceId}' is empty.", nameof(latent));
        }

        var reference = pool.State.References[index] with { LatentPath = $"pools/{PoolName}/{referenceId}/latent.bin" };
        await images.PutAsync(reference.LatentPath!, latent, CancellationToken.None);
        pool.State.References[index] = reference;
        await pool.WriteStateAsync();
        return reference;
    }

    public Task<ImmutableArray<PoolMatch>> MatchAsync(float[] embedding, int k)
    {
        if (k < 1)
        {
            throw new ArgumentException($"k is {k}: ask for 1 or more matches.", nameof(k));
        }

        var matches = pool.State.References
            .Select(r => (Reference: r, Similarity: CosineSimilarity(embedding, r.Embedding)))
            .GroupBy(m => m.Reference.Person)
            .Select(g => g.MaxBy(m => m.Similarity))
            .OrderByDescending(m => m.Similarity)
            .Take(k)
            .Select(m => new PoolMatch(m.Reference.Person, m.Similarity, m.Reference.ReferenceId))
            .ToImmutableArray();
        return Task.FromResult(matches);
    }

    public async Task<ImmutableArray<PoolMatch>> MatchPhotoAsync(
        byte[] photo, int k, FaceFraming framing = FaceFraming.Unaligned, FaceChoice face = FaceChoice.Largest)
    {
        var embedding = framing == FaceFraming.Unaligned
            ? (await analyzer.AnalyzeAsync(photo, face, CancellationToken.None)).Embedding
            : await analyzer.EmbedAlignedAsync(photo, framing, CancellationToken.None);
        return await MatchAsync(embedding, k);
    }

    private static double CosineSimilarity(float[] a, float[] b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException(
                $"Embedding length {a.Length} differs from the pool's {b.Length}: embed with the same face analyzer the pool was enrolled with.");
        }

        double dot = 0, normA = 0, normB = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            normA += (double)a[i] * a[i];
            normB += (double)b[i] * b[i];
        }

        return normA == 0 || normB == 0 ? 0 : dot / Math.Sqrt(normA * normB);
    }
}

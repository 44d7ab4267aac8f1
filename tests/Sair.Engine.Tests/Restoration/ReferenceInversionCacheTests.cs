using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

/// <summary>An explicit reference photo is projected once per silo, whatever the number of faces restored against it.</summary>
public sealed class ReferenceInversionCacheTests
{
    [Fact]
    public void The_cache_projects_once_per_photo_and_gives_back_the_projection_it_kept()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var (photoA, photoB) = (TinySair.Render(g, TinySair.RandomWPlus(g, seed: 52)), TinySair.Render(g, TinySair.RandomWPlus(g, seed: 53)));
        var options = new ProjectionOptions { Iterations = 3, PixelSide = 16, IdentityWeight = 0, MeanLatentSamples = 64 };
        using var cache = new ReferenceInversionCache(capacity: 1);

        using var fresh = ReferenceInversion.Project(g, photoA, options);
        using var first = cache.Projected(g, photoA, options);
        using var again = cache.Projected(g, photoA.clone(), options);
        Assert.Equal((1L, 1L), (cache.Hits, cache.Misses));
        Assert.True(first.Latent.allclose(fresh.Latent, 0, 0), "the cache projects as ReferenceInversion.Project does");
        Assert.True(again.Latent.allclose(first.Latent, 0, 0), "a hit gives back the kept projection exactly");

        // Other options or another photo are other keys; with room for one, B pushes A out.
        using var longer = cache.Projected(g, photoA, options with { Iterations = 4 });
        using var other = cache.Projected(g, photoB, options);
        using var afterEviction = cache.Projected(g, photoA, options);
        Assert.Equal((1L, 4L), (cache.Hits, cache.Misses));
        Assert.True(afterEviction.Latent.allclose(first.Latent, 0, 0), "projection is deterministic");

        // Nothing is kept at capacity 0; a negative capacity is refused.
        using var none = new ReferenceInversionCache(capacity: 0);
        using var once = none.Projected(g, photoA, options);
        using var twice = none.Projected(g, photoA, options);
        Assert.Equal((0L, 2L), (none.Hits, none.Misses));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReferenceInversionCache(-1));
    }
}

using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

/// <summary>
/// A restarted silo finds its references' tuned generators and inversions in the reference store instead of computing
/// them again; the store never hands out work done for another prior, drops files it cannot use, and keeps to its budget.
/// </summary>
public sealed class ContentStoreTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"sair-store-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void A_new_tuning_cache_reads_the_tuned_weights_back_instead_of_tuning_and_not_for_another_prior()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var pivot = TinySair.RandomWPlus(g, seed: 61);
        var photo = TinySair.Render(g, TinySair.RandomWPlus(g, seed: 62));
        var options = new PivotalTuningOptions { Steps = 5, LearningRate = 1e-3 };
        var store = new ContentStore(_folder, 64L << 20);

        using (var silo = new PivotalTuningCache(capacity: 2, store))
        {
            using var tuned = silo.Tuned(g, pivot, photo, options);
            Assert.Single(Directory.GetFiles(_folder, "*.safetensors"));
        }

        // "Restarted": a new cache with an empty memory. A cancelled token makes any tuning throw, so a result proves a read.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using var restarted = new PivotalTuningCache(capacity: 2, new ContentStore(_folder, 64L << 20));
        using var fromStore = restarted.Tuned(g, pivot, photo, options, cancellationToken: cancelled.Token);
        using var expected = PivotalTuning.Tune(g, pivot, photo, options);
        Assert.True(TinySair.Render(fromStore, pivot).allclose(TinySair.Render(expected, pivot), 0, 0), "the stored weights are the tuned ones, exactly");
        Assert.Equal(1L, restarted.Store!.Hits);
        using var fromMemory = restarted.Tuned(g, pivot, photo, options, cancellationToken: cancelled.Token);
        Assert.Equal((1L, 1L, 1L), (restarted.Hits, restarted.Misses, restarted.Store.Hits));

        // Another prior of the same configuration and mean latent (one weight changed): its memory key is the same, its
        // store key is not, so it tunes.
        using var other = PivotalTuning.Copy(g);
        using (no_grad())
        {
            other.parameters().First(p => p.dim() == 4).add_(0.01);
        }
        using var otherCache = new PivotalTuningCache(capacity: 2, new ContentStore(_folder, 64L << 20));
        Assert.Throws<OperationCanceledException>(() => otherCache.Tuned(other, pivot, photo, options, cancellationToken: cancelled.Token));
        Assert.Equal(0L, otherCache.Store!.Hits);
    }

    [Fact]
    public void A_file_that_does_not_parse_is_removed_and_the_work_done_again()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var photo = TinySair.Render(g, TinySair.RandomWPlus(g, seed: 63));
        var options = new ProjectionOptions { Iterations = 3, PixelSide = 16, IdentityWeight = 0, MeanLatentSamples = 64 };
        using (var silo = new ReferenceInversionCache(capacity: 4, new ContentStore(_folder, 1L << 20)))
        {
            using var projected = silo.Projected(g, photo, options);
        }
        var file = Assert.Single(Directory.GetFiles(_folder, "*.safetensors"));
        var bytes = File.ReadAllBytes(file);

        // Read back by a restarted silo without projecting (cancelled token), exactly.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using (var restarted = new ReferenceInversionCache(capacity: 4, new ContentStore(_folder, 1L << 20)))
        {
            using var fromStore = restarted.Projected(g, photo, options, cancellationToken: cancelled.Token);
            using var fresh = ReferenceInversion.Project(g, photo, options);
            Assert.True(fromStore.Latent.allclose(fresh.Latent, 0, 0));
        }

        // Truncated on disk: a miss, the file removed, the photo projected again and kept again whole.
        File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
        using (var damaged = new ReferenceInversionCache(capacity: 4, new ContentStore(_folder, 1L << 20)))
        {
            Assert.Throws<OperationCanceledException>(() => damaged.Projected(g, photo, options, cancellationToken: cancelled.Token));
            Assert.False(File.Exists(file));
            using var again = damaged.Projected(g, photo, options);
        }
        Assert.Equal(bytes, File.ReadAllBytes(file));
    }

    [Fact]
    public void The_store_keeps_to_its_budget_removing_the_least_recently_used_first()
    {
        var store = new ContentStore(_folder, budgetBytes: 2500);
        var blob = new byte[1000];
        store.Write("AA", blob);
        store.Write("BB", blob);
        File.SetLastWriteTimeUtc(Path.Combine(_folder, "AA.safetensors"), DateTime.UtcNow.AddMinutes(-2));
        File.SetLastWriteTimeUtc(Path.Combine(_folder, "BB.safetensors"), DateTime.UtcNow.AddMinutes(-1));
        Assert.NotNull(store.Read("AA")); // now the most recently used: BB goes first
        store.Write("CC", blob);
        Assert.Equal(new[] { "AA.safetensors", "CC.safetensors" }, Directory.GetFiles(_folder).Select(f => Path.GetFileName(f)).Order().ToArray());
        Assert.Null(store.Read("BB"));
        Assert.Equal((1L, 1L), (store.Hits, store.Misses));

        // A value larger than the whole budget is not kept (and pushes nothing out); keys are hex digests only.
        store.Write("DD", new byte[3000]);
        Assert.Null(store.Read("DD"));
        Assert.Equal(2, Directory.GetFiles(_folder).Length);
        Assert.Throws<ArgumentException>(() => store.Write("../x", blob));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContentStore(_folder, 0));
    }
}

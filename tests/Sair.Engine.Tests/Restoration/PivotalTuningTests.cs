using Sair.Engine.IO;
using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

public sealed class PivotalTuningTests
{
    [Fact]
    public void Tuning_makes_the_pivot_draw_the_photo_and_leaves_the_prior_alone()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var before = StateDictLoader.Entries(g).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var pivot = TinySair.RandomWPlus(g, seed: 21);
        // A photo the prior cannot draw at the pivot: another latent's face.
        var photo = TinySair.Render(g, TinySair.RandomWPlus(g, seed: 22));

        using var tuned = PivotalTuning.Tune(g, pivot, photo, new PivotalTuningOptions { Steps = 60, LearningRate = 1e-3 });

        var untunedPsnr = TinySair.Psnr(TinySair.Render(g, pivot), photo);
        var tunedPsnr = TinySair.Psnr(TinySair.Render(tuned, pivot), photo);
        Assert.True(tunedPsnr > untunedPsnr + 3, $"PSNR of G(pivot) to the photo: {untunedPsnr:F1} dB before, {tunedPsnr:F1} dB after tuning");
        foreach (var (name, value) in StateDictLoader.Entries(g))
        {
            Assert.True(value.allclose(before[name], 0, 0), $"tuning changed the prior's {name}");
        }
        // The mapping network is not tuned (w is held fixed), the synthesis is; nothing of the copy is left trainable.
        var tunedEntries = StateDictLoader.Entries(tuned).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.All(before.Where(kv => kv.Key.StartsWith("style.", StringComparison.Ordinal)), kv => Assert.True(tunedEntries[kv.Key].allclose(kv.Value, 0, 0)));
        Assert.Contains(before, kv => kv.Key.StartsWith("convs.", StringComparison.Ordinal) && !tunedEntries[kv.Key].allclose(kv.Value, 0, 0));
        Assert.All(tuned.parameters(), p => Assert.False(p.requires_grad));
        Assert.All(tuned.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void A_restoration_with_tuning_follows_the_reference_and_needs_its_photo()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var pivot = TinySair.RandomWPlus(g, seed: 31);
        var photo = TinySair.Render(g, TinySair.RandomWPlus(g, seed: 32));
        var y = TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 32), scale: 4);
        var options = TinySair.Nothing(1) with { DataWeight = 1, LearningRate = 0 };
        var tuning = options with { PivotalTuning = new PivotalTuningOptions { Steps = 60, LearningRate = 1e-3 } };
        var restorer = new SairRestorer(g);

        // One step at learning rate 0 renders the start latent: through the tuned generator it is the reference photo.
        using var plain = restorer.Restore(y, ReferenceInput.FromLatent(pivot, photo), options);
        using var tuned = restorer.Restore(y, ReferenceInput.FromLatent(pivot, photo), tuning);
        Assert.True(TinySair.Psnr(tuned.Image, photo) > TinySair.Psnr(plain.Image, photo) + 3);
        Assert.NotEqual(options.Fingerprint(), tuning.Fingerprint());

        var error = Assert.Throws<ArgumentException>(() => restorer.Restore(y, ReferenceInput.FromLatent(pivot), tuning));
        Assert.Contains("reference photo", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { PivotalTuning = new PivotalTuningOptions { Steps = -1 } }).Validate());
    }

    [Fact]
    public void The_cache_tunes_once_per_reference_and_hands_out_a_generator_per_call()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var pivot = TinySair.RandomWPlus(g, seed: 41);
        var (photoA, photoB) = (TinySair.Render(g, TinySair.RandomWPlus(g, seed: 42)), TinySair.Render(g, TinySair.RandomWPlus(g, seed: 43)));
        var options = new PivotalTuningOptions { Steps = 5, LearningRate = 1e-3 };
        using var cache = new PivotalTuningCache(capacity: 1);

        using var first = cache.Tuned(g, pivot, photoA, options);
        using var again = cache.Tuned(g, pivot, photoA.clone(), options);
        Assert.Equal((1L, 1L), (cache.Hits, cache.Misses));
        Assert.NotSame(first, again);
        Assert.True(TinySair.Render(first, pivot).allclose(TinySair.Render(again, pivot), 0, 0));

        // Other options or another photo are other keys; with room for one, B pushes A out.
        using var longer = cache.Tuned(g, pivot, photoA, options with { Steps = 6 });
        using var other = cache.Tuned(g, pivot, photoB, options);
        using var afterEviction = cache.Tuned(g, pivot, photoA, options);
        Assert.Equal((1L, 4L), (cache.Hits, cache.Misses));
        Assert.True(TinySair.Render(first, pivot).allclose(TinySair.Render(afterEviction, pivot), 0, 0), "tuning is deterministic");
        Assert.Throws<ArgumentOutOfRangeException>(() => new PivotalTuningCache(-1));
    }
}

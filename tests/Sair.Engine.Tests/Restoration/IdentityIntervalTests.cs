using Sair.Engine.FaceNets.Identity;
using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

/// <summary>SairOptions.IdentityInterval: the identity net every k iterations, its first-order expansion in between.</summary>
public sealed class IdentityIntervalTests
{
    [Fact]
    public void Where_the_net_runs_the_expansion_is_exact_and_in_between_the_net_is_not_called()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var net = new TinyIdentityNetwork();
        var counting = new CountingIdentity(net);
        var start = TinySair.RandomWPlus(g, seed: 131);
        var photo = TinySair.Render(g, TinySair.RandomWPlus(g, seed: 132));
        var y = TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 133), scale: 4);
        var options = TinySair.Nothing(9) with { DataWeight = 1, IdentityWeight = 1, LearningRate = 0.05 };

        using var every = new SairRestorer(g, counting).Restore(y, ReferenceInput.FromLatent(start, photo), options);
        var callsEvery = counting.Calls;
        counting.Calls = 0;
        using var third = new SairRestorer(g, counting).Restore(y, ReferenceInput.FromLatent(start, photo), options with { IdentityInterval = 3 });

        // The reference photo once, the final image once, and the net at iterations 0, 3 and 6 instead of all 9 (no
        // checkpoints in this run).
        Assert.Equal(2 + 9, callsEvery);
        Assert.Equal(2 + 3, counting.Calls);
        // Iteration 0 starts from the same latent, where the expansion is the net's own value and gradient: the same
        // terms and the same first step (up to the order in which the two gradients are summed).
        Assert.Equal(every.History[0].Terms[LossTerms.Identity], third.History[0].Terms[LossTerms.Identity], 1e-6);
        using var oneStep = new SairRestorer(g, net).Restore(y, ReferenceInput.FromLatent(start, photo), options with { Iterations = 1 });
        using var oneStepExpanded = new SairRestorer(g, net).Restore(y, ReferenceInput.FromLatent(start, photo), options with { Iterations = 1, IdentityInterval = 3 });
        var gap = (oneStep.Latent - oneStepExpanded.Latent).abs().max().item<float>();
        Assert.True(gap < 1e-5, $"the first step differs by {gap}");
        // In between, the expansion tracks the net: the run still raises the similarity to the reference.
        var atStart = 1 - third.History[0].Terms[LossTerms.Identity];
        Assert.True(third.IdentitySimilarity > atStart, $"similarity {third.IdentitySimilarity} after, {atStart} at the start");
        // The paper's setting keeps its fingerprint (old checkpoints resume); another interval is another run.
        Assert.Equal(options.Fingerprint(), (options with { IdentityInterval = 1 }).Fingerprint());
        Assert.NotEqual(options.Fingerprint(), (options with { IdentityInterval = 3 }).Fingerprint());
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { IdentityInterval = 0 }).Validate());
    }

    [Fact]
    public void A_run_resumed_from_a_checkpoint_between_two_runs_of_the_net_ends_as_the_uninterrupted_one()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var net = new TinyIdentityNetwork();
        var start = TinySair.RandomWPlus(g, seed: 141);
        var photo = TinySair.Render(g, TinySair.RandomWPlus(g, seed: 142));
        var y = TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 143), scale: 4);
        // Checkpoints at 5 and 10, the net every 3: iteration 5 is no multiple of 3.
        var options = TinySair.Nothing(12) with { DataWeight = 1, IdentityWeight = 1, IdentityInterval = 3, CheckpointInterval = 5, LearningRate = 0.05 };
        var restorer = new SairRestorer(g, net);
        var saved = new List<byte[]>();

        using var whole = restorer.Restore(y, ReferenceInput.FromLatent(start, photo), options, onCheckpoint: c =>
        {
            using (c)
            {
                saved.Add(c.ToBytes());
            }
        });
        using var checkpoint = RestorationCheckpoint.FromBytes(saved[0]);
        Assert.Equal(5, checkpoint.NextIteration);
        using var resumed = restorer.Restore(y, ReferenceInput.FromLatent(start, photo), options, resumeFrom: checkpoint);

        Assert.True(whole.Latent.allclose(resumed.Latent, rtol: 0, atol: 0), "the resumed run's latent differs");
        Assert.Equal(whole.History.Select(r => r.Total), resumed.History.Select(r => r.Total));
    }

    /// <summary>Counts calls of <see cref="Embed"/>.</summary>
    private sealed class CountingIdentity(IIdentityNetwork inner) : IIdentityNetwork
    {
        public int Calls { get; set; }

        public string Name => inner.Name;

        public int EmbeddingSize => inner.EmbeddingSize;

        public Tensor Embed(Tensor rgb01)
        {
            Calls++;
            return inner.Embed(rgb01);
        }

        public Tensor Similarity(Tensor a, Tensor b) => inner.Similarity(a, b);

        public void Dispose()
        {
        }
    }
}

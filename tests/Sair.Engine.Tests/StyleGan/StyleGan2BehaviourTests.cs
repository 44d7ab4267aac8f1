using Sair.Engine.StyleGan;
using TorchSharp;
using static Sair.Engine.Tests.StyleGan.StyleGan2Fixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.StyleGan;

/// <summary>What the oracle cannot pin down: random noise, batch independence, gradients, the mean latent.</summary>
public sealed class StyleGan2BehaviourTests
{
    private const string Config = "s16_sd32_m2_cm1_div16";

    [Fact]
    public void Fresh_noise_differs_per_call_and_per_sample_fixed_noise_does_not()
    {
        using var g = LoadGenerator(Config);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = Npy(Config, "input_wplus.npy");
        var pair = cat([w, w]);

        var fixedA = g.forward(pair);
        var fixedB = g.forward(pair);
        Assert.True(fixedA.allclose(fixedB, rtol: 0, atol: 0));
        Assert.True(MaxDiff(fixedA[0], fixedA[1]) < 1e-6, "the stored noise is shared by the batch");

        g.RandomizeNoise = true;
        var randomA = g.forward(pair);
        var randomB = g.forward(pair);
        Assert.True(MaxDiff(randomA, randomB) > 1e-3, "two forwards with fresh noise must differ");
        Assert.True(MaxDiff(randomA[0], randomA[1]) > 1e-3, "each sample must get its own noise");
        Assert.True(MaxDiff(randomA, fixedA) > 1e-3);
        var overridden = g.Synthesis(pair, randomizeNoise: false);
        Assert.True(overridden.allclose(fixedA, rtol: 0, atol: 0), "the argument overrides the property");
    }

    [Theory]
    [InlineData(ModulationMode.ScaledActivations)]
    [InlineData(ModulationMode.GroupedWeights)]
    public void Batch_items_are_independent(ModulationMode mode)
    {
        using var g = LoadGenerator(Config);
        g.Modulation = mode;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = Npy(Config, "input_wplus_b2.npy");
        var third = batch[1].mul(-0.5).unsqueeze(0);
        var triple = cat([batch, third]);

        var together = g.forward(triple);
        for (var i = 0; i < 3; i++)
        {
            var alone = g.forward(triple.narrow(0, i, 1));
            AssertClose(alone, together.narrow(0, i, 1), $"sample {i} of a batch of 3");
        }
    }

    [Theory]
    [InlineData(ModulationMode.ScaledActivations)]
    [InlineData(ModulationMode.GroupedWeights)]
    public void Gradient_reaches_the_latent_and_matches_finite_differences(ModulationMode mode)
    {
        using var g = LoadGenerator(Config);
        g.Modulation = mode;
        g.to(ScalarType.Float64);
        foreach (var p in g.parameters())
        {
            p.requires_grad_(false);
        }
        using var scope = NewDisposeScope();
        var rng = new torch.Generator(7);
        var weights = randn([1, 3, 16, 16], dtype: ScalarType.Float64, generator: rng);
        var w0 = Npy(Config, "input_wplus.npy").to(ScalarType.Float64);

        double Loss(Tensor w) => g.forward(w).mul(weights).sum().item<double>();

        var w = w0.clone().requires_grad_(true);
        g.forward(w).mul(weights).sum().backward();
        var grad = w.grad!;
        Assert.True(grad.abs().sum().item<double>() > 0, "every latent row must receive gradient");
        Assert.All(Enumerable.Range(0, g.NLatent), row => Assert.True(grad[0, row].abs().sum().item<double>() > 0, $"row {row}"));

        const double h = 1e-6;
        foreach (var (row, col) in new[] { (0, 3), (4, 17), (5, 31) })
        {
            using var noGrad = no_grad();
            var plus = w0.clone();
            plus[0, row, col] += h;
            var minus = w0.clone();
            minus[0, row, col] -= h;
            var numeric = (Loss(plus) - Loss(minus)) / (2 * h);
            var analytic = grad[0, row, col].item<double>();
            Assert.True(Math.Abs(numeric - analytic) <= 1e-6 * Math.Max(1, Math.Abs(analytic)),
                $"d loss / d w[{row},{col}]: analytic {analytic}, finite difference {numeric}");
        }
    }

    [Fact]
    public void Mean_latent_approaches_the_stored_average_and_feeds_truncation()
    {
        using var g = LoadGenerator(Config);
        using var scope = NewDisposeScope();
        var stored = g.LatentAvg!.clone();
        var mean = g.MeanLatent(4096, new torch.Generator(11));
        Assert.Equal(new long[] { 32 }, mean.shape);
        // The fixture's latent_avg is the mean of 4096 other samples: close, not equal.
        var gap = MaxDiff(mean, stored);
        Assert.InRange(gap, 1e-6, 0.1 * stored.abs().max().ToDouble() + 0.05);

        g.LatentAvg = mean;
        var w = g.Mapping(Npy(Config, "input_z.npy"));
        Assert.True(g.Truncate(w, 0).allclose(mean.unsqueeze(0)), "ψ = 0 gives the average");
        g.LatentAvg = null;
        Assert.Throws<InvalidOperationException>(() => g.Truncate(w, 0.7));
        Assert.Throws<ArgumentException>(() => g.forward(w));
    }

    [Fact]
    public void Generator_built_inside_a_dispose_scope_survives_it()
    {
        StyleGan2Generator g;
        using (NewDisposeScope())
        {
            g = LoadGenerator(Config);
        }
        using (g)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            AssertClose(Npy(Config, "out_img_wplus.npy"), g.forward(Npy(Config, "input_wplus.npy")), "after the scope");
        }
    }

    [Fact]
    public void Stopping_at_a_side_returns_that_skip_image_of_the_full_synthesis_and_refuses_other_sides()
    {
        using var g = LoadGenerator(Config);
        using var scope = NewDisposeScope();
        var w = Npy(Config, "input_wplus.npy");
        var skips = new List<Tensor>();
        Tensor full;
        using (no_grad())
        {
            full = g.Synthesis(w, randomizeNoise: false, skips: skips);
        }
        Assert.Equal([4L, 8, 16], skips.Select(s => s.shape[2]));
        foreach (var skip in skips)
        {
            var side = (int)skip.shape[2];
            var latent = w.clone().requires_grad_(true);
            var stopped = g.Synthesis(latent, randomizeNoise: false, maxSide: side);
            Assert.Equal(skip.shape, stopped.shape);
            Assert.Equal(0, MaxDiff(skip, stopped.detach()));
            stopped.square().mean().backward();
            Assert.True(latent.grad!.abs().sum().ToDouble() > 0, $"the gradient reaches w from the {side} px skip image");
        }
        Assert.Equal(0, MaxDiff(full, skips[^1]));
        foreach (var bad in new[] { 2, 12, 32 })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => g.Synthesis(w, maxSide: bad));
        }
    }

    private static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().ToDouble();
}

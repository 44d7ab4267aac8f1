using Sair.Engine.Objective;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Objective;

public sealed class HistogramLossTests
{
    [Fact]
    public void Operands_are_resized_like_the_official_code()
    {
        using var scope = NewDisposeScope();
        AssertMatches(HistogramLoss.ToComparisonSize(Shared("bicubic_f32_input.npy")), "hist_gen256.npy");
        AssertMatches(HistogramLoss.ToComparisonSize(Load("hist_lr32.npy")), "hist_ref256.npy");
    }

    [Theory]
    [InlineData("mask01", 1f)]
    [InlineData("mask255", 255f)]
    public void Emd_and_gradient_match_the_official_loss(string variant, float maskValue)
    {
        // The 0/255 variant reproduces the official code's mask defect; it is tested to show the port is exact
        // even where the official numbers are degenerate. The engine itself passes a 0/1 mask.
        using var scope = NewDisposeScope();
        var generated = Load("hist_gen256.npy").requires_grad_(true);
        var reference = Load("hist_ref256.npy");
        var mask = Load("hist_mask01.npy") * maskValue;
        var emd = HistogramLoss.Compute(generated, reference, mask);
        AssertScalar(emd.item<float>(), $"hist_{variant}_emd");
        AssertScalar(emd.item<float>() * HistogramLoss.OfficialWeight, $"hist_{variant}_weighted");

        emd.backward();
        AssertMatches(generated.grad!, $"hist_{variant}_grad_gen256.npy");
        Assert.Equal(Scalar($"hist_{variant}_grad_nonzero_count"), generated.grad!.count_nonzero().item<long>());
    }

    [Theory]
    [InlineData("gen", "hist_gen256.npy")]
    [InlineData("ref", "hist_ref256.npy")]
    public void Float32_edge_effects_drop_exactly_the_official_samples(string which, string file)
    {
        // Masked-out zeros and samples within ~6e-6 of a bin edge are counted in no bin (README of the fixtures).
        using var scope = NewDisposeScope();
        var masked = Load(file) * Load("hist_mask01.npy");
        var yuv = HistogramLoss.ToYuv(masked);
        var (_, responses) = HistogramLoss.BinResponses(((yuv + 1) / 2).reshape(3, -1));
        var counted = responses.gt(0).sum(1);
        var channels = new[] { "Y", "U", "V" };
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(Scalar($"hist_mask01_{which}_counted_per_channel_{channels[c]}"), counted[c].item<long>());
        }
    }

    [Fact]
    public void Sparse_evaluation_equals_the_dense_256_bin_evaluation()
    {
        // The dense form: every sample against every bin centre, with the same float32 steps.
        using var scope = NewDisposeScope();
        var values = (rand(2, 3000, generator: new Generator(7)) * 1.3 - 0.15).to(ScalarType.Float32);
        var (bins, responses) = HistogramLoss.BinResponses(values);
        var sparse = zeros(2, HistogramLoss.Bins).scatter_add(1, bins, responses);

        var edges = Enumerable.Range(0, 257).Select(j => j * (1.1 / 256) + -0.05).ToArray();
        var half = (edges[2] - edges[1]) / 2;
        var centers = tensor(edges.Take(256).Select(e => (float)(e + half)).ToArray()).reshape(1, 256, 1);
        var t = (float)half - (values.unsqueeze(1) - centers).abs();
        var dense = nn.functional.threshold(full_like(t, 1.01f).pow(t), 1, 0).sum(2);
        AssertClose(sparse, dense, (1e-4, 1e-6), "histogram");
        Assert.True(sparse.sum().item<float>() > 5000, "most samples are counted");
    }

    [Fact]
    public void Batches_average_the_per_image_losses()
    {
        using var scope = NewDisposeScope();
        var gen = Load("hist_gen256.npy")[.., .., 64..128, 64..128];
        var refImage = Load("hist_ref256.npy")[.., .., 64..128, 64..128];
        var single = HistogramLoss.Emd(gen, refImage).item<float>();
        var batch = HistogramLoss.Emd(cat([gen, refImage], 0), cat([refImage, refImage], 0)).item<float>();
        Assert.True(single > 0);
        Assert.Equal(single / 2, batch, single * 1e-6);
    }

    [Fact]
    public void Float64_inputs_are_refused_because_the_official_numbers_need_float32()
    {
        using var x = zeros(1, 3, 8, 8, dtype: ScalarType.Float64);
        Assert.Contains("float32", Assert.Throws<ArgumentException>(() => HistogramLoss.Emd(x, x)).Message);
    }

    [Fact]
    public void Non_finite_samples_never_become_bin_indices()
    {
        using var scope = NewDisposeScope();
        var refImage = Load("hist_ref256.npy")[.., .., 64..128, 64..128];
        var broken = refImage.clone();
        broken[0, 0, 2, 3] = tensor(float.NaN);
        broken[0, 1, 4, 4] = tensor(float.PositiveInfinity);
        broken[0, 2, 6, 1] = tensor(float.NegativeInfinity);
        var mask = ones(1, 1, 64, 64);

        var (bins, _) = HistogramLoss.BinResponses(broken.reshape(3, -1));
        Assert.True(bins.min().item<long>() >= 0 && bins.max().item<long>() < HistogramLoss.Bins);
        Assert.True(float.IsNaN(HistogramLoss.Compute(broken, refImage, mask).item<float>()));
        var infinite = refImage.clone();
        infinite[0, 1, 4, 4] = tensor(float.PositiveInfinity);
        Assert.True(float.IsFinite(HistogramLoss.Compute(infinite, refImage, mask).item<float>()), "±∞ lies outside every bin");
    }
}

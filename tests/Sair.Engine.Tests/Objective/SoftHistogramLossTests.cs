using Sair.Engine.Objective;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Objective;

public sealed class SoftHistogramLossTests
{
    [Fact]
    public void Identical_inputs_give_zero_and_shifted_colours_give_more_with_a_gradient()
    {
        using var scope = NewDisposeScope();
        var image = Load("hist_ref256.npy")[.., .., 96..160, 96..160].clamp(0, 1);
        var mask = Load("hist_mask01.npy")[.., .., 96..160, 96..160];
        Assert.True(mask.mean().item<float>() > 0.9f, "the crop lies inside the face mask");
        var loss = new SoftHistogramLoss();
        Assert.Equal(0, loss.Compute(image, image, mask).item<float>(), 7);

        var small = loss.Compute((image + 0.03).clamp(0, 1), image).item<float>();
        var large = loss.Compute((image + 0.15).clamp(0, 1), image).item<float>();
        Assert.True(small > 1e-3, $"a shift of 0.03 gives {small}");
        Assert.True(large > 2 * small, $"a shift of 0.15 gives {large}, vs {small} for 0.03");

        var generated = (image * 0.8).detach().requires_grad_(true);
        loss.Compute(generated, image, mask).backward();
        Assert.True(generated.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Masked_out_pixels_do_not_count()
    {
        using var scope = NewDisposeScope();
        var image = Load("hist_ref256.npy")[.., .., 96..160, 96..160].clamp(0, 1);
        var mask = zeros(1, 1, 64, 64);
        mask[.., .., ..32] = ones(1, 1, 32, 64);
        var altered = image.clone();
        altered[.., .., 32..] = zeros(1, 3, 32, 64);
        var loss = new SoftHistogramLoss();
        Assert.Equal(0, loss.Compute(altered, image, mask).item<float>(), 6);
        Assert.True(loss.Compute(altered, image).item<float>() > 1e-2);
    }

    [Theory]
    [InlineData(0.625f, 0.5f)]
    [InlineData(0.3f, 0.71f)]
    [InlineData(0.2f, 0.2f)]
    public void Between_the_outer_bin_centres_the_loss_is_the_exact_Wasserstein_distance(float a, float b)
    {
        // Linear (triangular) binning keeps a point mass's mean exact, so two uniform images are |a − b| apart.
        using var scope = NewDisposeScope();
        var loss = new SoftHistogramLoss(bins: 16);
        var x = full(new long[] { 1, 3, 4, 4 }, a).requires_grad_(true);
        var y = full(new long[] { 1, 3, 4, 4 }, b);
        var value = loss.Compute(x, y);
        Assert.Equal(Math.Abs(a - b), value.item<float>(), 5);
        if (a != b)
        {
            value.backward();
            Assert.True(x.grad!.abs().sum().item<float>() > 0, "the loss must move the pixels");
        }
    }

    [Fact]
    public void Non_finite_pixels_give_a_non_finite_loss_never_an_index_error()
    {
        using var scope = NewDisposeScope();
        var image = Load("hist_ref256.npy")[.., .., 96..160, 96..160].clamp(0, 1);
        var broken = image.clone();
        broken[0, 1, 5, 7] = tensor(float.NaN);
        broken[0, 2, 9, 9] = tensor(float.NegativeInfinity);
        var loss = new SoftHistogramLoss();

        Assert.True(float.IsNaN(loss.Compute(broken, image).item<float>()));
        Assert.True(float.IsNaN(loss.Compute(image, broken, ones(1, 1, 64, 64)).item<float>()));
        var infinite = image.clone();
        infinite[0, 0, 3, 3] = tensor(float.PositiveInfinity);
        Assert.True(float.IsFinite(loss.Compute(infinite, image).item<float>()), "±∞ lands in the end bins like any value beyond them");
    }
}

using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

public sealed class RestorationInputTests
{
    private static string Fails(Tensor y, ReferenceInput? reference = null, SairOptions? options = null)
    {
        using var g = TinySair.LoadGenerator();
        using var start = TinySair.MeanWPlus(g);
        var error = Assert.ThrowsAny<ArgumentException>(() =>
            new SairRestorer(g).Restore(y, reference ?? ReferenceInput.FromLatent(start), options ?? SairOptions.Paper().ForAblation(AblationStage.DataOnly) with { Iterations = 1 }));
        return error.Message;
    }

    [Fact]
    public void Y_larger_than_the_generator_output_is_refused() =>
        Assert.Contains("larger than the generator", Fails(full([1, 3, 128, 128], 0.5f)));

    [Fact]
    public void Y_side_not_dividing_the_generator_side_is_refused() =>
        Assert.Contains("does not divide", Fails(full([1, 3, 24, 24], 0.5f)));

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Y_without_three_channels_is_refused(int channels) =>
        Assert.Contains($"{channels} channel", Fails(full([1, channels, 16, 16], 0.5f)));

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Y_with_non_finite_pixels_is_refused(float bad)
    {
        var y = full([1, 3, 16, 16], 0.5f);
        y[0, 1, 3, 4] = tensor(bad);
        Assert.Contains("NaN or infinite", Fails(y));
    }

    [Fact]
    public void Y_in_bytes_range_is_refused() =>
        Assert.Contains("[0, 1]", Fails(full([1, 3, 16, 16], 200f)));

    [Fact]
    public void An_empty_reference_is_refused()
    {
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => ReferenceInput.FromLatent(zeros(0))).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => ReferenceInput.FromPhoto(zeros(1, 3, 0, 0))).Message);
    }

    [Fact]
    public void A_reference_latent_for_another_generator_is_refused() =>
        Assert.Contains("another generator", Fails(full([1, 3, 16, 16], 0.5f), ReferenceInput.FromLatent(zeros(1, 18, 512))));

    [Fact]
    public void Terms_without_their_network_are_refused()
    {
        var y = full([1, 3, 16, 16], 0.5f);
        Assert.Contains("IIdentityNetwork", Fails(y, options: SairOptions.Paper() with { EmotionWeight = 0, HistogramWeight = 0 }));
        Assert.Contains("ILandmarkDetector", Fails(y, options: SairOptions.Paper() with { EmotionWeight = 0, IdentityWeight = 0 }));
        Assert.Contains("EmotionDirections", Fails(y, options: SairOptions.Paper() with { HistogramWeight = 0, IdentityWeight = 0 }));
    }
}

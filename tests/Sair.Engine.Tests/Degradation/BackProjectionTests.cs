using Sair.Engine.Degradation;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Degradation;

public sealed class BackProjectionTests
{
    [Theory]
    [InlineData(4, null)]
    [InlineData(2, 1.0)]
    public void Five_steps_bring_the_downscale_of_a_wrong_image_onto_Y(int scale, double? blurSigma)
    {
        using var scope = NewDisposeScope();
        var options = new DegradationOptions(scale, blurSigma);
        using var down = new DegradationOperator(options);
        using var generator = new Generator(3);
        var truth = rand([1, 3, 64, 64], generator: generator);
        var y = down.forward(truth);
        // A restoration with the wrong low frequencies: another image's smooth layout plus the truth's detail.
        var layout = nn.functional.interpolate(rand([1, 3, 8, 8], generator: generator), size: [64, 64], mode: InterpolationMode.Bilinear);
        var wrong = (truth * 0.6 + layout * 0.4).clamp(0, 1);

        var before = (down.forward(wrong) - y).abs().mean().item<float>();
        var after = (down.forward(BackProjection.Apply(wrong, y, options, 5)) - y).abs().mean().item<float>();

        Assert.True(after < before / 10, $"mean |D(x) − Y| went from {before} to {after}, less than a 10× cut");
    }

    [Fact]
    public void An_image_that_already_explains_Y_is_left_as_it_is_and_none_is_clamped_out_of_range()
    {
        using var scope = NewDisposeScope();
        var options = new DegradationOptions(4);
        using var down = new DegradationOperator(options);
        using var generator = new Generator(5);
        var x = rand([1, 3, 64, 64], generator: generator).mul(0.8).add(0.1);
        var y = down.forward(x);

        var result = BackProjection.Apply(x, y, options, 5);

        Assert.True((result - x).abs().max().item<float>() < 1e-4, "a consistent image moved");
        Assert.Equal(0, BackProjection.Apply(x, y, options, 0).sub(x).abs().max().item<float>());
    }

    [Fact]
    public void Y_of_the_wrong_size_is_refused_with_both_sizes()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => BackProjection.Apply(zeros(1, 3, 64, 64), zeros(1, 3, 32, 32), new DegradationOptions(4), 5));

        Assert.Contains("64×64", error.Message);
        Assert.Contains("128×128", error.Message);
    }
}

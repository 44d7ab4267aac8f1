using Sair.Engine.Degradation;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Degradation;

public sealed class BicubicDownsampleTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(32)]
    public void Taps_match_the_official_kernel(int factor)
    {
        using var op = new BicubicDownsample(factor);
        using var taps = tensor(op.Taps.ToArray());
        Assert.Equal(4 * factor, op.Taps.Count);
        AssertMatches(taps, $"bicubic_f{factor}_taps.npy");
        using var listed = tensor(ScalarList($"bicubic_f{factor}_taps_list"));
        AssertClose(taps, listed, ScalarTolerance($"bicubic_f{factor}_taps_list"), "taps list");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(32)]
    public void Output_and_gradient_match_the_official_operator(int factor)
    {
        using var scope = NewDisposeScope();
        var name = $"bicubic_f{factor}";
        var input = (factor == 32 ? Shared($"{name}_input.npy") : Load($"{name}_input.npy")).detach().requires_grad_(true);
        using var op = new BicubicDownsample(factor);
        var output = op.forward(input);
        AssertMatches(output, $"{name}_output.npy");

        (output * Load($"{name}_G.npy")).sum().backward();
        AssertMatches(input.grad!, $"{name}_grad_input.npy");
    }

    [Fact]
    public void Batches_are_downsampled_image_by_image()
    {
        using var scope = NewDisposeScope();
        var input = Load("bicubic_f4_input.npy");
        var batch = cat([input, input.flip(3)], 0);
        using var op = new BicubicDownsample(4);
        var output = op.forward(batch);
        AssertMatches(output[0..1], "bicubic_f4_output.npy");
        Assert.True(output[1].sub(output[0]).abs().max().item<float>() > 1e-3, "the second image is a different image");
        AssertClose(output[1..2], op.forward(input.flip(3)), (1e-7, 0), "second image of the batch");
    }

    [Fact]
    public void Sizes_not_divisible_by_the_factor_are_refused_with_advice()
    {
        using var op = new BicubicDownsample(4);
        using var x = zeros(1, 3, 30, 32);
        var e = Assert.Throws<ArgumentException>(() => op.forward(x));
        Assert.Contains("divisible by 4", e.Message);
    }
}

using Sair.Engine.Degradation;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Degradation;

public sealed class GaussianBlurTests
{
    [Fact]
    public void Gaussian_kernel_is_normalised_symmetric_and_three_sigma_wide()
    {
        using var k = GaussianBlur.GaussianKernel(1.2);
        Assert.Equal(new long[] { 9, 9 }, k.shape);
        Assert.Equal(1, k.sum().item<float>(), 5);
        Assert.Equal(0, (k - k.flip(0)).abs().max().item<float>());
        Assert.Equal(0, (k - k.t()).abs().max().item<float>());
        // Ratio of the centre to its neighbour is exp(1/(2σ²)) per axis.
        Assert.Equal(Math.Exp(1 / (2 * 1.44)), k[4, 4].item<float>() / k[4, 5].item<float>(), 4);
    }

    [Fact]
    public void A_user_kernel_is_convolved_not_correlated()
    {
        using var scope = NewDisposeScope();
        var kernel = tensor(new float[] { 0, 0.1f, 0, 0.2f, 0.3f, 0, 0, 0, 0.4f }).reshape(3, 3);
        var impulse = zeros(2, 3, 9, 9);
        impulse[.., .., 4, 4] = ones(2, 3);
        using var blur = new GaussianBlur(kernel);
        var output = blur.forward(impulse);
        // The response of a convolution to an impulse is the kernel itself, not its mirror image.
        AssertClose(output[1, 2, 3..6, 3..6], kernel, (1e-7, 0), "impulse response");
        Assert.Equal(1, output.sum().item<float>() / 6, 5);
    }

    [Fact]
    public void Constant_images_stay_constant_and_noise_is_smoothed_with_a_gradient()
    {
        using var scope = NewDisposeScope();
        using var blur = new GaussianBlur(1.5);
        var grey = full(1, 3, 16, 16, 0.4f);
        AssertClose(blur.forward(grey), grey, (1e-6, 0), "constant image");

        var noisy = Load("jpeg_input.npy").requires_grad_(true);
        var smoothed = blur.forward(noisy);
        Assert.True(smoothed.diff(dim: 3).abs().mean().item<float>() < 0.5f * noisy.detach().diff(dim: 3).abs().mean().item<float>());
        smoothed.sum().backward();
        Assert.Equal(3 * 32 * 32, noisy.grad!.sum().item<float>(), 1);
    }

    [Fact]
    public void Bad_kernels_and_sigmas_are_refused()
    {
        using var even = ones(4, 4);
        Assert.Throws<ArgumentException>(() => new GaussianBlur(even));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianBlur(0.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianBlur(double.NaN));
    }
}

using Sair.Engine.FaceNets;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets;

/// <summary>
/// The nets are used as losses on generated images, so gradients must reach the input pixels. Each check runs a
/// separately loaded net in float64 and compares the backpropagated directional derivative of a random linear
/// read-out with a central finite difference.
/// </summary>
public sealed class FaceNetGradientTests
{
    [Fact]
    public void Recognition_gradient_reaches_the_pixels()
    {
        using var net = FaceRecognitionNet.Load(InstalledFaceModels.Locator);
        CheckGradient(net.forward, "John_Simm_000288_00470387", "faceapi_input150", net);
    }

    [Fact]
    public void Expression_gradient_reaches_the_pixels()
    {
        using var net = FaceExpressionNet.Load(InstalledFaceModels.Locator);
        CheckGradient(net.forward, "John_Salley_000179_02159509", "faceapi_input112", net);
    }

    [Fact]
    public void Landmark_gradient_reaches_the_pixels()
    {
        using var net = FaceLandmark68Net.Load(InstalledFaceModels.Locator);
        CheckGradient(net.forward, "Obama_o1", "faceapi_input112", net);
    }

    [Fact]
    public void FaceRes_gradient_reaches_the_pixels()
    {
        using var net = FaceResNet.Load(InstalledFaceModels.Locator);
        CheckGradient(net.forward, "John_Simm_000297_00470170", "faceres_input", net);
    }

    [Fact]
    public void Emotion_gradient_reaches_the_pixels()
    {
        using var net = HumanEmotionNet.Load(InstalledFaceModels.Locator);
        CheckGradient(net.forward, "Obama_o1", "emotion_input", net);
    }

    private static void CheckGradient(Func<Tensor, Tensor> f, string id, string inputKey, nn.Module net)
    {
        net.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        var generator = new Generator(20251125);
        // Flat image regions give exactly tied max-pool windows, where the net has no derivative; a little
        // noise moves the check to a generic point next to the real face.
        var image = FaceNetFixtures.InputNchw(id, inputKey).to(ScalarType.Float64);
        var x0 = image + rand(image.shape, dtype: ScalarType.Float64, generator: generator);
        var x = x0.clone().requires_grad_(true);
        var output = f(x);
        var readout = randn(output.shape, dtype: ScalarType.Float64, generator: generator);
        (output * readout).sum().backward();
        var grad = x.grad ?? throw new InvalidOperationException("no gradient reached the input");
        Assert.True(grad.abs().max().item<double>() > 0, "the input gradient is all zeros");
        Assert.All(net.parameters(), p => Assert.Null(p.grad));

        var direction = randn(x0.shape, dtype: ScalarType.Float64, generator: generator);
        var analytic = (grad * direction).sum().item<double>();
        const double step = 1e-6; // pixels are 0..255; so small that no ReLU or max-pool choice flips in float64
        using (no_grad())
        {
            var plus = (f(x0 + step * direction) * readout).sum().item<double>();
            var minus = (f(x0 - step * direction) * readout).sum().item<double>();
            var numeric = (plus - minus) / (2 * step);
            Assert.True(Math.Abs(analytic - numeric) <= 1e-5 * Math.Max(1, Math.Abs(numeric)),
                $"{id}: backpropagated {analytic}, finite difference {numeric}");
        }
    }
}

using Sair.Engine.StyleGan;
using TorchSharp;
using Sair.Engine.Training;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Tests.Training;

/// <summary>
/// The gradients a training step applies, computed in float32 on this CPU's kernels, against the same computation in
/// float64 (which libtorch runs on its reference kernels, not oneDNN's): a kernel that computes wrong backward passes
/// trains a wrong prior even when its forward passes are exact.
/// </summary>
public sealed class TrainingGradientTests
{
    private static readonly PriorTrainingOptions Demo64 = new() { Size = 64 };

    [Fact]
    public void Generator_and_discriminator_gradients_match_float64()
    {
        var config = Demo64.GeneratorConfig();
        using var g32 = StyleGan2Loader.Load(Path.Combine(RepoPaths.Root, "priors", "demo-64", "generator.safetensors"));
        manual_seed(7);
        using var d32 = new StyleGan2Discriminator(config);
        using var g64 = StyleGan2Loader.Load(Path.Combine(RepoPaths.Root, "priors", "demo-64", "generator.safetensors"));
        using var d64 = new StyleGan2Discriminator(config);
        d64.load_state_dict(d32.state_dict());
        g64.to(float64);
        d64.to(float64);
        using var scope = NewDisposeScope();
        var z = randn([8, config.StyleDim], generator: new Generator(5));
        var real = rand([8, 3, 64, 64], generator: new Generator(6)).mul_(2).sub_(1);

        // Per tensor (a wrong kernel gives errors of order 1) and over each whole gradient (float32 accumulation gives
        // about 1e-5; a single small gradient with heavy cancellation, like a noise weight's, can reach 1e-3 alone).
        var errors = new List<(string What, double Error)>();
        var totals = new List<(string What, double Error)>();
        void Compare(string what, IEnumerable<(string Name, Tensor? Grad)> a, IEnumerable<(string Name, Tensor? Grad)> b)
        {
            double squaredDifference = 0, squaredNorm = 0;
            foreach (var ((name, ga), (_, gb)) in a.Zip(b))
            {
                if (ga is null || gb is null)
                {
                    // A weight the loss does not reach (R1 leaves the last bias out) has no gradient in either precision.
                    errors.Add(($"{what} {name} (gradient only in one precision)", ga is null && gb is null ? 0 : 1));
                    continue;
                }
                var difference = ga.to(float64).sub(gb).norm().item<double>();
                var norm = gb.norm().item<double>();
                errors.Add(($"{what} {name}", difference / Math.Max(norm, 1e-30)));
                squaredDifference += difference * difference;
                squaredNorm += norm * norm;
            }
            totals.Add((what, Math.Sqrt(squaredDifference / Math.Max(squaredNorm, 1e-60))));
        }

        Tensor GLoss(StyleGan2Generator g, StyleGan2Discriminator d, ScalarType type) =>
            F.softplus(d.forward(g.FromZ(z.to(type), randomizeNoise: false)).neg()).mean();
        GLoss(g32, d32, float32).backward();
        GLoss(g64, d64, float64).backward();
        Compare("G", g32.named_parameters().Select(p => (p.name, p.parameter.grad)), g64.named_parameters().Select(p => (p.name, p.parameter.grad)));
        Compare("D(fake)", d32.named_parameters().Select(p => (p.name, p.parameter.grad)), d64.named_parameters().Select(p => (p.name, p.parameter.grad)));

        // R1: the gradient of D with respect to its input, then the penalty's gradient with respect to D's weights
        // (a double backward through the blurred downsampling).
        Tensor R1(StyleGan2Discriminator d, ScalarType type)
        {
            d.zero_grad();
            var x = real.to(type).requires_grad_(true);
            var gradient = autograd.grad([d.forward(x).sum()], [x], retain_graph: true, create_graph: true)[0];
            gradient.square().sum([1, 2, 3]).mean().backward();
            return gradient.detach();
        }
        Compare("dD/dx", [("input", (Tensor?)R1(d32, float32))], [("input", (Tensor?)R1(d64, float64))]);
        Compare("R1", d32.named_parameters().Select(p => (p.name, p.parameter.grad)), d64.named_parameters().Select(p => (p.name, p.parameter.grad)));

        Assert.Equal(g32.parameters().Count() + 2 * d32.parameters().Count() + 1, errors.Count);
        var kernels = Sair.Engine.Runtime.CpuKernels.Current?.Summary;
        var worstTotal = totals.MaxBy(e => e.Error);
        Assert.True(worstTotal.Error < 1e-4, $"the {worstTotal.What} gradient: relative error {worstTotal.Error:E2} against float64 ({kernels})");
        var worst = errors.MaxBy(e => e.Error);
        Assert.True(worst.Error < 1e-2, $"{worst.What}: relative error {worst.Error:E2} against float64 ({kernels})");
    }
}

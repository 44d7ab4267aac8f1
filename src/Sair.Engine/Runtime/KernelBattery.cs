using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Runtime;

/// <summary>One check of the battery: the worst relative error of a float32 result against its float64 reference.</summary>
/// <param name="Name">The check's name.</param>
/// <param name="RelativeError">max |float32 − float64| / max |float64|; NaN when the result is not finite or the kernel threw.</param>
/// <param name="Tolerance">The largest relative error that passes.</param>
/// <param name="Error">What the kernel threw, if it threw.</param>
public sealed record KernelCheck(string Name, double RelativeError, double Tolerance, string? Error = null)
{
    public bool Passed => double.IsFinite(RelativeError) && RelativeError <= Tolerance;

    public override string ToString() =>
        Error is not null ? $"{Name}: the kernel failed ({Error})"
        : double.IsFinite(RelativeError) ? $"{Name}: relative error {RelativeError:G3} (tolerance {Tolerance:G2})"
        : $"{Name}: non-finite result";
}

/// <summary>What the battery found: every check, and the first that failed.</summary>
internal sealed record KernelBatteryResult(IReadOnlyList<KernelCheck> Checks)
{
    public bool Passed => Checks.All(c => c.Passed);

    public KernelCheck? FirstFailure => Checks.FirstOrDefault(c => !c.Passed);
}

/// <summary>
/// A small fixed battery of the CPU kernels the engine leans on — convolution forward, backward and double backward
/// in the shapes of the generator (3×3, grouped/modulated, transposed stride 2, 1×1 toRGB), the discriminator
/// (strided, and a batch of 16 as training uses), the blur, bicubic and DiffJPEG operators (depthwise, strided
/// depthwise, 8×8 DCT matmuls) and the face nets (separable), plus matmul — each computed in float32 on the kernels
/// this process uses and compared with a float64 reference, which libtorch never sends to oneDNN.
/// </summary>
/// <remarks>
/// Some CPUs compute wrong numbers in libtorch's oneDNN kernels (an AMD Zen 5 with AVX-512: a blur of a constant image
/// that is not constant, NaN gradients, NaN training losses). The errors seen there are gross (NaN, or percent-level),
/// so the tolerances separate a broken kernel from float32 rounding with a wide margin.
/// </remarks>
internal static class KernelBattery
{
    /// <summary>
    /// Changes whenever the checks or the choice among passing configurations change, so cached decisions made by an
    /// older battery or rule are not reused (2: the first passing in order, not the fastest probe step; 3: channel
    /// counts off the vector width, the skip path's RGB upsampling, a batch-16 blur, and every check on NaN-poisoned memory;
    /// 4: narrow transposed convolutions, the face nets' RGB stem, 1×1 and narrow double backward, the convolutions
    /// computed as the engine computes them (EngineConv), and the default-im2col configuration).
    /// </summary>
    public const int Version = 4;

    private const double FirstOrder = 2e-4;
    private const double SecondOrder = 1e-3;

    /// <summary>The names of every check, in the order they run.</summary>
    public static IReadOnlyList<string> CheckNames { get; } = Cases().Select(c => c.Name).ToArray();

    /// <summary>
    /// Runs every check on the CPU. <paramref name="faultyCheck"/> (tests only) perturbs one named check's float32
    /// result, as a broken kernel would, so the caller's handling of a failure can be tested on any machine.
    /// </summary>
    public static KernelBatteryResult Run(string? faultyCheck = null)
    {
        if (faultyCheck is not null && !CheckNames.Contains(faultyCheck))
        {
            throw new ArgumentException($"No kernel check is named '{faultyCheck}'; known: {string.Join(", ", CheckNames)}.", nameof(faultyCheck));
        }

        var checks = new List<KernelCheck>();
        foreach (var c in Cases())
        {
            using var scope = NewDisposeScope();
            var generator = new Generator(20_261_205UL + (ulong)checks.Count);
            var inputs = c.Shapes.Select(s => randn(s, dtype: float64, generator: generator)).ToArray();
            // Memory the allocator hands out next holds NaN, as memory reused in a long-running process holds old
            // values: a kernel that reads past what it wrote (uninitialised padding of a blocked layout) then shows it.
            Poison(c.Shapes);
            try
            {
                var actual = c.Compute(inputs.Select(t => t.to(float32)).ToArray());
                if (c.Name == faultyCheck)
                {
                    // A wrong value where a broken kernel puts one: a few percent of the output's range, in one element.
                    actual = actual.contiguous().clone();
                    var flat = actual.view(-1);
                    flat[0] = flat[0] + actual.abs().max() * 0.05 + 1;
                }

                // The reference sees the same float32-representable inputs, so only the kernels' error remains.
                var expected = c.Compute(inputs.Select(t => t.to(float32).to(float64)).ToArray());
                checks.Add(new KernelCheck(c.Name, RelativeError(actual, expected), c.Tolerance));
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                checks.Add(new KernelCheck(c.Name, double.NaN, c.Tolerance, e.Message.Split('\n')[0]));
            }
        }

        return new KernelBatteryResult(checks);
    }

    /// <summary>
    /// Milliseconds for a generator-shaped forward + backward (modulated 3×3, transposed upsampling, blur) on this
    /// process's kernels: the median of <paramref name="runs"/> after one warm-up, to rank configurations that pass.
    /// </summary>
    public static double MeasureMilliseconds(int runs = 5)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var x = randn([2, 64, 32, 32], generator: generator).requires_grad_();
        var w = randn([64, 64, 3, 3], generator: generator).requires_grad_();
        var up = randn([64, 32, 3, 3], generator: generator).requires_grad_();
        var blur = ones([32, 1, 4, 4]) / 16;
        var times = new List<double>();
        for (var i = 0; i <= runs; i++)
        {
            var watch = Stopwatch.StartNew();
            using (var step = NewDisposeScope())
            {
                var h = F.leaky_relu(EngineConv.Conv2d(x, w, padding: [1, 1]), 0.2);
                var u = EngineConv.ConvTranspose2d(h, up, strides: [2, 2]);
                var y = EngineConv.Conv2d(u, blur, padding: [1, 1], groups: 32);
                y.square().mean().backward();
            }

            x.grad?.zero_();
            w.grad?.zero_();
            up.grad?.zero_();
            if (i > 0)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Allocates and frees NaN-filled buffers of 1–16 times the check's largest operand.</summary>
    private static void Poison(long[][] shapes)
    {
        var largest = shapes.Max(s => s.Aggregate(1L, (a, b) => a * b));
        foreach (var factor in new[] { 16, 8, 4, 2, 1 })
        {
            using var nan = full(largest * factor, float.NaN);
        }
    }

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        using var a = actual.detach().to(float64);
        using var e = expected.detach();
        if (!a.isfinite().all().item<bool>())
        {
            return double.NaN;
        }

        using var diff = (a - e).abs().max();
        using var scale = e.abs().max();
        return diff.item<double>() / Math.Max(scale.item<double>(), 1e-12);
    }

    private sealed record Case(string Name, long[][] Shapes, Func<Tensor[], Tensor> Compute, double Tolerance = FirstOrder);

    private static IEnumerable<Case> Cases()
    {
        // Generator: modulated 3×3 (weights scaled per sample) and its gradients.
        yield return new("conv3x3.forward", [[2, 32, 16, 16], [32, 32, 3, 3]], t => EngineConv.Conv2d(t[0], t[1], padding: [1, 1]));
        yield return new("conv3x3.grad_input", [[2, 32, 16, 16], [32, 32, 3, 3]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])));
        yield return new("conv3x3.grad_weight", [[2, 32, 16, 16], [32, 32, 3, 3]], t => GradWeight(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])));
        yield return new("grouped_conv3x3.grad_input", [[1, 64, 8, 8], [64, 32, 3, 3]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1], groups: 2)));
        yield return new("conv_transpose_stride2.forward", [[1, 32, 8, 8], [32, 16, 3, 3]], t => EngineConv.ConvTranspose2d(t[0], t[1], strides: [2, 2]));
        yield return new("conv_transpose_stride2.grad_input", [[1, 32, 8, 8], [32, 16, 3, 3]], t => GradInput(t, (x, w) => EngineConv.ConvTranspose2d(x, w, strides: [2, 2])));
        yield return new("grouped_conv_transpose.grad_weight", [[2, 32, 8, 8], [32, 16, 3, 3]], t => GradWeight(t, (x, w) => EngineConv.ConvTranspose2d(x, w, strides: [2, 2], groups: 2)));
        yield return new("conv1x1_torgb.grad_input", [[1, 32, 16, 16], [3, 32, 1, 1]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w)));

        // Blur and upfirdn: depthwise on RGB planes and on feature maps, forward and backward.
        yield return new("depthwise_rgb_blur.forward", [[1, 3, 64, 64], [3, 1, 5, 5]], t => EngineConv.Conv2d(t[0], t[1], padding: [2, 2], groups: 3));
        yield return new("depthwise_blur.grad_input", [[2, 32, 16, 16], [32, 1, 4, 4]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1], groups: 32)));
        yield return new("depthwise_blur_batch16.grad_input", [[16, 32, 19, 19], [32, 1, 4, 4]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, groups: 32)));
        yield return new("depthwise_transpose_stride2.grad_input", [[1, 32, 8, 8], [32, 1, 4, 4]], t => GradInput(t, (x, w) => EngineConv.ConvTranspose2d(x, w, strides: [2, 2], padding: [1, 1], groups: 32)));

        // The generator's skip path upsamples the 3-channel image: a depthwise stride-2 transposed convolution.
        yield return new("depthwise_rgb_upsample.grad_input", [[1, 3, 32, 32], [3, 1, 4, 4]], t => GradInput(t, (x, w) => EngineConv.ConvTranspose2d(x, w, strides: [2, 2], groups: 3)));

        // The bicubic operator: separable single-channel strided convolutions over reflect-padded planes.
        yield return new("bicubic_strided.forward", [[3, 1, 64, 64], [1, 1, 16, 1]], t => EngineConv.Conv2d(F.pad(t[0], [0, 0, 6, 6], PaddingModes.Reflect), t[1], strides: [4, 1]));
        yield return new("bicubic_strided.grad_input", [[3, 1, 64, 64], [1, 1, 1, 16]], t => GradInput(t, (x, w) => EngineConv.Conv2d(F.pad(x, [6, 6, 0, 0], PaddingModes.Reflect), w, strides: [1, 4])));

        // Single-channel planes (N·C, 1, H, W), as upfirdn2d and the Gaussian blur of the degradation reshape them: their
        // backward computes wrong numbers on an AMD Zen 5 with AVX-512 (a constant image's gradient that is not constant,
        // NaN discriminator gradients in training), like the bicubic pass above.
        yield return new("upfirdn_plane.grad_input", [[64, 1, 18, 18], [1, 1, 4, 4]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w)));
        yield return new("gaussian_blur_plane.grad_input", [[3, 1, 16, 16], [1, 1, 11, 11]], t => GradInput(t, (x, w) => EngineConv.Conv2d(F.pad(x, [5, 5, 5, 5], PaddingModes.Reflect), w)));

        // Channel counts that are not a multiple of the vector width. The discriminator's last 3×3 convolution sees its
        // channels plus the minibatch-stddev map (64 + 1 in the demo prior's recipe); narrow layers (8 channels, a 3 → 8
        // stem) are what the width-reduced identity backbones of the oracles have. On an AMD Zen 5 oneDNN's default and
        // AVX2 kernels got the first wrong (6–30 % relative error, NaN once memory had been reused) and its default
        // kernels the backward of the others (read uninitialised memory: NaN or 30–45 % error after the poisoning).
        yield return new("stddev_channels_conv3x3.forward", [[8, 65, 4, 4], [64, 65, 3, 3]], t => EngineConv.Conv2d(t[0], t[1], padding: [1, 1]));
        yield return new("narrow_conv3x3.grad_input", [[1, 8, 56, 56], [8, 8, 3, 3]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])));
        yield return new("narrow_stem.grad_input", [[1, 3, 112, 112], [8, 3, 3, 3]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])));
        // The face nets' image stems: face-api's recognition net (3 → 32, 7×7, stride 2), its landmark and detector
        // nets (3 → 32, 3×3, stride 2), Human's emotion net (grey, 1 → 32).
        yield return new("rgb_stem_7x7.forward", [[7, 3, 38, 38], [32, 3, 7, 7]], t => EngineConv.Conv2d(t[0], t[1], strides: [2, 2], padding: [3, 3]));
        yield return new("rgb_stem_7x7.grad_input", [[2, 3, 38, 38], [32, 3, 7, 7]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, strides: [2, 2], padding: [3, 3])));
        yield return new("rgb_stem_7x7.grad_weight", [[2, 3, 38, 38], [32, 3, 7, 7]], t => GradWeight(t, (x, w) => EngineConv.Conv2d(x, w, strides: [2, 2], padding: [3, 3])));
        yield return new("rgb_stem_3x3.grad_input", [[1, 3, 41, 41], [32, 3, 3, 3]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, strides: [2, 2])));
        yield return new("grey_stem.grad_input", [[2, 1, 32, 32], [32, 1, 3, 3]], t => GradInput(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])));
        // A narrow generator (8 channels, as the tests' tiny priors have): its transposed upsampling.
        yield return new("narrow_conv_transpose_stride2.forward", [[2, 8, 8, 8], [8, 8, 3, 3]], t => EngineConv.ConvTranspose2d(t[0], t[1], strides: [2, 2]));
        yield return new("narrow_conv_transpose_stride2.grad_input", [[2, 8, 8, 8], [8, 8, 3, 3]], t => GradInput(t, (x, w) => EngineConv.ConvTranspose2d(x, w, strides: [2, 2])));
        yield return new("narrow_grouped_conv_transpose.grad_weight", [[1, 16, 8, 8], [16, 8, 3, 3]], t => GradWeight(t, (x, w) => EngineConv.ConvTranspose2d(x, w, strides: [2, 2], groups: 2)));

        // Discriminator: strided 3×3, and a batch of 16 (the training batch; NNPACK's path where it runs).
        yield return new("strided_conv.grad_weight", [[2, 16, 16, 16], [32, 16, 3, 3]], t => GradWeight(t, (x, w) => EngineConv.Conv2d(x, w, strides: [2, 2])));
        yield return new("batch16_conv.forward", [[16, 16, 8, 8], [16, 16, 3, 3]], t => EngineConv.Conv2d(t[0], t[1], padding: [1, 1]));
        yield return new("batch16_conv.grad_weight", [[16, 16, 8, 8], [16, 16, 3, 3]], t => GradWeight(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])));

        // R1 and the restorer's second derivatives: the gradient of a gradient's norm with respect to the weights.
        yield return new("conv3x3.double_backward", [[2, 16, 8, 8], [16, 16, 3, 3]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])), SecondOrder);
        yield return new("strided_conv.double_backward", [[2, 16, 8, 8], [16, 16, 3, 3]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w, strides: [2, 2], padding: [1, 1])), SecondOrder);
        // The discriminator's fromRGB, a 1×1 and an RGB stem, its stddev layer, the generator's toRGB: on the Zen 5 the
        // default kernels' double backward of 1×1 convolutions is 3–45 % wrong, aligned channels or not (battery 4).
        yield return new("from_rgb_1x1.double_backward", [[2, 3, 16, 16], [32, 3, 1, 1]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w)), SecondOrder);
        yield return new("rgb_stem.double_backward", [[2, 3, 16, 16], [32, 3, 3, 3]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])), SecondOrder);
        yield return new("skip_1x1.double_backward", [[2, 32, 16, 16], [64, 32, 1, 1]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w)), SecondOrder);
        yield return new("skip_1x1_strided.double_backward", [[2, 32, 16, 16], [64, 32, 1, 1]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w, strides: [2, 2])), SecondOrder);
        yield return new("pointwise_1x1.grad_weight", [[2, 32, 16, 16], [64, 32, 1, 1]], t => GradWeight(t, (x, w) => EngineConv.Conv2d(x, w)));
        yield return new("to_rgb_1x1.double_backward", [[2, 32, 16, 16], [3, 32, 1, 1]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w)), SecondOrder);
        yield return new("stddev_channels.double_backward", [[4, 65, 4, 4], [64, 65, 3, 3]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1])), SecondOrder);
        yield return new("depthwise.double_backward", [[2, 16, 8, 8], [16, 1, 3, 3]], t => DoubleBackward(t, (x, w) => EngineConv.Conv2d(x, w, padding: [1, 1], groups: 16)), SecondOrder);

        // Face nets: depthwise-separable convolutions with stride 2.
        yield return new("separable_stride2.forward", [[1, 32, 16, 16], [32, 1, 3, 3], [64, 32, 1, 1]], t => EngineConv.Conv2d(EngineConv.Conv2d(t[0], t[1], strides: [2, 2], padding: [1, 1], groups: 32), t[2]));

        // matmul: mapping network, identity heads, the DiffJPEG 8×8 DCT.
        yield return new("matmul.forward", [[64, 256], [256, 256]], t => matmul(t[0], t[1]));
        yield return new("matmul.grad_input", [[64, 256], [256, 256]], t => GradInput(t, matmul));
        yield return new("dct8x8.forward", [[8, 8], [96, 8, 8]], t => matmul(matmul(t[0], t[1]), t[0].t()));
    }

    private static Tensor GradInput(Tensor[] t, Func<Tensor, Tensor, Tensor> op) => Gradients(t, op)[0];

    private static Tensor GradWeight(Tensor[] t, Func<Tensor, Tensor, Tensor> op) => Gradients(t, op)[1];

    private static Tensor[] Gradients(Tensor[] t, Func<Tensor, Tensor, Tensor> op)
    {
        using var enabled = enable_grad();
        var x = t[0].detach().requires_grad_();
        var w = t[1].detach().requires_grad_();
        var y = op(x, w);
        // A fixed, non-uniform upstream gradient: cos of the output's flat index.
        var upstream = arange(y.numel(), dtype: y.dtype).cos().view(y.shape);
        return torch.autograd.grad([y], [x, w], [upstream]).ToArray();
    }

    private static Tensor DoubleBackward(Tensor[] t, Func<Tensor, Tensor, Tensor> op)
    {
        using var enabled = enable_grad();
        var x = t[0].detach().requires_grad_();
        var w = t[1].detach().requires_grad_();
        var y = op(x, w);
        var gradX = torch.autograd.grad([y.square().sum()], [x], retain_graph: true, create_graph: true)[0];
        return torch.autograd.grad([gradX.square().sum()], [w])[0];
    }
}

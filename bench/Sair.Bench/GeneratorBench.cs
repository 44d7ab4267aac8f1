using System.Globalization;
using Sair.Engine.StyleGan;
using Sair.Engine.Runtime;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// StyleGAN2 generator forward, and forward + backward to the W+ latent (what one SAIR iteration pays for the
/// generator), at the real rosinality channel table (channel multiplier 2) with random weights.
/// </summary>
internal static class GeneratorBench
{
    public static int Run(BenchArgs args)
    {
        var sizes = args.Ints("sizes", 256, 1024);
        var batches = args.Ints("batches", 1, 4);
        var runs = args.Int("runs", 3);
        var threads = args.Int("threads", Environment.ProcessorCount);
        var mode = args.String("mode", "scaled") == "grouped" ? ModulationMode.GroupedWeights : ModulationMode.ScaledActivations;
        var runtime = TorchRuntime.EnsureLoaded();
        set_num_threads(threads);
        manual_seed(0);

        Console.WriteLine($"# generator benchmark: {runtime}, modulation {mode}, median of {runs} runs after 1 warm-up");
        Console.WriteLine($"# {CpuKernels.Current!.Summary}");
        Console.WriteLine();
        Console.WriteLine("| size | batch | forward s | fwd GFLOP/s | forward+backward s | f+b GFLOP/s | f+b / forward |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var size in sizes)
        {
            using var generator = BenchFaces.RandomOfficialLayout(size);
            generator.Modulation = mode;
            foreach (var batch in batches)
            {
                var flops = ForwardFlops(generator.Config, batch);
                using var w = randn(batch, generator.NLatent, 512);
                var forward = Timing.MedianSeconds(runs, () =>
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    generator.Synthesis(w).sum().item<float>();
                });
                var both = Timing.MedianSeconds(runs, () =>
                {
                    using var scope = NewDisposeScope();
                    var latent = w.clone().requires_grad_(true);
                    generator.Synthesis(latent).square().mean().backward();
                    latent.grad!.sum().item<float>();
                });
                // Backward to the latent only (weights frozen) costs about one more forward's convolutions.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {size} | {batch} | {forward:0.000} | {flops / forward / 1e9:0.0} | {both:0.000} | {2 * flops / both / 1e9:0.0} | {both / forward:0.00} |"));
            }
        }
        return 0;
    }

    /// <summary>Multiply-adds ×2 of the convolutions (the modulated 3×3 convs, the up-convs and ToRGBs) at one batch.</summary>
    internal static double ForwardFlops(StyleGan2Config config, int batch)
    {
        double flops = 0;
        var c4 = config.ChannelsAt(4);
        flops += 2.0 * 4 * 4 * c4 * c4 * 9 + 2.0 * 4 * 4 * c4 * 3;
        var inChannels = c4;
        foreach (var res in config.Resolutions.Skip(1))
        {
            var outChannels = config.ChannelsAt(res);
            var half = res / 2;
            flops += 2.0 * half * half * inChannels * outChannels * 9;   // transposed 3×3, stride 2
            flops += 2.0 * res * res * outChannels * outChannels * 9;    // 3×3
            flops += 2.0 * res * res * outChannels * 3;                  // ToRGB 1×1
            inChannels = outChannels;
        }
        return flops * batch;
    }
}

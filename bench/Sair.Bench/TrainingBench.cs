using System.Globalization;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// One PriorTrainer step (D on real and fake, lazy R1 amortised by running it on every step here — the
/// worst case, G through D, EMA) on random 'faces', for the 32-px table (64 channels) and the 64-px table (64/32),
/// with both modulation modes, since training needs weight gradients and the cheaper mode may differ from inference.
/// </summary>
internal static class TrainingBench
{
    public static int Run(BenchArgs args)
    {
        var sizes = args.Ints("sizes", 32, 64);
        var batch = args.Int("batch", 16);
        var runs = args.Int("runs", 3);
        var threads = args.Int("threads", Environment.ProcessorCount);
        var modes = args.String("modes", "scaled,grouped").Split(',')
            .Select(m => m == "grouped" ? ModulationMode.GroupedWeights : ModulationMode.ScaledActivations)
            .ToList();
        TorchRuntime.EnsureLoaded();
        set_num_threads(threads);

        Console.WriteLine($"# prior training step: {TorchRuntime.EnsureLoaded()}, batch {batch}, style 256, n_mlp 4, DiffAugment on, median of {runs} runs after 1 warm-up");
        Console.WriteLine();
        Console.WriteLine("| size | channels | modulation | step s (no R1) | step s (with R1) | images/s (R1 every 16) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var size in sizes)
        {
            using var pixels = randint(0, 256, [Math.Max(64, batch * 2), 3, size, size], dtype: ScalarType.Byte);
            using var data = FaceImageSet.FromTensor(pixels);
            foreach (var mode in modes)
            {
                var options = new PriorTrainingOptions { Size = size, Batch = batch, Modulation = mode, FfdEvery = 0 };
                // R1 runs on steps divisible by the interval: interval 1 times every step with R1, a huge interval none after step 0.
                using var plain = new PriorTrainer(options with { R1Interval = int.MaxValue }, data);
                plain.TrainStep();
                var withoutR1 = Timing.MedianSeconds(runs, () => plain.TrainStep());
                using var regularised = new PriorTrainer(options with { R1Interval = 1 }, data);
                var withR1 = Timing.MedianSeconds(runs, () => regularised.TrainStep());
                var amortised = withoutR1 + (withR1 - withoutR1) / 16;
                var table = string.Join("/", options.GeneratorConfig().Resolutions.Select(r => options.GeneratorConfig().ChannelsAt(r)).Distinct());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {size} | {table} | {mode} | {withoutR1:0.000} | {withR1:0.000} | {batch / amortised:0.0} |"));
            }
        }
        return 0;
    }
}

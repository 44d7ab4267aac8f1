using System.Globalization;
using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// Issue 17, item 5: one SAIR iteration (paper preset, every term, the real face nets) with the losses on the
/// generator's full output against the losses on its skip image at a lower side (<see cref="SairOptions.LossSide"/>),
/// at the real generator shapes with random weights, Y at the paper's ×32 (32 px from 1024). Each configuration's
/// median iteration is measured in the same run, and its ratio to the full side printed.
/// </summary>
internal static class LossSideBench
{
    public static int Run(BenchArgs args)
    {
        var sizes = args.Ints("sizes", 1024);
        var sides = args.Ints("loss-sides", 512, 256, 128);
        var runs = args.Int("runs", 3);
        using var nets = SairIterationBench.SceneNets.Start(args);

        Console.WriteLine($"# Loss side benchmark: {nets.Runtime}, paper preset with every term, batch 1, Y = size/32, median of {runs} iterations after 1");
        Console.WriteLine();
        Console.WriteLine("| generator | losses on | s / iteration | × faster than the full side |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var size in sizes)
        {
            using var scene = new SairIterationBench.Scene(size, nets.Identity, nets.Landmarks);
            using var scope = NewDisposeScope();
            var (restorer, y, reference) = (scene.Restorer, scene.Y, scene.Reference);
            var options = SairOptions.Paper() with { Iterations = runs + 1, Emotion = "happy", MaskInterval = int.MaxValue };
            var full = SairIterationBench.IterationSeconds(restorer, y, ReferenceInput.FromLatent(reference), options);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {size} px | {size} px (full) | {full:0.000} | 1.00 |"));
            foreach (var side in sides.Where(s => s < size && s >= y.shape[2]))
            {
                var seconds = SairIterationBench.IterationSeconds(restorer, y, ReferenceInput.FromLatent(reference), options with { LossSide = side });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {size} px | {side} px skip image | {seconds:0.000} | {full / seconds:0.00} |"));
            }
        }
        return 0;
    }
}

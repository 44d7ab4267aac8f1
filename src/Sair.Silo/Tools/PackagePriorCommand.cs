using System.Diagnostics;
using System.Globalization;
using Sair.Engine.Runtime;
using Sair.Engine.Training;

namespace Sair.Silo.Tools;

/// <summary>
/// <c>Sair.Silo package-prior</c>: turns a finished training run into a shippable prior folder — generator, alignment
/// template, sample grid, card figures (FFD with its two yardsticks) and, optionally, fitted emotion directions.
/// </summary>
internal static class PackagePriorCommand
{
    public static int Run(string[] args)
    {
        string? run = null;
        string? data = null;
        string? output = null;
        var samples = 500;
        var emotionSamples = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--run": run = Next(); break;
                case "--data": data = Next(); break;
                case "-o" or "--output": output = Next(); break;
                case "--samples": samples = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--emotion-samples": emotionSamples = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-h" or "--help":
                    Console.WriteLine("""
                        Sair.Silo package-prior: package a finished 'sair prior train' run as a prior folder.

                          --run <folder>             the training output (checkpoint.safetensors, generator.safetensors)
                          --data <folder>            the training faces, as given to the run
                          -o, --output <folder>      where to write generator.safetensors, template.json, samples.png,
                                                     card.json (and emotions/ with --emotion-samples)
                              --samples <n>          faces per side of each FFD (default 500)
                              --emotion-samples <n>  also fit the emotion directions on n latents (default: skip)
                        """);
                    return 0;
                default:
                    throw new ArgumentException($"unknown option '{args[i]}' (see --help)");
            }
        }
        if (run is null || data is null || output is null)
        {
            throw new ArgumentException("--run, --data and --output are required (see --help)");
        }

        Console.WriteLine($"engine: {TorchRuntime.EnsureLoaded()}");
        var clock = Stopwatch.StartNew();
        var figures = PriorCard.Package(run, data, output, samples, say: Console.WriteLine);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"FFD {figures.Ffd:0.000} (random-weight generator {figures.RandomGeneratorFfd:0.000}, half vs half of the data {figures.HalfVsHalfFfd:0.000}); " +
            $"template drift {figures.TemplateDriftPixels:0.00} px; {clock.Elapsed.TotalSeconds:0} s"));
        if (emotionSamples > 0)
        {
            var report = EmotionDirectionFitter.RunAsync(new EmotionFitOptions { Samples = emotionSamples },
                Path.Combine(output, PriorTrainer.GeneratorFileName), Path.Combine(output, "emotions")).GetAwaiter().GetResult();
            foreach (var fit in report.Classes)
            {
                Console.WriteLine(EmotionDirectionFitter.Describe(fit));
            }
        }
        Console.WriteLine($"wrote {Path.GetFullPath(output)} in {clock.Elapsed.TotalSeconds:0} s");
        return 0;
    }
}

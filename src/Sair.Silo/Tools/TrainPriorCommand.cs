using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Sair.Engine.Runtime;
using Sair.Engine.Training;

namespace Sair.Silo.Tools;

/// <summary>
/// <c>Sair.Silo train-prior</c>: the project's prior trainer (<see cref="PriorTrainer.RunAsync"/>) run in this process,
/// without a grid — for a run that spans days on one machine. It continues from the output folder's checkpoint when
/// there is one (that checkpoint's options win, except the run length), and on Ctrl-C or SIGTERM saves its checkpoint
/// and generator before it exits, so stopping and starting it again loses nothing. The same run through the grid is
/// <c>sair prior train</c>.
/// </summary>
internal static class TrainPriorCommand
{
    private const string Help = """
        Sair.Silo train-prior: train (or continue training) a StyleGAN2 face prior in this process.

          --data <folder>        face images; top-level lfw/ and utkface/ get their raw-data crops unless --crop-full
          -o, --output <folder>  run folder: checkpoint.safetensors, generator.safetensors, samples/, ffd.csv, train-log.csv, run.log,
                                 checkpoint-best/generator-best.safetensors (the step of the lowest FFD so far)
              --size <px>        output side, a power of two (default 64)
              --images <n>       train until this many real images have been shown (default 200000)
              --batch <n>        batch size (default 16)
              --seed <n>         seed of every random draw (default 1)
              --crop-full        use every image whole (for faces aligned by 'align-faces')
              --channels <table> channels per resolution of G and D, e.g. 4:256,8:256,16:128,32:64,64:32
                                 (default 64 up to 32 px, 32 above)
              --checkpoint-every <steps>   (default 500)
              --ffd-every <steps>          FFD against the data, 0 for never (default 2000)

        Recipe (a new run's, or what a branch changes; a branch may change any option above but --size and --channels):
              --lr <rate>            Adam learning rate of G and D (default 0.002)
              --r1-gamma <weight>    R1 weight (default 0.0002·size²/batch)
              --mixing <p>           style-mixing probability (default 0.9)
              --path-length <weight> path-length regularisation weight (default 0: off)
              --no-augment           no DiffAugment on D's inputs
              --no-noise             no per-layer noise inputs (G trained with zero noise, noise strengths held at 0)
              --branch-from <checkpoint>   start this (new) folder from another run's checkpoint, with the recipe
                                     options given here changed and every other option the checkpoint's

        When the output folder holds a checkpoint the run continues from it exactly; only --images may be given then
        (any other option is refused: branch into a new folder instead). Ctrl-C or SIGTERM saves the checkpoint and
        the generator, then exits.
        """;

    /// <summary>"4:256,8:128" → {4: 256, 8: 128}.</summary>
    internal static IReadOnlyDictionary<int, int> ParseChannels(string table)
    {
        var channels = new SortedDictionary<int, int>();
        foreach (var entry in table.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var resolution)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var width) || width < 1 || !channels.TryAdd(resolution, width))
            {
                throw new ArgumentException($"--channels '{table}': give resolution:channels pairs, each resolution once, e.g. 4:256,8:256,16:128,32:64,64:32");
            }
        }
        return new Dictionary<int, int>(channels);
    }

    public static int Run(string[] args)
    {
        string? data = null;
        string? output = null;
        string? branchFrom = null;
        var options = new PriorTrainingOptions { Size = 64 };
        var changes = new List<Func<PriorTrainingOptions, PriorTrainingOptions>>();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double NextDouble() => double.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--data": data = Next(); break;
                case "-o" or "--output": output = Next(); break;
                case "--images": options = options with { TotalImages = long.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--size": var size = NextInt(); changes.Add(o => o with { Size = size }); break;
                case "--batch": var batch = NextInt(); changes.Add(o => o with { Batch = batch }); break;
                case "--seed": var seed = NextInt(); changes.Add(o => o with { Seed = seed }); break;
                case "--crop-full": changes.Add(o => o with { CropsBySubfolder = new Dictionary<string, CropBox>() }); break;
                case "--channels": var channels = ParseChannels(Next()); changes.Add(o => o with { Channels = channels }); break;
                case "--checkpoint-every": var every = NextInt(); changes.Add(o => o with { CheckpointEvery = every }); break;
                case "--ffd-every": var ffdEvery = NextInt(); changes.Add(o => o with { FfdEvery = ffdEvery }); break;
                case "--lr": var lr = NextDouble(); changes.Add(o => o with { LearningRate = lr }); break;
                case "--r1-gamma": var gamma = NextDouble(); changes.Add(o => o with { R1Gamma = gamma }); break;
                case "--mixing": var mixing = NextDouble(); changes.Add(o => o with { MixingProbability = mixing }); break;
                case "--path-length": var pathLength = NextDouble(); changes.Add(o => o with { PathLengthWeight = pathLength }); break;
                case "--no-augment": changes.Add(o => o with { Augment = false }); break;
                case "--no-noise": changes.Add(o => o with { NoiseInputs = false }); break;
                case "--branch-from": branchFrom = Next(); break;
                case "-h" or "--help": Console.WriteLine(Help); return 0;
                default: throw new ArgumentException($"unknown option '{args[i]}' (see --help)");
            }
        }
        if (data is null || output is null)
        {
            throw new ArgumentException("--data and --output are required (see --help)");
        }
        var checkpoint = Path.Combine(output, PriorTrainer.CheckpointFileName);
        var resuming = File.Exists(checkpoint);
        if (resuming)
        {
            // Options repeating the checkpoint's are fine (the continue command may be the start command); others are refused.
            var saved = PriorTrainer.ReadOptions(checkpoint) with { TotalImages = options.TotalImages };
            var asked = changes.Aggregate(saved, (current, change) => change(current));
            if (JsonSerializer.Serialize(asked) != JsonSerializer.Serialize(saved))
            {
                throw new ArgumentException(
                    $"{output} holds a run whose checkpoint fixes its options (only --images may change when continuing it); to train on with other options, start a new folder with --branch-from {checkpoint}");
            }
        }
        if (branchFrom is not null && !resuming)
        {
            // The branch keeps the source run's options (data framing, networks, cadence) except those given here and the run length.
            var images = options.TotalImages;
            options = PriorTrainer.ReadOptions(branchFrom) with { TotalImages = images };
        }
        options = changes.Aggregate(options, (current, change) => change(current));
        options.Validate();

        Console.WriteLine($"engine: {TorchRuntime.EnsureLoaded()}");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        var lastReport = DateTime.MinValue;
        var progress = new Progress<PriorTrainingProgress>(p =>
        {
            if (DateTime.UtcNow - lastReport > TimeSpan.FromMinutes(1) || p.Ffd is not null)
            {
                lastReport = DateTime.UtcNow;
                var ffd = p.Ffd is { } value ? string.Create(CultureInfo.InvariantCulture, $", FFD {value:0.000}") : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{DateTime.UtcNow:u} step {p.Step}, {p.ImagesSeen} images, {p.ImagesPerSecond:0.0} img/s{ffd}, checkpoint at step {p.CheckpointStep}"));
            }
        });
        try
        {
            PriorTrainer.RunAsync(options, data, output, progress, stop.Token, branchFrom: branchFrom).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine($"stopped; checkpoint and generator saved in {Path.GetFullPath(output)}; run the same command to continue");
            return 130;
        }
        Console.WriteLine($"done: {Path.GetFullPath(Path.Combine(output, PriorTrainer.GeneratorFileName))}");
        return 0;
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
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
          -o, --output <folder>  run folder: checkpoint.safetensors, generator.safetensors, samples/, ffd.csv, train-log.csv, run.log
              --size <px>        output side, a power of two (default 64)
              --images <n>       train until this many real images have been shown (default 200000)
              --batch <n>        batch size (default 16)
              --seed <n>         seed of every random draw (default 1)
              --crop-full        use every image whole (for faces aligned by 'align-faces')
              --checkpoint-every <steps>   (default 500)
              --ffd-every <steps>          FFD against the data, 0 for never (default 2000)

        When the output folder holds a checkpoint the run continues from it exactly; only --images is taken from the
        command line then. Ctrl-C or SIGTERM saves the checkpoint and the generator, then exits.
        """;

    public static int Run(string[] args)
    {
        string? data = null;
        string? output = null;
        var options = new PriorTrainingOptions { Size = 64 };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--data": data = Next(); break;
                case "-o" or "--output": output = Next(); break;
                case "--size": options = options with { Size = NextInt() }; break;
                case "--images": options = options with { TotalImages = long.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--batch": options = options with { Batch = NextInt() }; break;
                case "--seed": options = options with { Seed = NextInt() }; break;
                case "--crop-full": options = options with { CropsBySubfolder = new Dictionary<string, CropBox>() }; break;
                case "--checkpoint-every": options = options with { CheckpointEvery = NextInt() }; break;
                case "--ffd-every": options = options with { FfdEvery = NextInt() }; break;
                case "-h" or "--help": Console.WriteLine(Help); return 0;
                default: throw new ArgumentException($"unknown option '{args[i]}' (see --help)");
            }
        }
        if (data is null || output is null)
        {
            throw new ArgumentException("--data and --output are required (see --help)");
        }
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
            PriorTrainer.RunAsync(options, data, output, progress, stop.Token).GetAwaiter().GetResult();
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

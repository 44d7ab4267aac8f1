using System.Diagnostics;
using System.Globalization;
using Sair.Engine.Imaging;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace Sair.Silo.Tools;

/// <summary>
/// <c>Sair.Silo render</c>: loads a generator the way an engine silo does and renders faces from seeded z, one PNG per
/// seed plus a contact sheet whose rows show the intermediate skip images at every resolution.
/// </summary>
internal static class RenderCommand
{
    public static int Run(string[] args)
    {
        string? generatorPath = null;
        var output = "renders";
        var count = 8;
        var seed = 0;
        var truncation = 0.7;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "-g" or "--generator": generatorPath = Next(); break;
                case "-o" or "--output": output = Next(); break;
                case "-n" or "--count": count = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--truncation": truncation = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-h" or "--help":
                    Console.WriteLine("""
                        Sair.Silo render: render faces from a StyleGAN2 checkpoint, as an engine silo loads it.

                          -g, --generator <file>   rosinality checkpoint (.pt/.pth or .safetensors); default: the embedded
                                                   64 px prior (priors/faces-64)
                          -o, --output <folder>    where to write seed_<n>.png and sheet.png (default: renders)
                          -n, --count <n>          how many seeds (default 8)
                              --seed <n>           first seed (default 0)
                              --truncation <psi>   pull toward latent_avg, 1 = none (default 0.7)
                        """);
                    return 0;
                default:
                    throw new ArgumentException($"unknown option '{args[i]}' (see --help)");
            }
        }
        if (generatorPath is null)
        {
            generatorPath = EmbeddedDefaults.Generator()
                ?? throw new ArgumentException("no generator given and this build has no embedded prior: pass --generator <checkpoint>");
            Console.WriteLine($"note: {EmbeddedDefaults.Notice(generatorPath)}");
        }
        if (count is < 1 or > 256)
        {
            throw new ArgumentException("--count must be between 1 and 256");
        }

        Console.WriteLine($"engine: {TorchRuntime.EnsureLoaded()}");
        var clock = Stopwatch.StartNew();
        using var generator = StyleGan2Loader.Load(generatorPath);
        Console.WriteLine($"loaded {generatorPath}: {generator.Config} in {clock.ElapsedMilliseconds} ms");

        Directory.CreateDirectory(output);
        var size = generator.Config.Size;
        var rows = generator.Config.Resolutions.Count();
        using var sheet = new Image<Rgb24>(count * size, rows * size);
        clock.Restart();
        for (var n = 0; n < count; n++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var z = randn([1, generator.Config.StyleDim], generator: new Generator((ulong)(seed + n)));
            var skips = new List<Tensor>();
            var image = generator.FromZ(z, truncation, randomizeNoise: false, skips);
            using (var face = ImageTensors.ToImage(image, PixelRange.MinusOneOne))
            {
                ImageFiles.Save(face, Path.Combine(output, $"seed_{seed + n:D4}.png"));
            }
            for (var r = 0; r < skips.Count; r++)
            {
                using var small = ImageTensors.ToImage(skips[r], PixelRange.MinusOneOne);
                small.Mutate(x => x.Resize(size, size, KnownResamplers.NearestNeighbor));
                sheet.Mutate(x => x.DrawImage(small, new Point(n * size, r * size), 1f));
            }
        }
        ImageFiles.Save(sheet, Path.Combine(output, "sheet.png"));
        Console.WriteLine($"rendered {count} image(s) of {size}×{size} in {clock.Elapsed.TotalSeconds:0.00} s → {Path.GetFullPath(output)}");
        Console.WriteLine($"sheet.png: one column per seed; rows are the skip images at {string.Join(", ", generator.Config.Resolutions)} px");
        return 0;
    }
}

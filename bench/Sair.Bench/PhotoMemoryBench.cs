using System.Diagnostics;
using System.Globalization;
using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.Imaging;
using Sair.Grains.Ports;
using Sair.Silo.Adapters;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// <c>bench photo-memory</c>: how much memory a silo takes for a large photo that lies about nothing (issue 18, item 3).
/// A face photo is scaled up to N megapixels (JPEG) beside a 1-megapixel copy, and a face-less N-megapixel photo is
/// made; each goes through the pools' analysis (decode, detect, align, embed: what enrol and match do) and a restored
/// face is pasted back into the N-megapixel photo (what a restoration's whole-photo result does). Each step runs in a
/// process of its own and reports the peak resident memory above the process's memory before the call (VmHWM after
/// resetting it through /proc/self/clear_refs, minus VmRSS before) — next to the same detection with the search at the
/// photo's full size (the detector's working side 0, as before), in one run.
/// </summary>
internal static class PhotoMemoryBench
{
    private static readonly string[] Steps = ["analyse-1mp", "analyse", "analyse-no-face", "detect-full-size", "detect", "paste", "analyse-x5"];

    public static int Run(BenchArgs args)
    {
        var megapixels = double.Parse(args.String("megapixels", "40"), CultureInfo.InvariantCulture);
        var source = args.String("photo", RepoPaths.SharedFile("fixtures", "faces", "johns", "John_Savage"));
        var file = Directory.Exists(source) ? Directory.EnumerateFiles(source).Order(StringComparer.Ordinal).First() : source;
        if (args.String("step", "") is { Length: > 0 } step)
        {
            return RunStep(step, File.ReadAllBytes(args.String("input", "")), args.Int("threads", 0));
        }

        // The photos are made here, so that no step's process holds the memory their making took; --photos-to DIR
        // only writes them (to try on a silo: sair pool enroll / match).
        var keep = args.String("photos-to", "");
        var folder = keep.Length > 0 ? Directory.CreateDirectory(keep) : Directory.CreateTempSubdirectory("sair-photo-memory-");
        var small = Path.Combine(folder.FullName, "face-1mp.jpg");
        var face = Path.Combine(folder.FullName, "face.jpg");
        var blank = Path.Combine(folder.FullName, "no-face.jpg");
        File.WriteAllBytes(small, Scaled(file, 1));
        File.WriteAllBytes(face, Scaled(file, megapixels));
        File.WriteAllBytes(blank, Blank(File.ReadAllBytes(face)));
        if (keep.Length > 0)
        {
            Console.WriteLine($"wrote {small}, {face} and {blank}");
            return 0;
        }

        // Each step in a process of its own, so that no step inherits memory an earlier one left committed.
        Console.WriteLine($"CPU: {Sair.Engine.Runtime.CpuKernels.CpuModel()}; {Environment.ProcessorCount} cores; photo {Path.GetFileName(file)}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"command: dotnet run -c Release --project bench/Sair.Bench -- photo-memory --megapixels {megapixels}"));
        Console.WriteLine();
        Console.WriteLine("| step | photo | peak memory above before (MB) | seconds |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var name in Steps)
        {
            var input = name switch { "analyse-1mp" => small, "analyse" or "paste" or "analyse-x5" => face, _ => blank };
            var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!)
            {
                ArgumentList = { "photo-memory", "--step", name, "--input", input },
                RedirectStandardOutput = true,
            })!;
            var row = child.StandardOutput.ReadToEnd().Trim();
            child.WaitForExit();
            Console.WriteLine(child.ExitCode == 0 ? row : $"| {name} | – | failed (exit {child.ExitCode}) | – |");
        }

        folder.Delete(recursive: true);
        return 0;
    }

    private static int RunStep(string step, byte[] photo, int threads)
    {
        var options = new SairEngineOptions { GeneratorPath = null, Device = "cpu", Threads = threads };
        using var models = new EngineModels(options, restores: false);
        models.LoadAsync().GetAwaiter().GetResult();
        var analyzer = new SairFaceAnalyzer(models);
        var info = Image.Identify(photo);
        var what = $"{info.Width}×{info.Height}{(step is "analyse-no-face" or "detect-full-size" or "detect" ? " no face" : " face")}, {photo.Length / 1024} kB JPEG";
        // The search as it was (working side 0), loaded only for the step that measures it.
        using var fullSize = step == "detect-full-size"
            ? new FaceDetector(TinyFaceDetector.Load(), FaceApiLandmarks.Load(), ownsNets: true) { WorkingSide = 0 }
            : null;
        var after = new List<long>();
        var (label, action) = step switch
        {
            "analyse-x5" => ("pools' analysis five times in a row (as five `pool match` calls); resident memory above before after each call: ", (Action)(() =>
            {
                for (var call = 0; call < 5; call++)
                {
                    Analyze(analyzer, photo);
                    after.Add(ProcessMemory.Kilobytes("VmRSS:"));
                }
            })),
            "analyse-1mp" or "analyse" or "analyse-no-face" => ("pools' analysis (enrol, match: decode, detect, align, embed)", (Action)(() => Analyze(analyzer, photo))),
            "detect-full-size" => ("detection only, searched at the photo's full size (working side 0: before)", () => Detect(fullSize!, photo)),
            "detect" => ("detection only, working side 1664 (the default)", () => Detect(models.Detector, photo)),
            "paste" => ("decode, detect, align, paste a 256 px face back (a restored whole photo)", () => Paste(models, photo)),
            _ => throw new ArgumentException($"unknown step {step}; the steps are {string.Join(", ", Steps)}"),
        };

        ProcessMemory.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5");
        var before = ProcessMemory.Kilobytes("VmRSS:");
        var clock = Stopwatch.StartNew();
        action();
        var seconds = clock.Elapsed.TotalSeconds;
        var peak = ProcessMemory.Kilobytes("VmHWM:");
        label += string.Join(" / ", after.Select(rss => $"{(rss - before) / 1024.0:0} MB"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {what} | {(peak - before) / 1024.0:0} | {seconds:0.0} |"));
        return 0;
    }

    private static void Analyze(SairFaceAnalyzer analyzer, byte[] photo)
    {
        try
        {
            analyzer.AnalyzeAsync(photo, FaceChoice.Largest, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (FaceNotFoundException)
        {
            // The no-face photo: refused, as it should be; the memory it took is what counts here.
        }
    }

    private static void Detect(FaceDetector detector, byte[] photo)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var decoded = ImageFiles.Decode(photo, "photo", ImageLimits.Default);
        foreach (var face in detector.Detect(ImageTensors.ToTensor(decoded)))
        {
            face.Dispose();
        }
    }

    private static void Paste(EngineModels models, byte[] photo)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var decoded = ImageFiles.Decode(photo, "photo", ImageLimits.Default);
        var pixels = ImageTensors.ToTensor(decoded);
        var face = models.Detector.Detect(pixels).OrderByDescending(f => f.Box.Width).First();
        var aligned = FaceAligner.Align(pixels, face.Landmarks, 256, models.Template);
        _ = FaceAligner.PasteBack(pixels, 1 - aligned.Face, aligned.Transform, featherPixels: 8);
    }

    private static byte[] Scaled(string file, double megapixels)
    {
        using var image = Image.Load<Rgb24>(file);
        var scale = Math.Sqrt(megapixels * 1e6 / (image.Width * image.Height));
        image.Mutate(x => x.Resize((int)(image.Width * scale), (int)(image.Height * scale), KnownResamplers.Bicubic));
        return Encode(image);
    }

    /// <summary>A smooth colour ramp (no face) of the size of <paramref name="photo"/>.</summary>
    private static byte[] Blank(byte[] photo)
    {
        var info = Image.Identify(photo);
        using var image = new Image<Rgb24>(info.Width, info.Height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgb24((byte)(x * 255 / row.Length), (byte)(y * 255 / rows.Height), 128);
                }
            }
        });
        return Encode(image);
    }

    private static byte[] Encode(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }
}

using System.Diagnostics;
using System.Globalization;
using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.Imaging;
using Sair.Engine.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Silo.Tools;

/// <summary>
/// <c>Sair.Silo align-faces</c>: gives a folder of face photos one framing — the framing a reference pool gives an
/// enrolled photo — so that a prior trained on it draws faces where the engine aligns them. Each photo is set in a
/// grey border (half its width each side, so that a tight crop is found like a face in a real photo), its best face
/// detected (face-api tiny detector + 68 landmarks), and the face aligned to the template with reflected borders.
/// Photos without a face are listed in <c>skipped.txt</c>, never silently dropped. A top-level sub-folder
/// <c>X/</c> is written as <c>X-aligned/</c>, so that the trainer's per-folder crops (for the raw <c>lfw/</c>)
/// cannot be applied twice; file names are kept (with <c>.png</c>), so the held-out people stay recognisable.
/// </summary>
internal static class AlignFacesCommand
{
    private const string Help = """
        Sair.Silo align-faces: align a folder of face photos to a prior's template, for training.

          --data <folder>        face photos (jpg, png, bmp, webp), searched recursively
          -o, --output <folder>  where to write the aligned faces (PNG) and skipped.txt
              --template <file>  the alignment template (default: the embedded prior's template.json)
              --size <px>        side of the aligned faces (default 128)
              --limit <n>        align only the first n photos, by name (default: all)

        Photos already aligned in the output folder are kept, so an interrupted run continues where it stopped.
        """;

    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    public static int Run(string[] args)
    {
        string? data = null;
        string? output = null;
        string? templatePath = null;
        var size = 128;
        var limit = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--data": data = Next(); break;
                case "-o" or "--output": output = Next(); break;
                case "--template": templatePath = Next(); break;
                case "--size": size = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--limit": limit = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-h" or "--help": Console.WriteLine(Help); return 0;
                default: throw new ArgumentException($"unknown option '{args[i]}' (see --help)");
            }
        }
        if (data is null || output is null)
        {
            throw new ArgumentException("--data and --output are required (see --help)");
        }
        if (!Directory.Exists(data))
        {
            throw new ArgumentException($"--data: folder '{data}' does not exist");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 16, "--size");
        templatePath ??= EmbeddedDefaults.Prior() is { } prior
            ? Path.Combine(prior, "template.json")
            : throw new ArgumentException("this build has no embedded prior: give --template");
        var template = AlignmentTemplate.Load(templatePath);

        Console.WriteLine($"engine: {TorchRuntime.EnsureLoaded()}");
        // In its border the face fills about half the frame, which the detector finds at its small input sides; the
        // large side (416, for small faces in big photos) would triple the time and find nothing more.
        var locator = FaceModelLocator.Default();
        using var detector = new FaceDetector(TinyFaceDetector.Load(locator), FaceApiLandmarks.Load(locator), ownsNets: true) { InputSizes = [224, 160] };
        var root = Path.GetFullPath(data);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (limit > 0)
        {
            files = files.Take(limit).ToList();
        }
        Directory.CreateDirectory(output);
        var skipped = new List<string>();
        var (aligned, kept) = (0, 0);
        var clock = Stopwatch.StartNew();
        foreach (var (file, index) in files.Select((f, i) => (f, i)))
        {
            var target = Path.Combine(output, AlignedName(Path.GetRelativePath(root, file)));
            if (File.Exists(target))
            {
                kept++;
                continue;
            }
            using var scope = NewDisposeScope();
            string? why;
            try
            {
                why = AlignOne(detector, template, file, target, size);
            }
            catch (ImageLoadException e)
            {
                why = e.Message;
            }
            if (why is null)
            {
                aligned++;
            }
            else
            {
                skipped.Add($"{Path.GetRelativePath(root, file)}\t{why}");
            }
            if ((index + 1) % 500 == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{index + 1}/{files.Count}: {aligned} aligned, {kept} already there, {skipped.Count} skipped, {clock.Elapsed.TotalSeconds:0} s"));
            }
        }
        File.WriteAllLines(Path.Combine(output, "skipped.txt"), skipped);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{files.Count} photos: {aligned} aligned, {kept} already there, {skipped.Count} without a usable face (skipped.txt); " +
            $"{clock.Elapsed.TotalSeconds:0} s; wrote {Path.GetFullPath(output)}"));
        return 0;
    }

    /// <summary>The aligned face's path relative to the output: top folder X becomes X-aligned, the extension .png.</summary>
    internal static string AlignedName(string relative)
    {
        var parts = relative.Split(Path.DirectorySeparatorChar);
        if (parts.Length > 1)
        {
            parts[0] += "-aligned";
        }
        parts[^1] = Path.ChangeExtension(parts[^1], ".png");
        return Path.Combine(parts);
    }

    /// <summary>Aligns the best face of <paramref name="file"/> into <paramref name="target"/>; the reason when there is none.</summary>
    private static string? AlignOne(FaceDetector detector, AlignmentTemplate template, string file, string target, int size)
    {
        using var image = ImageFiles.Load(file);
        var photo = ImageTensors.ToTensor(image);
        var (height, width) = (photo.shape[2], photo.shape[3]);
        var border = width / 2;
        var framed = F.pad(photo, [border, border, border, border], value: FaceDetector.TightCropBorderGrey);
        var faces = detector.Detect(framed);
        try
        {
            if (faces.Count == 0)
            {
                return "no face found";
            }
            // The photo's own face: the best-scoring one whose centre lies inside the original photo.
            var face = faces.FirstOrDefault(f => f.Box.CentreX > border && f.Box.CentreX < border + width
                                                  && f.Box.CentreY > border && f.Box.CentreY < border + height);
            if (face is null)
            {
                return "no face inside the photo";
            }
            var landmarks = face.Landmarks - tensor(new float[] { border, border }, dtype: face.Landmarks.dtype);
            if (!landmarks.isfinite().all().item<bool>())
            {
                return "the landmark net returned non-finite points";
            }
            using var alignedFace = FaceAligner.Align(photo, landmarks, size, template);
            using var result = ImageTensors.ToImage(alignedFace.Face.clamp(0, 1));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var partial = target + ".partial";
            ImageFiles.Save(result, partial + ".png");
            File.Move(partial + ".png", target, overwrite: true);
            return null;
        }
        finally
        {
            foreach (var f in faces)
            {
                f.Dispose();
            }
        }
    }
}

using System.Globalization;
using Sair.Engine.Imaging;
using Sair.Engine.Training;
using Sair.Grains.Ports;
using Sair.Silo.Adapters;
using SixLabors.ImageSharp.Processing;

namespace Sair.Bench;

/// <summary>
/// Calibrates the pool-match threshold of an identity net on labelled faces: every photo is analysed as the album
/// analyses a face (detected, aligned to the template, embedded by the silo's identity net), then every pair is scored
/// by cosine — same person (genuine) or not (impostor). Prints the equal-error threshold (false accepts = false
/// rejects) and the threshold at 1 % false accepts, for clean probes and for probes taken down ×4 first (the degraded
/// photos the grid restores, matched against clean references).
/// </summary>
internal static class MatchBench
{
    public static int Run(BenchArgs args)
    {
        var net = args.String("identity-net", "faceapi");
        var sets = args.String("sets", "johns,lfw-holdout").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var options = new SairEngineOptions { GeneratorPath = null, IdentityNet = net, Device = args.String("device", "cpu"), Threads = args.Int("threads", 0) };
        using var models = new EngineModels(options, restores: false);
        models.LoadAsync().GetAwaiter().GetResult();
        var analyzer = new SairFaceAnalyzer(models);
        Console.WriteLine($"CPU: {Sair.Engine.Runtime.CpuKernels.CpuModel()}; identity net: {models.Identity.Name}");
        Console.WriteLine($"command: dotnet run -c Release --project bench/Sair.Bench -- match --identity-net {net} --sets {string.Join(',', sets)}");
        Console.WriteLine();
        Console.WriteLine("| set | people / photos (no face) | probes | genuine pairs | impostor pairs | EER | EER threshold | threshold at 1 % false accepts (false rejects there) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var set in sets)
        {
            var people = People(set);
            var clean = Embed(analyzer, people, degrade: false, out var missedClean);
            var small = Embed(analyzer, people, degrade: true, out var missedSmall);
            var photos = people.Sum(p => p.Files.Length);
            Row(set, people.Count, photos, missedClean, "clean", Scores(clean, clean, sameSet: true));
            Row(set, people.Count, photos, missedSmall, "×4 smaller vs clean", Scores(small, clean, sameSet: false));
            // The tiny inputs SAIR is for: the aligned face at 32 px, JPEG q30, matched whole (an --aligned album).
            var tiny = EmbedTiny(analyzer, people, FaceFraming.Ffhq, out var missedTiny);
            Row(set, people.Count, photos, missedTiny, "32 px aligned, JPEG q30, vs clean", Scores(tiny, clean, sameSet: false));
            if (set == "johns")
            {
                // The demo's framing: the dlib chip itself at 32 px, JPEG q30 (samples/album).
                var chips = EmbedTiny(analyzer, people, FaceFraming.DlibChip, out var missedChips);
                Row(set, people.Count, photos, missedChips, "32 px dlib chip, JPEG q30, vs clean", Scores(chips, clean, sameSet: false));
            }
        }

        return 0;
    }

    private static void Row(string set, int people, int photos, int missed, string probes, (List<double> Genuine, List<double> Impostor) scores)
    {
        var (eer, threshold) = EqualError(scores.Genuine, scores.Impostor);
        var (atFar, frr) = AtFalseAccepts(scores.Genuine, scores.Impostor, 0.01);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {set} | {people} / {photos} ({missed}) | {probes} | {scores.Genuine.Count} | {scores.Impostor.Count} | {eer:P1} | {threshold:0.000} | {atFar:0.000} ({frr:P1}) |"));
    }

    private sealed record Labelled(string Person, string[] Files);

    private static List<Labelled> People(string set) => set switch
    {
        "johns" => [.. Directory.GetDirectories(RepoPaths.SharedFile("fixtures", "faces", "johns")).Order(StringComparer.Ordinal)
            .Select(d => new Labelled(Path.GetFileName(d), [.. Directory.GetFiles(d, "*.jpg").Order(StringComparer.Ordinal)]))],
        "lfw-holdout" => [.. HoldoutList.Committed.People.Order(StringComparer.Ordinal)
            .Select(p => new Labelled(p, [.. Directory.GetFiles(RepoPaths.SharedFile("data", "faces-train", "lfw"), p + "_*.jpg")
                .Where(f => HoldoutList.PersonOf(f) == p).Order(StringComparer.Ordinal)]))
            .Where(p => p.Files.Length >= 2)],
        _ => throw new ArgumentException($"--sets {set}: use johns and/or lfw-holdout"),
    };

    /// <summary>Each photo's embedding (null where no face was found), by person, the photo as it is or taken down ×4.</summary>
    private static List<(string Person, float[]? Embedding)> Embed(SairFaceAnalyzer analyzer, List<Labelled> people, bool degrade, out int missed)
    {
        var result = new List<(string, float[]?)>();
        missed = 0;
        foreach (var person in people)
        {
            foreach (var file in person.Files)
            {
                var bytes = degrade ? Smaller(file, 4) : File.ReadAllBytes(file);
                var faces = analyzer.FindFacesAsync(bytes, CancellationToken.None).GetAwaiter().GetResult();
                // The photo's main face: the largest box (the sets hold one person per photo).
                var face = faces.IsDefaultOrEmpty ? null : faces.MaxBy(f => f.Location.Width * f.Location.Height);
                missed += face is null ? 1 : 0;
                result.Add((person.Person, face?.Embedding));
            }
        }

        return result;
    }

    /// <summary>
    /// Each photo as a tiny aligned input: the FFHQ-aligned face enrolment cuts (or, for <see cref="FaceFraming.DlibChip"/>,
    /// the chip file itself) taken down to 32 px and saved as JPEG q30, embedded whole as an aligned album input is.
    /// </summary>
    private static List<(string Person, float[]? Embedding)> EmbedTiny(SairFaceAnalyzer analyzer, List<Labelled> people, FaceFraming framing, out int missed)
    {
        var result = new List<(string, float[]?)>();
        missed = 0;
        foreach (var person in people)
        {
            foreach (var file in person.Files)
            {
                byte[]? face = null;
                if (framing == FaceFraming.DlibChip)
                {
                    face = File.ReadAllBytes(file);
                }
                else
                {
                    try
                    {
                        face = analyzer.AnalyzeAsync(File.ReadAllBytes(file), FaceChoice.Largest, CancellationToken.None).GetAwaiter().GetResult().AlignedFacePng;
                    }
                    catch (FaceNotFoundException)
                    {
                        missed++;
                    }
                }

                result.Add((person.Person, face is null ? null
                    : analyzer.EmbedAlignedAsync(TinyJpeg(face), framing, CancellationToken.None).GetAwaiter().GetResult()));
            }
        }

        return result;
    }

    private static byte[] TinyJpeg(byte[] face)
    {
        using var image = ImageFiles.Decode(face, "face");
        image.Mutate(p => p.Resize(32, 32, KnownResamplers.Bicubic));
        using var jpeg = new MemoryStream();
        image.Save(jpeg, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 30 });
        return jpeg.ToArray();
    }

    private static byte[] Smaller(string file, int factor)
    {
        using var image = ImageFiles.Load(file);
        image.Mutate(p => p.Resize(Math.Max(1, image.Width / factor), Math.Max(1, image.Height / factor), KnownResamplers.Bicubic));
        return ImageFiles.Encode(image, "png");
    }

    /// <summary>Cosines of every probe to every reference of the same person (genuine) and of others (impostor); a photo never with itself.</summary>
    private static (List<double> Genuine, List<double> Impostor) Scores(
        List<(string Person, float[]? Embedding)> probes, List<(string Person, float[]? Embedding)> references, bool sameSet)
    {
        var genuine = new List<double>();
        var impostor = new List<double>();
        for (var i = 0; i < probes.Count; i++)
        {
            for (var j = sameSet ? i + 1 : 0; j < references.Count; j++)
            {
                if (i == j || probes[i].Embedding is not { } a || references[j].Embedding is not { } b)
                {
                    continue;
                }

                (probes[i].Person == references[j].Person ? genuine : impostor).Add(Cosine(a, b));
            }
        }

        return (genuine, impostor);
    }

    /// <summary>
    /// The rate where false accepts (impostors at or above t) equal false rejects (genuines below t), and that t; where a
    /// range of thresholds is equally good (perfectly separated scores), its middle.
    /// </summary>
    public static (double Rate, double Threshold) EqualError(IReadOnlyList<double> genuine, IReadOnlyList<double> impostor)
    {
        var candidates = genuine.Concat(impostor).Distinct().Order().Select(t =>
        {
            var far = impostor.Count(s => s >= t) / (double)impostor.Count;
            var frr = genuine.Count(s => s < t) / (double)genuine.Count;
            return (Gap: Math.Abs(far - frr), Rate: (far + frr) / 2, Threshold: t);
        }).ToList();
        var gap = candidates.Min(c => c.Gap);
        var best = candidates.Where(c => c.Gap - gap < 1e-12).ToList();
        return best[0].Rate == 0 && impostor.Max() < genuine.Min()
            ? (0, (impostor.Max() + genuine.Min()) / 2)
            : (best[0].Rate, (best[0].Threshold + best[^1].Threshold) / 2);
    }

    /// <summary>The lowest threshold with false accepts at most <paramref name="rate"/>, and the false rejects there.</summary>
    private static (double Threshold, double FalseRejects) AtFalseAccepts(IReadOnlyList<double> genuine, IReadOnlyList<double> impostor, double rate)
    {
        var sorted = impostor.OrderDescending().ToList();
        var allowed = (int)Math.Floor(rate * sorted.Count);
        var threshold = allowed < sorted.Count ? sorted[allowed] + 1e-6 : sorted[^1];
        return (threshold, genuine.Count(s => s < threshold) / (double)genuine.Count);
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}

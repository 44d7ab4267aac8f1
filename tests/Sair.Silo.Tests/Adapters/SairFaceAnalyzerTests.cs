using Sair.Engine.Imaging;
using Sair.Grains.Ports;
using Sair.Silo.Adapters;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit.Abstractions;

namespace Sair.Silo.Tests.Adapters;

[Collection(TinyEngineCollection.Name)]
public sealed class SairFaceAnalyzerTests(ITestOutputHelper log)
{
    private static readonly SairFaceAnalyzer Analyzer = new(TinyEngine.Models);

    [Fact]
    public async Task A_photo_gives_an_identity_embedding_and_an_aligned_face_at_the_configured_size()
    {
        var photo = await File.ReadAllBytesAsync(RepoPaths.SharedFile("fixtures", "faces", "expressions", "happy.jpg"));

        var analysis = await Analyzer.AnalyzeAsync(photo, FaceChoice.Largest, CancellationToken.None);

        Assert.Equal(128, analysis.Embedding.Length);
        Assert.All(analysis.Embedding, v => Assert.True(float.IsFinite(v)));
        using var aligned = ImageFiles.Decode(analysis.AlignedFacePng, "aligned face");
        Assert.Equal((256, 256), (aligned.Width, aligned.Height));
    }

    [Fact]
    public async Task Of_two_faces_the_large_central_one_is_analysed()
    {
        var (subject, passerBy) = (JohnsChip("John_Savage", 0), JohnsChip("John_Shimkus", 0));
        using var group = new Image<Rgb24>(640, 480, new Rgb24(90, 100, 110));
        using (var large = subject.CloneAs<Rgb24>())
        using (var small = passerBy.CloneAs<Rgb24>())
        {
            large.Mutate(p => p.Resize(220, 220));
            small.Mutate(p => p.Resize(110, 110));
            group.Mutate(p => p.DrawImage(large, new Point(210, 130), 1f).DrawImage(small, new Point(20, 20), 1f));
        }

        var inGroup = await Analyzer.AnalyzeAsync(ImageFiles.Encode(group, "png"), FaceChoice.Largest, CancellationToken.None);
        var alone = await Analyzer.AnalyzeAsync(Framed(subject), FaceChoice.Largest, CancellationToken.None);
        var other = await Analyzer.AnalyzeAsync(Framed(passerBy), FaceChoice.Largest, CancellationToken.None);

        var (toSubject, toPasserBy) = (Cosine(inGroup.Embedding, alone.Embedding), Cosine(inGroup.Embedding, other.Embedding));
        Assert.True(toSubject > 0.95 && toSubject > toPasserBy,
            $"the group photo's face has cosine {toSubject:0.000} to the subject and {toPasserBy:0.000} to the passer-by.");
        subject.Dispose();
        passerBy.Dispose();
    }

    [Theory]
    [InlineData(FaceChoice.Largest, "John_Savage")]
    [InlineData(FaceChoice.Center, "John_Shimkus")]
    public async Task Of_a_large_face_aside_and_a_small_one_in_the_centre_the_choice_names_which_is_analysed(FaceChoice choice, string expected)
    {
        var (large, small) = (JohnsChip("John_Savage", 0), JohnsChip("John_Shimkus", 0));
        using var group = new Image<Rgb24>(640, 360, new Rgb24(90, 100, 110));
        using (var big = large.CloneAs<Rgb24>())
        using (var little = small.CloneAs<Rgb24>())
        {
            big.Mutate(p => p.Resize(200, 200));
            little.Mutate(p => p.Resize(120, 120));
            group.Mutate(p => p.DrawImage(big, new Point(20, 80), 1f).DrawImage(little, new Point(290, 120), 1f));
        }

        var inGroup = await Analyzer.AnalyzeAsync(ImageFiles.Encode(group, "png"), choice, CancellationToken.None);
        var alone = new Dictionary<string, float[]>
        {
            ["John_Savage"] = (await Analyzer.AnalyzeAsync(Framed(large), FaceChoice.Largest, CancellationToken.None)).Embedding,
            ["John_Shimkus"] = (await Analyzer.AnalyzeAsync(Framed(small), FaceChoice.Largest, CancellationToken.None)).Embedding,
        };

        Assert.Equal(expected, Closest(alone, inGroup.Embedding));
        large.Dispose();
        small.Dispose();
    }

    [Fact]
    public async Task A_photo_without_a_face_or_a_damaged_file_is_refused_with_its_reason()
    {
        var blank = await Assert.ThrowsAsync<FaceNotFoundException>(() => Analyzer.AnalyzeAsync(TinyEngine.BlankPng(300, 200), FaceChoice.Largest, CancellationToken.None));
        var damaged = await Assert.ThrowsAsync<ImageLoadException>(() => Analyzer.AnalyzeAsync("not a photo"u8.ToArray(), FaceChoice.Largest, CancellationToken.None));

        Assert.Contains("300×200", blank.Message);
        Assert.Equal("not-an-image", damaged.Reason);
    }

    [Fact]
    public async Task A_32_px_aligned_face_matches_its_person_among_the_five_johns_without_detection()
    {
        // The pool: one full-resolution chip per person, enrolled through detection and FFHQ alignment.
        var people = Directory.GetDirectories(RepoPaths.SharedFile("fixtures", "faces", "johns")).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToList();
        var pool = new Dictionary<string, float[]>();
        foreach (var person in people)
        {
            using var chip = JohnsChip(person, 0);
            pool[person] = (await Analyzer.AnalyzeAsync(ImageFiles.Encode(chip, "png"), FaceChoice.Largest, CancellationToken.None)).Embedding;
        }

        // Each person's other chips, degraded as samples/album's photos are (bicubic to 32 px, JPEG quality 30), both
        // as the dlib chips they are and after FFHQ alignment of the original.
        var (chipHits, ffhqHits, total) = (0, 0, 0);
        var firstChipHits = new List<string>();
        foreach (var person in people)
        {
            var files = Directory.GetFiles(RepoPaths.SharedFile("fixtures", "faces", "johns", person), "*.jpg").Order(StringComparer.Ordinal).Skip(1).ToList();
            for (var i = 0; i < files.Count; i++)
            {
                using var chip = ImageFiles.Load(files[i]);
                var asChip = Closest(pool, await Analyzer.EmbedAlignedAsync(Degraded(chip), FaceFraming.DlibChip, CancellationToken.None));
                using var ffhq = ImageFiles.Decode((await Analyzer.AnalyzeAsync(ImageFiles.Encode(chip, "png"), FaceChoice.Largest, CancellationToken.None)).AlignedFacePng, "aligned chip");
                var asFfhq = Closest(pool, await Analyzer.EmbedAlignedAsync(Degraded(ffhq), FaceFraming.Ffhq, CancellationToken.None));
                (chipHits, ffhqHits, total) = (chipHits + (asChip == person ? 1 : 0), ffhqHits + (asFfhq == person ? 1 : 0), total + 1);
                if (i == 0 && asChip == person)
                {
                    firstChipHits.Add(person);
                }
            }
        }

        log.WriteLine($"32 px dlib chips: {chipHits}/{total} matched; 32 px FFHQ-aligned: {ffhqHits}/{total}; first chip of each person: {firstChipHits.Count}/5");
        // Measured: 47/50 chips, 37/50 FFHQ faces (the face spans 22 of their 32 px), 5/5 first chips; chance is 1 in 5.
        Assert.True(firstChipHits.Count >= 4, $"only {string.Join(", ", firstChipHits)} matched by their first 32 px chip");
        Assert.True(chipHits >= 0.9 * total, $"{chipHits} of {total} 32 px chips matched their person");
        Assert.True(ffhqHits >= 0.7 * total, $"{ffhqHits} of {total} 32 px FFHQ-aligned faces matched their person");
    }

    [Fact]
    public async Task An_aligned_face_that_is_not_square_is_refused_with_its_size()
    {
        var refused = await Assert.ThrowsAsync<FaceNotFoundException>(
            () => Analyzer.EmbedAlignedAsync(TinyEngine.BlankPng(40, 32), FaceFraming.DlibChip, CancellationToken.None));

        Assert.Contains("40×32", refused.Message, StringComparison.Ordinal);
    }

    private static string Closest(Dictionary<string, float[]> pool, float[] embedding) => pool.MaxBy(p => Cosine(p.Value, embedding)).Key;

    /// <summary>As samples/album/LICENSE.md makes the album photos: bicubic to 32×32, then JPEG at quality 30.</summary>
    private static byte[] Degraded(Image<Rgb24> face)
    {
        using var small = face.Clone(p => p.Resize(32, 32, KnownResamplers.Bicubic));
        using var stream = new MemoryStream();
        small.SaveAsJpeg(stream, new JpegEncoder { Quality = 30 });
        return stream.ToArray();
    }

    private static Image<Rgb24> JohnsChip(string person, int index) =>
        ImageFiles.Load(Directory.GetFiles(RepoPaths.SharedFile("fixtures", "faces", "johns", person), "*.jpg").Order(StringComparer.Ordinal).ElementAt(index));

    /// <summary>The chip alone in a border like the group photo's, so both analyses see a comparable framing.</summary>
    private static byte[] Framed(Image<Rgb24> chip)
    {
        using var photo = new Image<Rgb24>(400, 400, new Rgb24(90, 100, 110));
        using var face = chip.CloneAs<Rgb24>();
        face.Mutate(p => p.Resize(220, 220));
        photo.Mutate(p => p.DrawImage(face, new Point(90, 90), 1f));
        return ImageFiles.Encode(photo, "png");
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}

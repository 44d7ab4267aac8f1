using Sair.Engine.Imaging;
using Sair.Grains.Engine;
using Sair.Silo.Engine;
using Sair.Tests;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Sair.Silo.Tests.Engine;

[Collection(TinyEngineCollection.Name)]
public sealed class SairFaceAnalyzerTests
{
    private static readonly SairFaceAnalyzer Analyzer = new(TinyEngine.Models);

    [Fact]
    public async Task A_photo_gives_an_identity_embedding_and_an_aligned_face_at_the_configured_size()
    {
        var photo = await File.ReadAllBytesAsync(RepoPaths.SharedFile("fixtures", "faces", "expressions", "happy.jpg"));

        var analysis = await Analyzer.AnalyzeAsync(photo, CancellationToken.None);

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

        var inGroup = await Analyzer.AnalyzeAsync(ImageFiles.Encode(group, "png"), CancellationToken.None);
        var alone = await Analyzer.AnalyzeAsync(Framed(subject), CancellationToken.None);
        var other = await Analyzer.AnalyzeAsync(Framed(passerBy), CancellationToken.None);

        var (toSubject, toPasserBy) = (Cosine(inGroup.Embedding, alone.Embedding), Cosine(inGroup.Embedding, other.Embedding));
        Assert.True(toSubject > 0.95 && toSubject > toPasserBy,
            $"the group photo's face has cosine {toSubject:0.000} to the subject and {toPasserBy:0.000} to the passer-by.");
        subject.Dispose();
        passerBy.Dispose();
    }

    [Fact]
    public async Task A_photo_without_a_face_or_a_damaged_file_is_refused_with_its_reason()
    {
        var blank = await Assert.ThrowsAsync<FaceNotFoundException>(() => Analyzer.AnalyzeAsync(TinyEngine.BlankPng(300, 200), CancellationToken.None));
        var damaged = await Assert.ThrowsAsync<ImageLoadException>(() => Analyzer.AnalyzeAsync("not a photo"u8.ToArray(), CancellationToken.None));

        Assert.Contains("300×200", blank.Message);
        Assert.Equal("not-an-image", damaged.Reason);
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

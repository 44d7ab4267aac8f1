using Sair.Engine.Alignment;
using Sair.Engine.Imaging;
using Sair.Grains.Ports;
using Sair.Silo.Adapters;
using Sair.Silo.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Sair.Silo.Tests.Adapters;

/// <summary>
/// The engine on whole photos: it finds the face (the one the job's face choice names), restores its aligned crop and
/// pastes the restored face back into the photo, leaving everything outside the face's square untouched.
/// </summary>
[Collection(TinyEngineCollection.Name)]
public sealed class WholePhotoRestorationTests(ITestOutputHelper log)
{
    private static readonly SairRestorationEngine Engine = new(TinyEngine.Models);

    [Fact]
    public async Task The_restored_face_is_pasted_back_into_the_photo_which_is_unchanged_outside_the_face()
    {
        var (_, photos) = JohnsPhotos.People()[0];
        // A degraded photo, as users bring: the photo was 48 px, enlarged to 120 — no detail G's 64 px cannot hold.
        var png = Scaled(Scaled(JohnsPhotos.Photo(photos[0]), 48), 120);

        var outcome = await Engine.RestoreAsync(Request("paste-back", png, Options(3)), new Progress<RestorationProgress>(), CancellationToken.None);
        Assert.Null(outcome.Note);

        using var input = TinyEngine.FromPng(png);
        using var pasted = TinyEngine.FromPng(outcome.RestoredPhotoPng!);
        Assert.Equal(input.shape, pasted.shape);
        // Where the face was taken from, found independently: the detector's one face, aligned as the engine aligns.
        using var face = Assert.Single(TinyEngine.Models.Detector.Detect(input));
        var side = SairRestorationEngine.AlignedSide(AlignmentTemplate.Ffhq.PhotoToUnit(face.Landmarks), TinyEngine.Size);
        using var aligned = FaceAligner.Align(input, face.Landmarks, side, AlignmentTemplate.Ffhq);
        using var mask = FaceAligner.SeamMask(input, aligned.Transform, featherPixels: 0);
        using var outside = (mask == 0).expand_as(input[0]).unsqueeze(0);
        using var inside = FaceAligner.SeamMask(input, aligned.Transform, featherPixels: 0.2 * side * aligned.Transform.Scale)
            .eq(1).expand_as(input[0]).unsqueeze(0);
        Assert.True(outside.any().item<bool>() && inside.any().item<bool>(), "the test photo must have pixels outside and deep inside the face's square");

        using var difference = (pasted - input).abs();
        Assert.Equal(0f, difference.masked_select(outside).max().item<float>());
        var insideChange = difference.masked_select(inside).mean().item<float>();
        Assert.True(insideChange > 0.02, $"inside the face's square the photo changed by only {insideChange:0.0000} on average");

        // The crop is the aligned face that went in, at the side that divides G's and the photo's resolution supports.
        using var cropped = TinyEngine.FromPng(outcome.CroppedFacePng!);
        Assert.Equal([1L, 3, side, side], cropped.shape);
        Assert.True(TinyEngine.MeanSquaredError(cropped, aligned.Face) < 1e-4, "the cropped face is not the face the photo's landmarks align to");
        using var restored = TinyEngine.FromPng(outcome.ImagePng);
        Assert.Equal([1L, 3, TinyEngine.Size, TinyEngine.Size], restored.shape);
    }

    [Fact]
    public async Task A_face_sharper_than_the_generator_keeps_its_own_pixels_and_the_note_says_why()
    {
        var (_, photos) = JohnsPhotos.People()[2];
        var png = Scaled(JohnsPhotos.Photo(photos[0]), 300);

        var outcome = await Engine.RestoreAsync(Request("sharp", png, Options(2)), new Progress<RestorationProgress>(), CancellationToken.None);

        using var input = TinyEngine.FromPng(png);
        using var kept = TinyEngine.FromPng(outcome.RestoredPhotoPng!);
        Assert.Equal(0f, (kept - input).abs().max().item<float>());
        Assert.Contains("The photo kept its own face", outcome.Note);
        Assert.Contains($"generator's {TinyEngine.Size} px output", outcome.Note);
        using var restored = TinyEngine.FromPng(outcome.ImagePng);
        Assert.Equal([1L, 3, TinyEngine.Size, TinyEngine.Size], restored.shape);
    }

    [Fact]
    public void Detail_psnr_tells_sharp_faces_from_enlarged_small_ones()
    {
        // The measurement behind SharperThanGeneratorPsnr: every johns person's first photo aligned at its own
        // resolution, as it is (sharp) and after a trip through 32 px (what a degraded photo holds).
        var scores = new List<(string Person, double Sharp, double Enlarged, double Side)>();
        foreach (var (person, photos) in JohnsPhotos.People())
        {
            var png = JohnsPhotos.Photo(photos[0]);
            using var photo = TinyEngine.FromPng(png);
            using var face = Assert.Single(TinyEngine.Models.Detector.Detect(photo));
            // The same geometry for both (the detector need not find a blurred face to measure it).
            var sharp = FaceDetail(png, face.Landmarks);
            var enlarged = FaceDetail(Scaled(Scaled(png, 32), 150), face.Landmarks);
            log.WriteLine($"{person}: sharp {sharp.Psnr:0.0} dB ({sharp.Side:0} px), enlarged from 32 px {enlarged.Psnr:0.0} dB ({enlarged.Side:0} px)");
            scores.Add((person, sharp.Psnr, enlarged.Psnr, sharp.Side));
        }

        Assert.All(scores, s => Assert.True(s.Side > TinyEngine.Size, $"{s.Person}: the face is only {s.Side:0} px"));
        Assert.All(scores, s => Assert.True(s.Sharp < SairRestorationEngine.SharperThanGeneratorPsnr, $"{s.Person}: sharp face scored {s.Sharp:0.0} dB"));
        Assert.All(scores, s => Assert.True(s.Enlarged >= SairRestorationEngine.SharperThanGeneratorPsnr, $"{s.Person}: enlarged face scored {s.Enlarged:0.0} dB"));
    }

    private static (double Psnr, double Side) FaceDetail(byte[] png, Tensor landmarks)
    {
        using var photo = TinyEngine.FromPng(png);
        var side = 1 / Math.Sqrt(Math.Abs(AlignmentTemplate.Ffhq.PhotoToUnit(landmarks).Determinant));
        using var aligned = FaceAligner.Align(photo, landmarks, (int)Math.Round(side), AlignmentTemplate.Ffhq);
        return (SairRestorationEngine.DetailPsnr(aligned.Face.clamp(0, 1), TinyEngine.Size), side);
    }

    [Fact]
    public async Task The_whole_photo_comes_back_at_the_jobs_upscale()
    {
        var (_, photos) = JohnsPhotos.People()[1];
        var png = Scaled(JohnsPhotos.Photo(photos[0]), 100);

        var outcome = await Engine.RestoreAsync(
            Request("upscale", png, Options(1) with { Upscale = 2 }), new Progress<RestorationProgress>(), CancellationToken.None);

        using var pasted = ImageFiles.Decode(outcome.RestoredPhotoPng!, "pasted photo");
        Assert.Equal((200, 200), (pasted.Width, pasted.Height));
    }

    [Theory]
    [InlineData(FaceChoice.Largest)]
    [InlineData(FaceChoice.Center)]
    public async Task Of_two_faces_the_jobs_face_choice_is_the_one_restored(FaceChoice choice)
    {
        // A large face at the left, a smaller one just right of the centre.
        var people = JohnsPhotos.People();
        using var group = new Image<Rgb24>(400, 220, new Rgb24(110, 110, 110));
        using (var large = ImageFiles.Load(people[0].Photos[0]))
        using (var small = ImageFiles.Load(people[3].Photos[0]))
        {
            large.Mutate(p => p.Resize(130, 130));
            small.Mutate(p => p.Resize(90, 90));
            group.Mutate(p => p.DrawImage(large, new Point(15, 45), 1f).DrawImage(small, new Point(195, 65), 1f));
        }

        var png = ImageFiles.Encode(group, "png");
        using var photo = TinyEngine.FromPng(png);
        var faces = TinyEngine.Models.Detector.Detect(photo);
        try
        {
            Assert.Equal(2, faces.Count);
            var expected = choice == FaceChoice.Largest ? faces.MaxBy(f => f.Box.Width)! : faces.MinBy(f => f.Box.Width)!;
            var other = faces.Single(f => f != expected);

            var outcome = await Engine.RestoreAsync(Request($"choice-{choice}", png, Options(1) with { Face = choice }),
                new Progress<RestorationProgress>(), CancellationToken.None);

            using var cropped = TinyEngine.FromPng(outcome.CroppedFacePng!);
            Assert.True(AlignmentError(photo, expected, cropped) < 1e-4, $"{choice}: the crop is not the expected face's");
            Assert.True(AlignmentError(photo, other, cropped) > 1e-3, $"{choice}: the crop also looks like the other face's");
        }
        finally
        {
            foreach (var face in faces)
            {
                face.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_whole_photo_without_a_face_fails_saying_so()
    {
        var error = await Assert.ThrowsAsync<FaceNotFoundException>(() =>
            Engine.RestoreAsync(Request("no-face", TinyEngine.BlankPng(120, 90), Options(1)), new Progress<RestorationProgress>(), CancellationToken.None));

        Assert.Contains("No face found", error.Message, StringComparison.Ordinal);
        Assert.Contains("--aligned", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(300, 64)]
    [InlineData(64, 64)]
    [InlineData(63.9, 32)]
    [InlineData(20, 16)]
    [InlineData(3, 8)]
    public void The_aligned_side_is_the_largest_divisor_of_the_generator_side_the_face_resolves(double photoSide, int expected)
    {
        var photoToUnit = Affine2D.ScaleTranslate(1 / photoSide, 1 / photoSide, 0.3, -0.1);

        Assert.Equal(expected, SairRestorationEngine.AlignedSide(photoToUnit, 64));
    }

    /// <summary>Mean squared difference between <paramref name="crop"/> and <paramref name="face"/> aligned at the crop's side.</summary>
    private static double AlignmentError(Tensor photo, DetectedFace face, Tensor crop)
    {
        using var aligned = FaceAligner.Align(photo, face.Landmarks, (int)crop.shape[3], AlignmentTemplate.Ffhq);
        return TinyEngine.MeanSquaredError(aligned.Face, crop);
    }

    private static byte[] Scaled(byte[] png, int side)
    {
        using var image = ImageFiles.Decode(png, "photo");
        image.Mutate(p => p.Resize(side, side, KnownResamplers.Bicubic));
        return ImageFiles.Encode(image, "png");
    }

    private static RestorationOptions Options(int iterations) => new("paper", iterations, null, 0, Seed: 1, CheckpointEvery: 1000);

    private static RestorationRequest Request(string jobId, byte[] png, RestorationOptions options) =>
        new(jobId, png, [], options, null, (_, _) => Task.CompletedTask, FaceFraming.Unaligned);
}

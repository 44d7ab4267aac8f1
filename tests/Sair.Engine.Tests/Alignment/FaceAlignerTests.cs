using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.Tests.FaceNets;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Alignment;

/// <summary>Cutting out and pasting back: exact on a synthetic grid-aligned square, and a round trip on a real photo.</summary>
public sealed class FaceAlignerTests(JohnsLandmarksFixture faces, ITestOutputHelper output) : IClassFixture<JohnsLandmarksFixture>
{
    // The upright 5-point face of AlignmentTemplateTests: its FFHQ square is (10,12)–(90,92), so at 80 px the
    // alignment is a pure whole-pixel shift and bilinear sampling must reproduce the pixels exactly.
    private static readonly double[] Upright = [40, 50, 60, 50, 50, 60, 42, 70, 58, 70];

    [Fact]
    public void Whole_pixel_alignment_is_an_exact_crop_and_pastes_back_exactly()
    {
        manual_seed(3);
        using var photo = rand(1, 3, 100, 120);
        using var landmarks = tensor(Upright, [5, 2]);
        using var aligned = FaceAligner.Align(photo, landmarks, 80, AlignmentTemplate.Ffhq);
        using var crop = photo[.., .., 12..92, 10..90];
        // float32 grid coordinates carry ~1e-5 of rounding; a half-pixel slip would cost ~0.2 on random pixels.
        var cropError = (aligned.Face - crop).abs().max().item<float>();
        Assert.True(cropError < 1e-4, $"the aligned face differs from the crop by up to {cropError}.");

        using var restored = zeros_like(aligned.Face);
        using var pasted = FaceAligner.PasteBack(photo, restored, aligned.Transform, featherPixels: 0);
        Assert.True(pasted[.., .., 12..92, 10..90].abs().max().item<float>() < 1e-4, "the pasted square is not the restored face.");
        using var outside = pasted.clone();
        outside[.., .., 12..92, 10..90] = photo[.., .., 12..92, 10..90];
        Assert.Equal(0f, (outside - photo).abs().max().item<float>());
    }

    [Fact]
    public void Align_then_paste_back_reproduces_the_photo_outside_the_seam()
    {
        const double feather = 8;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var photo = FacePhotos.Load(FacePhotos.Expression("sad"));
        var face = faces.Detector.Detect(photo)[0];
        using var aligned = FaceAligner.Align(photo, face.Landmarks, 512, AlignmentTemplate.Ffhq);
        var pasted = FaceAligner.PasteBack(photo, aligned.Face, aligned.Transform, feather);
        var mask = FaceAligner.SeamMask(photo, aligned.Transform, feather).unsqueeze(1).expand_as(photo);
        var difference = (pasted - photo).abs();

        var outside = difference.masked_select(mask.eq(0));
        var inside = difference.masked_select(mask.eq(1));
        var seam = mask.gt(0).logical_and(mask.lt(1)).sum().item<long>();
        output.WriteLine($"quad side {aligned.Transform.OutputSize * aligned.Transform.Scale:0.0} px; {outside.numel() / 3} px outside, " +
                         $"{inside.numel() / 3} inside, {seam / 3} on the seam; inside mean |Δ| {inside.mean().item<float>():0.0000}, " +
                         $"max {inside.max().item<float>():0.000}");
        Assert.True(outside.numel() > 0 && inside.numel() > 0 && seam > 0, "the photo should have pixels outside, inside and on the seam.");
        Assert.Equal(0f, outside.max().item<float>());
        Assert.True(inside.mean().item<float>() < 0.01, $"the round trip changes the face by {inside.mean().item<float>():0.0000} on average.");

        // A different face pasted back replaces the interior: the inverse warp must land on the same pixels.
        var inverted = FaceAligner.PasteBack(photo, 1 - aligned.Face, aligned.Transform, feather);
        var invertedError = (inverted - (1 - photo)).abs().masked_select(mask.eq(1)).mean().item<float>();
        Assert.True(invertedError < 0.01, $"the pasted inverted face is off the inverted photo by {invertedError:0.0000} on average.");
    }

    [Fact]
    public void Paste_back_passes_gradients_to_the_restored_face()
    {
        using var scope = NewDisposeScope();
        var (_, chip, landmarks) = faces.Chips[0];
        using var aligned = FaceAligner.Align(chip, landmarks, 64, AlignmentTemplate.Ffhq);
        var restored = aligned.Face.detach().requires_grad_(true);
        FaceAligner.PasteBack(chip, restored, aligned.Transform, 4).sum().backward();
        Assert.True(restored.grad!.abs().sum().item<float>() > 0, "no gradient reached the restored face.");
    }

    [Fact]
    public void Bad_inputs_are_refused_with_what_to_pass()
    {
        using var unbatched = rand(3, 100, 100);
        using var landmarks = tensor(Upright, [5, 2]);
        var photoError = Assert.Throws<ArgumentException>(() => FaceAligner.Align(unbatched, landmarks, 80, AlignmentTemplate.Ffhq));
        Assert.Contains("(1, 3, H, W)", photoError.Message);
        using var photo = rand(1, 3, 100, 100);
        using var seven = rand(7, 2);
        var pointsError = Assert.Throws<ArgumentException>(() => FaceAligner.Align(photo, seven, 80, AlignmentTemplate.Ffhq));
        Assert.Contains("(68, 2)", pointsError.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceCrop(0.5, 0.5, 0.6));
    }
}

/// <summary>
/// Large photos are searched, landmarked and pasted into without full-size copies (issue 18: a 40-megapixel photo
/// pushed a silo to 6 GB); these check that the cheaper paths find and paste what the full-size ones do.
/// </summary>
public sealed class LargePhotoTests(JohnsLandmarksFixture faces) : IClassFixture<JohnsLandmarksFixture>
{
    [Fact]
    public void A_photo_over_the_working_side_gives_the_boxes_and_landmarks_of_its_smaller_self()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        const int Up = 8;
        var (path, chip, _) = faces.Chips[0];
        // The chip in a grey frame, as an ordinary photo, then 8× larger: 2,400 px a side, over the working side (1,664)
        // and with a face box over the landmark net's working side (1,024).
        var photo = nn.functional.pad(chip, [75, 75, 75, 75], value: FaceDetector.TightCropBorderGrey);
        var large = nn.functional.interpolate(photo, scale_factor: [Up, Up], mode: InterpolationMode.Bilinear, align_corners: false);

        var small = Assert.Single(faces.Detector.DetectBoxes(photo));
        var big = Assert.Single(faces.Detector.DetectBoxes(large));
        Assert.True(big.Box.Width > FaceDetector.LandmarkWorkingSide, $"the test's face box is only {big.Box.Width:0} px wide");
        var side = small.Box.Width;
        Assert.True(Math.Abs(big.Box.CentreX / Up - small.Box.CentreX) < 0.05 * side && Math.Abs(big.Box.Width / Up - side) < 0.05 * side,
            $"{Path.GetFileName(path)}: box {big.Box} at ×{Up}, {small.Box} at ×1");

        var near = faces.Detector.LandmarksIn(photo, small.Box);
        var far = faces.Detector.LandmarksIn(large, big.Box) / Up;
        var error = (far - near).pow(2).sum(1).sqrt().mean().item<float>();
        Assert.True(error < 0.02 * side, $"{Path.GetFileName(path)}: landmarks at ×{Up} lie {error:0.00} px (×1 pixels) from those at ×1");
    }

    [Fact]
    public void Pasting_in_bands_gives_the_whole_photo_blend()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        // A face square larger than one band (2^20 pixels) of a 1,500 px photo.
        var photo = rand(1, 3, 1500, 1500);
        var landmarks = tensor(new double[] { 40, 50, 60, 50, 50, 60, 42, 70, 58, 70 }, [5, 2]) * 14;
        var aligned = FaceAligner.Align(photo, landmarks, 256, AlignmentTemplate.Ffhq);
        var restored = 1 - aligned.Face;

        var banded = FaceAligner.PasteBack(photo, restored, aligned.Transform, featherPixels: 8);
        var whole = FaceAligner.PasteBack(photo.requires_grad_(true), restored, aligned.Transform, featherPixels: 8).detach();

        Assert.True(aligned.Transform.Quad.Max(p => p.Y) - aligned.Transform.Quad.Min(p => p.Y) > (1 << 20) / 1500.0, "the face fits one band");
        Assert.True((banded - whole).abs().max().item<float>() < 1e-5, "the banded paste differs from the whole-photo blend");
        Assert.True((banded - photo.detach()).abs().max().item<float>() > 0.5, "nothing was pasted");
    }
}

using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.Tests.FaceNets;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Alignment;

/// <summary>Shared by the alignment tests: one face detector over the test run's nets, and the johns/ chips' landmarks.</summary>
public sealed class JohnsLandmarksFixture : IDisposable
{
    public JohnsLandmarksFixture()
    {
        Detector = new FaceDetector(InstalledFaceModels.Detector, new FaceApiLandmarks(InstalledFaceModels.Landmarks));
        using var _ = no_grad();
        foreach (var (_, path) in FacePhotos.Johns())
        {
            var chip = FacePhotos.Load(path);
            var boxes = Detector.DetectBoxes(chip);
            // The 150 px chips are cut tight around the face; where the detector misses, the whole chip is the face box.
            var box = boxes.Count > 0 ? boxes[0].Box : new PixelBox(0, 0, chip.shape[3], chip.shape[2]);
            Detected += boxes.Count > 0 ? 1 : 0;
            Chips.Add((path, chip, Detector.LandmarksIn(chip, box)));
        }
    }

    public FaceDetector Detector { get; }

    public List<(string Path, Tensor Chip, Tensor Landmarks)> Chips { get; } = [];

    public int Detected { get; }

    public void Dispose()
    {
        foreach (var (_, chip, landmarks) in Chips)
        {
            chip.Dispose();
            landmarks.Dispose();
        }
        Detector.Dispose();
    }
}

/// <summary>
/// Alignment of real photos, checked by detection on the aligned output: the eyes found there must lie where the
/// template put them.
/// </summary>
public sealed class FaceAlignmentTests(JohnsLandmarksFixture johns, ITestOutputHelper output) : IClassFixture<JohnsLandmarksFixture>
{
    private const int OutputSize = 256;

    // The FFHQ square reaches far past a 150 px chip; reflected padding would mirror whole faces into the frame for
    // the detector to find, so the tests pad with black.
    private const GridSamplePaddingMode Padding = GridSamplePaddingMode.Zeros;

    [Theory]
    [InlineData("lfw", 40)]
    [InlineData("utkface", 40)]
    public void Tight_face_crops_are_found(string folder, int atLeast)
    {
        // Deep-funneled LFW (150 px) and UTKFace (200 px, forehead to chin) crops: the face fills the photo to its
        // edges. Searched only as they were, 15 of these 40 LFW and 1 of these 40 UTKFace crops showed no face (of
        // the first 80: 30 and 17); the detector now searches an empty photo again inside a grey border.
        using var scope = NewDisposeScope();
        var files = Directory.GetFiles(RepoPaths.SharedFile("data", "faces-train", folder)).Order(StringComparer.Ordinal).Take(40).ToList();
        var missed = files.Where(f => johns.Detector.DetectBoxes(FacePhotos.Load(f)).Count == 0).Select(Path.GetFileName).ToList();

        output.WriteLine($"{folder}: {files.Count - missed.Count}/{files.Count} found; missed {string.Join(", ", missed)}");
        Assert.True(files.Count - missed.Count >= atLeast, $"{folder}: found faces in {files.Count - missed.Count} of {files.Count} crops; missed {string.Join(", ", missed)}");
    }

    [Fact]
    public void Ffhq_recipe_puts_the_redetected_eyes_where_the_transform_sends_them()
    {
        var errors = new List<double>();
        foreach (var (path, chip, landmarks) in johns.Chips)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var aligned = FaceAligner.Align(chip, landmarks, OutputSize, AlignmentTemplate.Ffhq, Padding);
            var expected = EyeCentres(aligned.Transform.ToAligned(landmarks));
            var found = RedetectedEyes(aligned.Face, path);
            errors.Add(Math.Max(Distance(found.Left, expected.Left), Distance(found.Right, expected.Right)));
        }
        Report("FFHQ recipe", errors);
        Assert.True(errors.Max() <= 3, $"a re-detected eye is {errors.Max():0.00} px from where the FFHQ transform put it (limit 3 px).");
    }

    [Fact]
    public void Measured_template_puts_the_redetected_eyes_at_the_templates_eyes()
    {
        // The template is the johns chips' mean landmarks, so across the set the eyes land on the template's eyes on
        // average; each face lands where the least-squares fit of all 68 points sends it, off by its own proportions.
        var template = AlignmentTemplate.Measure(johns.Chips.Select(c => c.Landmarks / 150f));
        using var points = template.Points();
        var templateEyes = EyeCentres(points * OutputSize);
        var errors = new List<double>();
        var fromTemplate = new List<double>();
        double leftX = 0, leftY = 0, rightX = 0, rightY = 0;
        foreach (var (path, chip, landmarks) in johns.Chips)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var aligned = FaceAligner.Align(chip, landmarks, OutputSize, template, Padding);
            var expected = EyeCentres(aligned.Transform.ToAligned(landmarks));
            var found = RedetectedEyes(aligned.Face, path);
            errors.Add(Math.Max(Distance(found.Left, expected.Left), Distance(found.Right, expected.Right)));
            fromTemplate.Add(Math.Max(Distance(found.Left, templateEyes.Left), Distance(found.Right, templateEyes.Right)));
            leftX += found.Left.X;
            leftY += found.Left.Y;
            rightX += found.Right.X;
            rightY += found.Right.Y;
        }
        var n = johns.Chips.Count;
        var meanLeft = new Point(leftX / n, leftY / n);
        var meanRight = new Point(rightX / n, rightY / n);
        Report("measured johns template, from the fitted transform", errors);
        Report("measured johns template, from the template's eyes", fromTemplate);
        output.WriteLine($"mean re-detected eyes ({meanLeft.X:0.00}, {meanLeft.Y:0.00}) ({meanRight.X:0.00}, {meanRight.Y:0.00}); " +
                         $"template eyes ({templateEyes.Left.X:0.00}, {templateEyes.Left.Y:0.00}) ({templateEyes.Right.X:0.00}, {templateEyes.Right.Y:0.00})");
        // This template scales the 150 px chips by 1.7 (FFHQ's square by 1.15), magnifying the landmark net's own
        // jitter of 1–2 chip pixels; so 95% of the faces, not all, must meet the 3 px limit here.
        var within = errors.Count(e => e <= 3);
        Assert.True(within >= 0.95 * n, $"only {within} of {n} re-detected eye pairs lie within 3 px of where the fitted transform put them.");
        var meanError = Math.Max(Distance(meanLeft, templateEyes.Left), Distance(meanRight, templateEyes.Right));
        Assert.True(meanError <= 1, $"the mean re-detected eye is {meanError:0.00} px from the template's eye (limit 1 px).");
    }

    private (Point Left, Point Right) RedetectedEyes(Tensor alignedFace, string path)
    {
        var boxes = johns.Detector.DetectBoxes(alignedFace);
        Assert.True(boxes.Count > 0, $"no face detected in the aligned {Path.GetFileName(path)}.");
        using var landmarks = johns.Detector.LandmarksIn(alignedFace, boxes[0].Box);
        return EyeCentres(landmarks);
    }

    private void Report(string what, List<double> errors)
    {
        var sorted = errors.OrderBy(e => e).ToList();
        output.WriteLine($"{what}: {johns.Detected}/{johns.Chips.Count} chips detected; eye error over {errors.Count} faces " +
                         $"mean {errors.Average():0.00} px, median {sorted[sorted.Count / 2]:0.00} px, max {sorted[^1]:0.00} px at {OutputSize} px; {errors.Count(e => e <= 3)} within 3 px");
    }

    private readonly record struct Point(double X, double Y);

    private static (Point Left, Point Right) EyeCentres(Tensor landmarks)
    {
        var (left, right) = FacePoints.EyeCentres(FacePoints.Read(landmarks));
        return (new Point(left.X, left.Y), new Point(right.X, right.Y));
    }

    private static double Distance(Point a, Point b) => Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y));
}

using Sair.Engine.Alignment;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Alignment;

/// <summary>The templates' geometry on hand-computed landmark sets (no networks).</summary>
public sealed class AlignmentTemplateTests
{
    // An upright face: eyes (40,50) and (60,50), nose (50,60), mouth corners (42,70) and (58,70). By the FFHQ recipe
    // e = (20,0), m = (0,20), x = e − rot90(m) = (40,0) → unit (1,0) × max(2·20, 1.8·20) = (40,0), y = (0,40),
    // c = (50,50) + 0.1·m = (50,52): the square runs from (10,12) to (90,92).
    private static readonly double[] Upright = [40, 50, 60, 50, 50, 60, 42, 70, 58, 70];

    [Fact]
    public void Ffhq_recipe_builds_the_hand_computed_square()
    {
        var transform = Transform(Upright, 80, AlignmentTemplate.Ffhq);
        AssertQuad([(10, 12), (10, 92), (90, 92), (90, 12)], transform);
        Assert.Equal(1.0, transform.Scale, 9);
    }

    [Fact]
    public void Ffhq_recipe_sizes_a_long_face_by_its_eye_to_mouth_distance()
    {
        // Mouth 30 below the eyes: max(2·20, 1.8·30) = 54 is the half-side; c = (50, 53).
        double[] longFace = [40, 50, 60, 50, 50, 65, 42, 80, 58, 80];
        var transform = Transform(longFace, 108, AlignmentTemplate.Ffhq);
        AssertQuad([(-4, -1), (-4, 107), (104, 107), (104, -1)], transform);
    }

    [Fact]
    public void Ffhq_recipe_reads_eye_centres_and_mouth_corners_from_68_points()
    {
        var points = new double[136];
        for (var i = 36; i < 42; i++)
        {
            // Eye contours around the centres, so only their means match the 5-point set.
            points[2 * i] = 40 + (i % 2 == 0 ? 3 : -3);
            points[2 * i + 1] = 50 + (i < 39 ? 1 : -1);
            points[2 * (i + 6)] = 60 + (i % 2 == 0 ? 3 : -3);
            points[2 * (i + 6) + 1] = 50 + (i < 39 ? 1 : -1);
        }
        (points[96], points[97], points[108], points[109]) = (42, 70, 58, 70);
        AssertQuad([(10, 12), (10, 92), (90, 92), (90, 12)], Transform(points, 80, AlignmentTemplate.Ffhq));
    }

    [Fact]
    public void Ffhq_square_turns_and_scales_with_the_face()
    {
        const double angle = 30 * Math.PI / 180;
        var move = new Affine2D(2 * Math.Cos(angle), -2 * Math.Sin(angle), 300, 2 * Math.Sin(angle), 2 * Math.Cos(angle), -40);
        var moved = new double[Upright.Length];
        for (var i = 0; i < Upright.Length; i += 2)
        {
            (moved[i], moved[i + 1]) = move.Apply(Upright[i], Upright[i + 1]);
        }
        var transform = Transform(moved, 80, AlignmentTemplate.Ffhq);
        AssertQuad([move.Apply(10, 12), move.Apply(10, 92), move.Apply(90, 92), move.Apply(90, 12)], transform);
        Assert.Equal(2.0, transform.Scale, 9);
    }

    [Fact]
    public void Point_template_recovers_the_similarity_that_made_the_landmarks()
    {
        double[] unit = [0.35, 0.4, 0.65, 0.41, 0.5, 0.55, 0.38, 0.72, 0.62, 0.71];
        using var unitPoints = tensor(unit, [5, 2]);
        var template = AlignmentTemplate.FromPoints(unitPoints);
        var photoToUnit = new Affine2D(0.004, 0.001, -0.3, -0.001, 0.004, 0.1);
        var unitToPhoto = photoToUnit.Inverse();
        var photo = new double[unit.Length];
        for (var i = 0; i < unit.Length; i += 2)
        {
            (photo[i], photo[i + 1]) = unitToPhoto.Apply(unit[i], unit[i + 1]);
        }
        var fitted = template.PhotoToUnit(photo);
        Assert.Equal(photoToUnit.A, fitted.A, 9);
        Assert.Equal(photoToUnit.B, fitted.B, 9);
        Assert.Equal(photoToUnit.C, fitted.C, 9);
        Assert.Equal(photoToUnit.D, fitted.D, 9);
        Assert.Equal(photoToUnit.E, fitted.E, 9);
        Assert.Equal(photoToUnit.F, fitted.F, 9);
    }

    [Fact]
    public void Measure_averages_the_sets_and_refuses_mixed_layouts()
    {
        using var a = tensor(new double[] { 0.3, 0.4, 0.7, 0.4, 0.5, 0.5, 0.35, 0.7, 0.65, 0.7 }, [5, 2]);
        using var b = tensor(new double[] { 0.4, 0.4, 0.6, 0.5, 0.5, 0.6, 0.45, 0.8, 0.55, 0.7 }, [5, 2]);
        var template = AlignmentTemplate.Measure([a, b]);
        using var points = template.Points();
        using var expected = (a + b) / 2;
        Assert.True(points.allclose(expected), "the measured template is not the mean of the sets.");
        Assert.Equal(5, template.PointCount);

        using var many = zeros(68, 2, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => AlignmentTemplate.Measure([a, many]));
        Assert.Contains("68", error.Message);
        Assert.Throws<ArgumentException>(() => AlignmentTemplate.Measure([]));
        Assert.Throws<InvalidOperationException>(() => AlignmentTemplate.Ffhq.Points());
    }

    [Fact]
    public void Five_point_template_takes_68_landmarks_but_not_the_reverse()
    {
        using var five = tensor(Upright.Select(v => v / 100).ToArray(), [5, 2]);
        using var sixtyEight = zeros(68, 2, dtype: ScalarType.Float64);
        var fromFive = AlignmentTemplate.FromPoints(five);
        var fromSixtyEight = AlignmentTemplate.Measure([sixtyEight + 0.5]);
        Assert.Throws<ArgumentException>(() => fromSixtyEight.PhotoToUnit(Upright));
        using var wrongShape = zeros(7, 2);
        Assert.Throws<ArgumentException>(() => fromFive.PhotoToUnit(wrongShape));
    }

    private static AlignmentTransform Transform(double[] landmarks, int size, AlignmentTemplate template) =>
        new(template.PhotoToUnit(landmarks).Then(Affine2D.ScaleTranslate(size, size)), size);

    private static void AssertQuad((double X, double Y)[] expected, AlignmentTransform transform)
    {
        var quad = transform.Quad;
        for (var i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(quad[i].X - expected[i].X) < 1e-9 && Math.Abs(quad[i].Y - expected[i].Y) < 1e-9,
                $"corner {i} is ({quad[i].X}, {quad[i].Y}), expected ({expected[i].X}, {expected[i].Y}).");
        }
    }
}

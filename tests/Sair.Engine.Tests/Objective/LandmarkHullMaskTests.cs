using Sair.Engine.Objective;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Objective;

public sealed class LandmarkHullMaskTests
{
    [Fact]
    public void Hull_drops_interior_and_collinear_points()
    {
        var hull = LandmarkHullMask.ConvexHull([(0, 0), (2, 0), (4, 0), (4, 4), (0, 4), (1, 1), (2, 3)]);
        Assert.Equal(new (double, double)[] { (0, 0), (4, 0), (4, 4), (0, 4) }, hull);
    }

    [Fact]
    public void Square_hull_fills_exactly_the_pixels_whose_centres_it_covers()
    {
        // Corners (2, 3)–(6, 5) plus interior points: pixels x ∈ [2, 6], y ∈ [3, 5] → 5 × 3 pixels, boundaries included.
        var points = new float[68 * 2];
        var corners = new[] { (2f, 3f), (6f, 3f), (6f, 5f), (2f, 5f) };
        for (var k = 0; k < 68; k++)
        {
            var (x, y) = k < 4 ? corners[k] : (4f, 4f);
            (points[2 * k], points[2 * k + 1]) = (x, y);
        }
        using var landmarks = tensor(points, [1, 68, 2]);
        using var mask = LandmarkHullMask.Rasterize(landmarks, 8, 10);
        Assert.Equal([1L, 1, 8, 10], mask.shape);
        Assert.Equal(15, mask.sum().item<float>());
        Assert.Equal(1, mask[0, 0, 3, 2].item<float>());
        Assert.Equal(1, mask[0, 0, 5, 6].item<float>());
        Assert.Equal(0, mask[0, 0, 2, 2].item<float>());
        Assert.Equal(0, mask[0, 0, 4, 7].item<float>());
    }

    [Fact]
    public void Triangle_mask_matches_a_point_in_triangle_count()
    {
        // Triangle (0,0), (20,0), (0,20) on a 16×16 grid: pixel centres with x + y ≤ 20 inside the grid.
        var points = Enumerable.Range(0, 68).SelectMany(k => (k % 3) switch { 0 => new[] { 0f, 0f }, 1 => [20f, 0f], _ => [0f, 20f] }).ToArray();
        using var landmarks = tensor(points, [1, 68, 2]);
        using var mask = LandmarkHullMask.Rasterize(landmarks, 16, 16);
        var expected = Enumerable.Range(0, 16).Sum(y => Enumerable.Range(0, 16).Count(x => x + y <= 20));
        Assert.Equal(expected, (int)mask.sum().item<float>());
    }

    [Fact]
    public void Non_finite_landmarks_are_refused()
    {
        using var landmarks = full([1, 68, 2], float.NaN);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => LandmarkHullMask.Rasterize(landmarks, 8, 8)).Message);
    }
}

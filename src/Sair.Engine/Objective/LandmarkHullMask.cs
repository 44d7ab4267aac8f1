using static TorchSharp.torch;

namespace Sair.Engine.Objective;

/// <summary>
/// The official skin mask F_G: the filled convex hull of the 68 facial landmarks, as 0/1 (the official code leaves it
/// at 0/255, a defect not reproduced here). Rasterised on the CPU: a hull has at most 68 vertices, so a scanline over
/// its bounding box is cheap next to one generator pass.
/// </summary>
internal static class LandmarkHullMask
{
    /// <summary>
    /// Masks (B, 1, H, W) float32 on the landmarks' device from landmarks (B, K, 2) given as (x, y) pixel coordinates in
    /// an H×W grid whose pixel (i, j) has its centre at (x = j, y = i). A pixel is in when its centre lies inside the
    /// hull or on its boundary.
    /// </summary>
    public static Tensor Rasterize(Tensor landmarks, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(landmarks);
        if (landmarks.dim() != 3 || landmarks.shape[2] != 2 || landmarks.shape[1] < 3)
        {
            throw new ArgumentException(
                $"Landmarks must be (B, K, 2) pixel coordinates with K ≥ 3; got ({string.Join(", ", landmarks.shape)}).", nameof(landmarks));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var (batch, count) = ((int)landmarks.shape[0], (int)landmarks.shape[1]);
        using var cpu = landmarks.detach().cpu().to(ScalarType.Float64).contiguous();
        var coordinates = cpu.data<double>().ToArray();
        if (coordinates.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("The landmark detector returned NaN or infinite coordinates; no face mask can be drawn.", nameof(landmarks));
        }
        var pixels = new float[batch * height * width];
        for (var b = 0; b < batch; b++)
        {
            var points = Enumerable.Range(0, count)
                .Select(k => (X: coordinates[(b * count + k) * 2], Y: coordinates[(b * count + k) * 2 + 1]))
                .ToArray();
            Fill(ConvexHull(points), pixels.AsSpan(b * height * width, height * width), height, width);
        }
        return tensor(pixels, [batch, 1, height, width]).to(landmarks.device);
    }

    /// <summary>Andrew's monotone chain: the hull's vertices counter-clockwise (in x-right, y-up terms), collinear points dropped.</summary>
    public static (double X, double Y)[] ConvexHull(IReadOnlyList<(double X, double Y)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var sorted = points.Distinct().OrderBy(p => p.X).ThenBy(p => p.Y).ToArray();
        if (sorted.Length < 3)
        {
            return sorted;
        }
        var hull = new (double X, double Y)[2 * sorted.Length];
        var k = 0;
        foreach (var p in sorted)
        {
            while (k >= 2 && Cross(hull[k - 2], hull[k - 1], p) <= 0)
            {
                k--;
            }
            hull[k++] = p;
        }
        var lower = k + 1;
        for (var i = sorted.Length - 2; i >= 0; i--)
        {
            while (k >= lower && Cross(hull[k - 2], hull[k - 1], sorted[i]) <= 0)
            {
                k--;
            }
            hull[k++] = sorted[i];
        }
        return hull[..(k - 1)];
    }

    private static double Cross((double X, double Y) o, (double X, double Y) a, (double X, double Y) b) =>
        (a.X - o.X) * (b.Y - o.Y) - (a.Y - o.Y) * (b.X - o.X);

    private static void Fill((double X, double Y)[] hull, Span<float> mask, int height, int width)
    {
        if (hull.Length < 3)
        {
            return;
        }
        // Inside a counter-clockwise convex polygon every edge has the point on its left (or on it).
        const double Tolerance = 1e-9;
        var top = Math.Max(0, (int)Math.Ceiling(hull.Min(p => p.Y)));
        var bottom = Math.Min(height - 1, (int)Math.Floor(hull.Max(p => p.Y)));
        var left = Math.Max(0, (int)Math.Ceiling(hull.Min(p => p.X)));
        var right = Math.Min(width - 1, (int)Math.Floor(hull.Max(p => p.X)));
        for (var y = top; y <= bottom; y++)
        {
            for (var x = left; x <= right; x++)
            {
                var inside = true;
                for (var e = 0; e < hull.Length && inside; e++)
                {
                    inside = Cross(hull[e], hull[(e + 1) % hull.Length], (x, y)) >= -Tolerance;
                }
                if (inside)
                {
                    mask[y * width + x] = 1;
                }
            }
        }
    }
}

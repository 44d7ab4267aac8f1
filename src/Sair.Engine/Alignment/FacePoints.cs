using static TorchSharp.torch;

namespace Sair.Engine.Alignment;

/// <summary>
/// The alignment points of a landmark set: 68 points in the iBUG-68 order, or 5 points ordered as
/// left eye centre, right eye centre, nose tip, left mouth corner, right mouth corner ("left" = image left).
/// </summary>
internal static class FacePoints
{
    /// <summary>The landmarks as a flat (x0, y0, x1, y1, …) double array, from a (K,2) or (1,K,2) tensor with K = 5 or 68.</summary>
    public static double[] Read(Tensor landmarks)
    {
        var count = landmarks.dim() switch
        {
            2 => landmarks.shape[0],
            3 when landmarks.shape[0] == 1 => landmarks.shape[1],
            _ => -1,
        };
        if (count is not (5 or 68) || landmarks.shape[^1] != 2)
        {
            throw new ArgumentException(
                $"landmarks must be (68, 2) iBUG-68 points or (5, 2) eye/nose/mouth points in pixels, one face; got [{string.Join(", ", landmarks.shape)}].",
                nameof(landmarks));
        }
        using var flat = landmarks.detach().cpu().to(ScalarType.Float64).reshape(-1);
        var values = flat.data<double>().ToArray();
        if (values.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("landmarks hold NaN or infinite coordinates.", nameof(landmarks));
        }
        return values;
    }

    /// <summary>Eye centres, nose tip and mouth corners (the 5-point set) of a 5- or 68-point flat array.</summary>
    public static double[] FivePoints(double[] points)
    {
        if (points.Length == 10)
        {
            return (double[])points.Clone();
        }
        var (leftEye, rightEye) = EyeCentres(points);
        return [leftEye.X, leftEye.Y, rightEye.X, rightEye.Y, points[2 * 30], points[2 * 30 + 1],
            points[2 * 48], points[2 * 48 + 1], points[2 * 54], points[2 * 54 + 1]];
    }

    /// <summary>The eye centres (image left first): means of iBUG points 36–41 and 42–47, or points 0 and 1 of a 5-point set.</summary>
    public static ((double X, double Y) Left, (double X, double Y) Right) EyeCentres(double[] points) =>
        points.Length == 10
            ? ((points[0], points[1]), (points[2], points[3]))
            : (Mean(points, 36, 42), Mean(points, 42, 48));

    /// <summary>The mouth corners (image left first): iBUG points 48 and 54, or points 3 and 4 of a 5-point set.</summary>
    public static ((double X, double Y) Left, (double X, double Y) Right) MouthCorners(double[] points) =>
        points.Length == 10
            ? ((points[6], points[7]), (points[8], points[9]))
            : ((points[96], points[97]), (points[108], points[109]));

    private static (double X, double Y) Mean(double[] points, int from, int to)
    {
        double x = 0, y = 0;
        for (var i = from; i < to; i++)
        {
            x += points[2 * i];
            y += points[2 * i + 1];
        }
        return (x / (to - from), y / (to - from));
    }
}

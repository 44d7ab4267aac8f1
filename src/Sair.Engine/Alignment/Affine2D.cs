using static TorchSharp.torch;

namespace Sair.Engine.Alignment;

/// <summary>A plane affine map x' = A·x + B·y + C, y' = D·x + E·y + F, in double precision.</summary>
public readonly record struct Affine2D(double A, double B, double C, double D, double E, double F)
{
    public static Affine2D Identity => new(1, 0, 0, 0, 1, 0);

    /// <summary>Scales x by <paramref name="sx"/> and y by <paramref name="sy"/>, then translates.</summary>
    public static Affine2D ScaleTranslate(double sx, double sy, double tx = 0, double ty = 0) => new(sx, 0, tx, 0, sy, ty);

    public double Determinant => A * E - B * D;

    /// <summary>The map that applies this one first and then <paramref name="next"/>.</summary>
    public Affine2D Then(Affine2D next) => new(
        next.A * A + next.B * D, next.A * B + next.B * E, next.A * C + next.B * F + next.C,
        next.D * A + next.E * D, next.D * B + next.E * E, next.D * C + next.E * F + next.F);

    public Affine2D Inverse()
    {
        var det = Determinant;
        if (Math.Abs(det) < 1e-12)
        {
            throw new InvalidOperationException("the affine map is singular (the landmarks are degenerate: coincident or collinear points).");
        }
        return new Affine2D(E / det, -B / det, (B * F - C * E) / det, -D / det, A / det, (C * D - A * F) / det);
    }

    public (double X, double Y) Apply(double x, double y) => (A * x + B * y + C, D * x + E * y + F);

    /// <summary>Applies the map to points (…, 2) of (x, y), on their device and in their dtype.</summary>
    public Tensor Apply(Tensor points)
    {
        using var scope = NewDisposeScope();
        var matrix = tensor(new[] { A, D, B, E }, [2, 2], dtype: points.dtype, device: points.device);
        var offset = tensor(new[] { C, F }, dtype: points.dtype, device: points.device);
        return (points.matmul(matrix) + offset).MoveToOuterDisposeScope();
    }

    /// <summary>The (1, 2, 3) matrix that <c>affine_grid</c> takes.</summary>
    internal Tensor ToTheta(ScalarType dtype, Device device) =>
        tensor(new[] { A, B, C, D, E, F }, [1, 2, 3], dtype: dtype, device: device);
}

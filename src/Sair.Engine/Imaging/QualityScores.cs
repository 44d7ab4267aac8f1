using static TorchSharp.torch;

namespace Sair.Engine.Imaging;

/// <summary>
/// Scores of a restoration against what is known about it: consistency PSNR (does the result, degraded again, give
/// back the input?) and identity ranking (is the result nearest its own ground truth among all of a set?).
/// </summary>
internal static class QualityScores
{
    /// <summary>PSNR in dB of two images in [0, 1] of one shape, over every pixel and channel; +∞ when they are equal.</summary>
    public static double Psnr(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!a.shape.SequenceEqual(b.shape))
        {
            throw new ArgumentException($"PSNR compares images of one shape; got ({string.Join(", ", a.shape)}) and ({string.Join(", ", b.shape)}).");
        }

        using var scope = NewDisposeScope();
        var mse = (a.cpu().to(ScalarType.Float64) - b.cpu().to(ScalarType.Float64)).square().mean().item<double>();
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(1 / mse);
    }

    /// <summary>Cosine similarity of every query (Q, E) to every gallery entry (G, E): (Q, G).</summary>
    public static Tensor CosineMatrix(Tensor queries, Tensor gallery)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(gallery);
        using var scope = NewDisposeScope();
        var q = nn.functional.normalize(queries.cpu().to(ScalarType.Float64), p: 2, dim: 1);
        var g = nn.functional.normalize(gallery.cpu().to(ScalarType.Float64), p: 2, dim: 1);
        return q.matmul(g.t()).MoveToOuterDisposeScope();
    }

    /// <summary>For each row of a (Q, G) similarity matrix, the gallery index it is most similar to (ties: the first).</summary>
    public static int[] Nearest(Tensor similarity)
    {
        ArgumentNullException.ThrowIfNull(similarity);
        using var best = similarity.argmax(1);
        return best.to(ScalarType.Int64).data<long>().Select(i => (int)i).ToArray();
    }
}

using Sair.Engine.Imaging;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Imaging;

/// <summary>The quality benchmark's scores on images and embeddings whose answers are known.</summary>
public sealed class QualityScoresTests
{
    [Fact]
    public void Psnr_of_a_uniform_error_is_ten_log_of_its_inverse_square()
    {
        using var a = full(1, 3, 4, 4, 0.5f);
        using var b = full(1, 3, 4, 4, 0.6f);
        Assert.Equal(20.0, QualityScores.Psnr(a, b), 3);
        Assert.Equal(double.PositiveInfinity, QualityScores.Psnr(a, a));
        using var other = zeros(1, 3, 2, 2);
        Assert.Throws<ArgumentException>(() => QualityScores.Psnr(a, other));
    }

    [Fact]
    public void Nearest_finds_each_query_in_a_gallery_by_cosine_whatever_its_length()
    {
        using var gallery = tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, [3, 3]);
        using var queries = tensor(new float[] { 0, 5, 1, 2, 0.1f, 0, 0.2f, 0.1f, 3 }, [3, 3]);
        using var similarity = QualityScores.CosineMatrix(queries, gallery);
        Assert.Equal([3L, 3L], similarity.shape);
        Assert.Equal(3 / Math.Sqrt(9.05), similarity[2, 2].item<double>(), 6);
        Assert.Equal([1, 0, 2], QualityScores.Nearest(similarity));
    }
}

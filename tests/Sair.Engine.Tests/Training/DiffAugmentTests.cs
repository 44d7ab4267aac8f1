using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Training;

/// <summary>DiffAugment's translation, cutout and colour against their definitions.</summary>
public sealed class DiffAugmentTests
{
    [Fact]
    public void Translation_shifts_each_image_by_at_most_an_eighth_with_zero_fill()
    {
        using var x = arange(4 * 3 * 16 * 16, dtype: ScalarType.Float32).add_(1).view(4, 3, 16, 16);
        using var y = DiffAugment.Translation(x, new Generator(5));
        var shifts = new HashSet<(int, int)>();
        for (var b = 0; b < 4; b++)
        {
            var found = Enumerable.Range(-2, 5).SelectMany(dy => Enumerable.Range(-2, 5).Select(dx => (dy, dx)))
                .Where(s => Matches(x[b], y[b], s.dy, s.dx)).ToList();
            Assert.Single(found);
            Assert.InRange(Math.Abs(found[0].dy), 0, 2);
            Assert.InRange(Math.Abs(found[0].dx), 0, 2);
            shifts.Add(found[0]);
        }
        Assert.True(shifts.Count > 1, "every image got the same shift");
    }

    [Fact]
    public void Cutout_zeroes_one_rectangle_of_at_most_half_the_side()
    {
        using var x = ones(8, 3, 16, 16);
        using var y = DiffAugment.Cutout(x, new Generator(6));
        for (var b = 0; b < 8; b++)
        {
            using var zero = y[b, 0].eq(0);
            var rows = zero.any(1).sum().item<long>();
            var cols = zero.any(0).sum().item<long>();
            Assert.Equal(rows * cols, zero.sum().item<long>());
            Assert.InRange(rows, 4, 8);
            Assert.InRange(cols, 4, 8);
            Assert.True(y[b].eq(0).all(0).eq(zero).all().item<bool>(), "cutout must cover all channels");
        }
    }

    [Fact]
    public void Augmentation_is_reproducible_from_the_generator_and_passes_gradients()
    {
        using var scope = NewDisposeScope();
        var x = randn([4, 3, 16, 16], generator: new Generator(1)).requires_grad_(true);
        var a = DiffAugment.Apply(x, new Generator(9));
        var b = DiffAugment.Apply(x, new Generator(9));
        var c = DiffAugment.Apply(x, new Generator(10));
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
        a.square().sum().backward();
        Assert.True(x.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Colour_changes_brightness_saturation_and_contrast_per_sample()
    {
        using var x = randn(64, 3, 4, 4, generator: new Generator(2));
        using var y = DiffAugment.Color(x, new Generator(3));
        using var shift = y.mean([1, 2, 3]).sub(x.mean([1, 2, 3]));
        // Brightness is uniform in ±0.5; saturation and contrast keep their means, so the mean moves by it alone.
        Assert.InRange(shift.abs().max().item<float>(), 0.2, 0.5 + 1e-4);
        Assert.True(shift.std().item<float>() > 0.1);
    }

    private static bool Matches(Tensor x, Tensor y, int dy, int dx)
    {
        var (h, w) = ((int)x.shape[1], (int)x.shape[2]);
        var xs = x.data<float>().ToArray();
        var ys = y.data<float>().ToArray();
        for (var c = 0; c < 3; c++)
        {
            for (var i = 0; i < h; i++)
            {
                for (var j = 0; j < w; j++)
                {
                    var (si, sj) = (i + dy, j + dx);
                    var expected = si >= 0 && si < h && sj >= 0 && sj < w ? xs[(c * h + si) * w + sj] : 0f;
                    if (ys[(c * h + i) * w + j] != expected)
                    {
                        return false;
                    }
                }
            }
        }
        return true;
    }
}

using Sair.Engine.Degradation;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Degradation;

public sealed class DiffJpegTests
{
    [Theory]
    [InlineData("jpeg", "jpeg_q10", 10)]
    [InlineData("jpeg", "jpeg_q50", 50)]
    [InlineData("jpeg_sat", "jpeg_sat_q10", 10)]
    [InlineData("jpeg_sat", "jpeg_sat_q50", 50)]
    public void Output_and_gradient_match_the_official_DiffJPEG(string input, string name, int quality)
    {
        using var scope = NewDisposeScope();
        var x = Load($"{input}_input.npy").requires_grad_(true);
        using var jpeg = new DiffJpeg(quality);
        var output = jpeg.forward(x);
        AssertMatches(output, $"{name}_output.npy");
        var clamped = output.eq(0).logical_or(output.eq(1)).sum().item<long>();
        Assert.Equal(Scalar($"{name}_clamped_count"), clamped);

        (output * Load($"{name}_G.npy")).sum().backward();
        AssertMatches(x.grad!, $"{name}_grad_input.npy");
    }

    [Theory]
    [InlineData(10, 5.0)]
    [InlineData(50, 1.0)]
    [InlineData(25, 2.0)]
    [InlineData(75, 0.5)]
    [InlineData(90, 0.2)]
    public void Quality_maps_to_the_official_factor(double quality, double factor)
    {
        Assert.Equal(factor, DiffJpeg.QualityToFactor(quality), 12);
        if (quality is 10 or 50)
        {
            AssertScalar(DiffJpeg.QualityToFactor(quality), $"jpeg_q{quality}_factor");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(double.NaN)]
    public void Qualities_without_a_finite_factor_are_refused(double quality)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DiffJpeg.QualityToFactor(quality));
    }

    [Fact]
    public void Sides_that_are_not_multiples_of_16_are_edge_padded_and_cropped_back()
    {
        using var scope = NewDisposeScope();
        var x = Load("jpeg_input.npy")[.., .., ..20, ..27];
        using var jpeg = new DiffJpeg(50);
        var output = jpeg.forward(x);
        Assert.Equal(new long[] { 1, 3, 20, 27 }, output.shape);
        var padded = nn.functional.pad(x, [0, 5, 0, 12], TorchSharp.PaddingModes.Replicate);
        AssertClose(output, jpeg.forward(padded)[.., .., ..20, ..27], (1e-6, 0), "cropped output");
        Assert.True((output - x).abs().mean().item<float>() is > 1e-3f and < 0.1f, "the round trip changes the image, a little");
    }

    [Fact]
    public void Batches_are_compressed_image_by_image()
    {
        using var scope = NewDisposeScope();
        var a = Load("jpeg_input.npy");
        var b = Load("jpeg_sat_input.npy");
        using var jpeg = new DiffJpeg(10);
        var both = jpeg.forward(cat([a, b], 0));
        AssertMatches(both[0..1], "jpeg_q10_output.npy");
        AssertMatches(both[1..2], "jpeg_sat_q10_output.npy");
    }

    [Fact]
    public void Standard_table_layout_quantises_a_vertical_frequency_with_the_vertical_step()
    {
        // A grey 8×8 block whose only AC content is the first vertical cosine, with an orthonormal DCT coefficient
        // of exactly 2 × 12 (the standard luminance step at u = 1, v = 0 for q = 50): amplitude A gives 2A·√8.
        // The standard layout reproduces it; the official transposed layout divides by 11 (the step at u = 0,
        // v = 1) and its rounding moves it away from 24.
        using var scope = NewDisposeScope();
        var rows = arange(8, dtype: ScalarType.Float64);
        var basis = (rows * 2 + 1) * Math.PI / 16;
        var luma = 128 + 24 / (2 * Math.Sqrt(8)) * basis.cos();
        var grey = (luma.reshape(8, 1).expand(8, 8) / 255).to(ScalarType.Float32);
        var image = nn.functional.pad(grey.reshape(1, 1, 8, 8).expand(1, 3, 8, 8), [0, 8, 0, 8], TorchSharp.PaddingModes.Replicate);
        using var standard = new DiffJpeg(50, transposedTables: false);
        using var official = new DiffJpeg(50);
        var errStandard = (standard.forward(image) - image)[.., .., ..8, ..8].abs().max().item<float>();
        var errOfficial = (official.forward(image) - image)[.., .., ..8, ..8].abs().max().item<float>();
        Assert.True(errStandard < 1e-4f, $"standard layout error {errStandard}");
        Assert.True(errOfficial > 5e-4f, $"official layout error {errOfficial} vs standard {errStandard}");
    }
}

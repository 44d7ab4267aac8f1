using Sair.Engine.Degradation;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Degradation;

public sealed class SyntheticDegradationTests
{
    [Fact]
    public void Same_seed_gives_the_same_image_and_another_seed_another()
    {
        using var scope = NewDisposeScope();
        var hr = Load("bicubic_f8_input.npy");
        var options = new SyntheticDegradationOptions(8, NoiseVariance: 0.002, JpegQuality: 40);
        var a = SyntheticDegradation.Apply(hr, options, seed: 11);
        var b = SyntheticDegradation.Apply(hr, options, seed: 11);
        var c = SyntheticDegradation.Apply(hr, options, seed: 12);
        Assert.Equal(new long[] { 1, 3, 32, 32 }, a.shape);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.True((a - c).abs().max().item<float>() > 0.01f);
        // 8-bit values.
        Assert.Equal(0, ((a * 255) - (a * 255).round()).abs().max().item<float>(), 4);
    }

    [Fact]
    public void Without_noise_and_jpeg_it_is_the_8_bit_bicubic_downsample()
    {
        using var scope = NewDisposeScope();
        var hr = Load("bicubic_f8_input.npy");
        var y = SyntheticDegradation.Apply(hr, new SyntheticDegradationOptions(8), seed: 0);
        var expected = (Load("bicubic_f8_output.npy").clamp(0, 1) * 255).round() / 255;
        AssertClose(y, expected, (1e-6, 0), "8-bit bicubic");
    }

    [Fact]
    public void Noise_has_the_requested_variance()
    {
        using var scope = NewDisposeScope();
        var grey = full(2, 3, 64, 64, 0.5f);
        var y = SyntheticDegradation.Apply(grey, new SyntheticDegradationOptions(1, NoiseVariance: 0.002), seed: 5);
        var variance = (y - 0.5f).pow(2).mean().item<float>();
        Assert.InRange(variance, 0.0018, 0.0022);
        Assert.True((y[0] - y[1]).abs().max().item<float>() > 0, "each image of the batch gets its own noise");
    }

    [Fact]
    public void Real_jpeg_loses_more_at_lower_quality_and_the_differentiable_jpeg_is_a_fair_stand_in()
    {
        using var scope = NewDisposeScope();
        var x = Load("jpeg_input.npy");
        var eightBit = (x * 255).round() / 255;
        double Error(int q) => (SyntheticDegradation.Apply(x, new SyntheticDegradationOptions(1, JpegQuality: q), 0) - eightBit).abs().mean().item<float>();
        var (e90, e50, e10) = (Error(90), Error(50), Error(10));
        Assert.True(e90 < e50 && e50 < e10, $"errors q90 {e90}, q50 {e50}, q10 {e10}");

        // The differentiable JPEG is nearer to the real q50 result than the untouched image is.
        var real = SyntheticDegradation.Apply(x, new SyntheticDegradationOptions(1, JpegQuality: 50), 0);
        using var jpeg = new DiffJpeg(50);
        var approx = (jpeg.forward(eightBit) - real).abs().mean().item<float>();
        Assert.True(approx < e50, $"DiffJpeg vs real JPEG {approx}, input vs real JPEG {e50}");
    }

    [Fact]
    public void Paper_table_1_preset_is_x32_with_noise()
    {
        var preset = SyntheticDegradationOptions.PaperTable1(0.003);
        Assert.Equal(32, preset.Scale);
        Assert.Equal(0.003, preset.NoiseVariance);
        Assert.Null(preset.JpegQuality);
    }
}

using Sair.Engine.Degradation;
using Sair.Engine.Objective;
using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

public sealed class SairOptionsTests
{
    [Theory]
    // t = i/400; r = min(1, (1 − t)/0.25) → 0.5 − 0.5·cos(πr); × min(1, t/0.05); × 0.1
    [InlineData(0, 0.0)] // ramp-up factor t/0.05 = 0
    [InlineData(10, 0.05)] // t = 0.025: cosine part 1, ramp-up 0.5
    [InlineData(350, 0.05)] // t = 0.875: r = 0.5 → 0.5 − 0.5·cos(π/2) = 0.5
    [InlineData(20, 0.1)] // t = 0.05: both factors reach 1
    public void Official_learning_rate_matches_the_hand_computed_schedule(int iteration, double expected) =>
        Assert.Equal(expected, SairOptions.Official().LearningRateAt(iteration), 12);

    [Fact]
    public void Paper_learning_rate_is_constant() =>
        Assert.All(new[] { 0, 10, 350 }, i => Assert.Equal(0.1, SairOptions.Paper().LearningRateAt(i)));

    [Fact]
    public void Official_geocross_of_two_orthogonal_rows_matches_the_hand_value()
    {
        // a ⟂ b with |a − b| = |a + b| → angle 2·atan2(1, 1) = π/2; the two a = b pairs give angles of ~3e-5 (ε under the root).
        // mean over the 4 ordered pairs of angle²·D/8, D = 4: (2·(π/2)²)·4/8/4 = π²/16.
        using var latent = tensor(new float[] { 1, 0, 0, 0, 0, 2, 0, 0 }, [1, 2, 4]);
        var hand = Math.PI * Math.PI / 16;
        using var value = GeoCross.Compute(latent);
        Assert.Equal(0.05 * hand, SairOptions.Official().GeoCrossWeight * value.item<float>(), 6);
    }

    [Fact]
    public void Official_weights_are_the_published_numbers()
    {
        var o = SairOptions.Official();
        Assert.Equal((120.0, 0.4, 0.001, 0.1, 0.05 / 65536, 0.05), (o.DataWeight, o.IdentityWeight, o.LatentPriorWeight, o.EmotionWeight, o.HistogramWeight, o.GeoCrossWeight));
        Assert.Equal((400, 0.1, 0.9, 0.999, 1e-8), (o.Iterations, o.LearningRate, o.Beta1, o.Beta2, o.Epsilon));
        Assert.Equal(201, o.HistogramFirstIteration);
        Assert.True(o.RenderWithEmotionShift && o.RandomizeNoise);
        Assert.Equal((TermForm.Official, TermForm.Official, TermForm.Official, TermForm.Official),
            (o.DataForm, o.EmotionForm, o.HistogramForm, o.OutputNormalization));
    }

    [Theory]
    [InlineData(10, 5.0)] // q < 50: 50/q
    [InlineData(50, 1.0)] // q ≥ 50: (200 − 2q)/100
    [InlineData(75, 0.5)]
    public void Jpeg_quality_of_the_data_term_gives_the_hand_computed_factor(double quality, double factor)
    {
        var options = SairOptions.Official() with { JpegQuality = quality };
        using var jpeg = new DiffJpeg(options.JpegQuality!.Value);
        Assert.Equal(factor, jpeg.Factor, 12);
    }

    [Fact]
    public void Official_data_term_is_120_times_the_clamped_mean_squared_error()
    {
        using var scope = NewDisposeScope();
        var y = zeros(1, 3, 4, 4);
        Assert.Equal(120 * 0.01, SairOptions.Official().DataWeight * DataTerm.Official(full([1, 3, 4, 4], 0.1f), y).item<float>(), 5);
        Assert.Equal(120 * 1e-4, SairOptions.Official().DataWeight * DataTerm.Official(full([1, 3, 4, 4], 0.005f), y).item<float>(), 7);
    }

    [Fact]
    public void Ablation_stages_switch_terms_on_cumulatively()
    {
        var paper = SairOptions.Paper();
        var stages = Enum.GetValues<AblationStage>().Select(s => paper.ForAblation(s))
            .Select(o => (o.IdentityWeight > 0, o.HistogramWeight > 0, o.EmotionWeight > 0, o.DataWeight > 0)).ToArray();
        Assert.Equal([(false, false, false, true), (true, false, false, true), (true, true, false, true), (true, true, true, true)], stages);
    }

    [Fact]
    public void Invalid_settings_name_the_setting()
    {
        Assert.Contains("MaskInterval", Assert.ThrowsAny<ArgumentException>(() => (SairOptions.Paper() with { MaskInterval = 0 }).Validate()).Message);
        Assert.Contains("DataWeight", Assert.ThrowsAny<ArgumentException>(() => (SairOptions.Paper() with { DataWeight = double.NaN }).Validate()).Message);
    }
}

using Sair.Engine.Objective;
using static Sair.Engine.Tests.SairOpsFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Objective;

public sealed class LatentTermsTests
{
    [Theory]
    [InlineData("rand")]
    [InlineData("near")]
    [InlineData("obama")]
    public void GeoCross_value_and_gradient_match_the_official_cross_loss(string name)
    {
        using var scope = NewDisposeScope();
        var latent = Load($"geocross_{name}_latent.npy").requires_grad_(true);
        var loss = GeoCross.Compute(latent);
        AssertScalar(loss.item<float>(), $"geocross_{name}_value");
        loss.backward();
        AssertMatches(latent.grad!, $"geocross_{name}_grad.npy");
    }

    [Fact]
    public void GeoCross_sums_over_the_batch()
    {
        using var scope = NewDisposeScope();
        var a = Load("geocross_rand_latent.npy");
        var b = Load("geocross_obama_latent.npy");
        var both = GeoCross.Compute(cat([a, b], 0)).item<float>();
        Assert.Equal(Scalar("geocross_rand_value") + Scalar("geocross_obama_value"), both, 3);
    }

    [Theory]
    [InlineData("rand", "emotion_rand_latent.npy")]
    [InlineData("obama", "geocross_obama_latent.npy")]
    public void Official_emotion_term_matches_run_py(string name, string latentFile)
    {
        using var scope = NewDisposeScope();
        var latent = Load(latentFile).requires_grad_(true);
        var direction = Load("emotion_angry_dir.npy");
        var loss = EmotionTerm.Official(latent, direction);
        AssertScalar(loss.item<float>(), $"emotion_{name}_value");
        loss.backward();
        AssertMatches(latent.grad!, $"emotion_{name}_grad.npy");
    }

    [Fact]
    public void Angry_direction_oracle_is_the_published_file_as_float32()
    {
        using var published = Sair.Engine.IO.Npy.Read(RepoPaths.SharedFile("fixtures", "sair-official", "emotion_angry.npy"));
        using var asUsed = published.to(ScalarType.Float32).reshape(-1, 18, 512);
        AssertMatches(asUsed, "emotion_angry_dir.npy");
    }

    [Fact]
    public void Official_emotion_term_counts_the_opposite_direction_as_aligned()
    {
        using var scope = NewDisposeScope();
        var direction = Load("emotion_angry_dir.npy");
        Assert.Equal(0, EmotionTerm.Official(-3 * direction, direction).item<float>(), 5);
        Assert.Equal(0, EmotionTerm.Official(2 * direction, direction).item<float>(), 5);
    }

    [Fact]
    public void Paper_emotion_term_is_one_minus_the_cosine_of_the_shifted_code()
    {
        using var scope = NewDisposeScope();
        var latent = Load("emotion_rand_latent.npy").requires_grad_(true);
        var direction = Load("emotion_angry_dir.npy");
        const double gamma = 5;
        var loss = EmotionTerm.Paper(latent, direction, gamma);

        var w = latent.detach().flatten().to(ScalarType.Float64);
        var d = direction.flatten().to(ScalarType.Float64);
        var shifted = w + gamma * d;
        var cos = (shifted * d).sum() / (shifted.norm() * d.norm());
        Assert.Equal(1 - cos.item<double>(), loss.item<float>(), 5);

        // Moving w along the direction lowers the term.
        Assert.True(EmotionTerm.Paper(latent.detach() + 10 * direction, direction, gamma).item<float>() < loss.item<float>());
        loss.backward();
        Assert.True(latent.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Mismatched_direction_shapes_are_refused()
    {
        using var latent = zeros(1, 18, 512);
        using var direction = zeros(18, 512);
        Assert.Contains("unsqueeze(0)", Assert.Throws<ArgumentException>(() => EmotionTerm.Official(latent, direction)).Message);
    }

    [Fact]
    public void Official_lr_schedule_matches_every_step_of_run_py()
    {
        using var f64 = Load("lr_schedule_f64.npy");
        using var f32 = Load("lr_schedule.npy");
        var expected64 = f64.data<double>().ToArray();
        var expected32 = f32.data<float>().ToArray();
        var (_, rtol64) = FileTolerance("lr_schedule_f64.npy");
        var (_, rtol32) = FileTolerance("lr_schedule.npy");
        for (var i = 0; i < 400; i++)
        {
            var lr = LrSchedule.Official(i, 400, 0.1);
            Assert.True(Math.Abs(lr - expected64[i]) <= rtol64 * Math.Abs(expected64[i]), $"step {i}: {lr:R} vs {expected64[i]:R}");
            Assert.True(Math.Abs((float)lr - expected32[i]) <= rtol32 * Math.Abs(expected32[i]), $"step {i} (float32)");
        }
    }

    [Fact]
    public void Official_lr_schedule_hand_checked_values()
    {
        Assert.Equal(0.0, LrSchedule.Official(0, 400, 0.1));
        // t = 10/400 = 0.025: ramp-up 0.025/0.05 = 0.5; ramp-down min(1, 0.975/0.25) = 1 → 0.5 − 0.5·cos π = 1.
        Assert.Equal(0.05, LrSchedule.Official(10, 400, 0.1), 15);
        Assert.Equal(0.1, LrSchedule.Official(200, 400, 0.1), 15);
        // t = 0.875: (1 − t)/0.25 = 0.5 → 0.5 − 0.5·cos(π/2) = 0.5.
        Assert.Equal(0.05, LrSchedule.Official(350, 400, 0.1), 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.Official(400, 400, 0.1));
    }
}

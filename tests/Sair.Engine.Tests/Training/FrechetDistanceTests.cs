using Sair.Engine.Tests.FaceNets;
using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Training;

/// <summary>The Fréchet distance against closed forms, and FFD on the face-api recogniser.</summary>
public sealed class FrechetDistanceTests
{
    [Fact]
    public void Diagonal_gaussians_follow_the_closed_form()
    {
        using var scope = NewDisposeScope();
        var rng = new Generator(4);
        var (mu1, mu2) = (randn([6], generator: rng, dtype: ScalarType.Float64), randn([6], generator: rng, dtype: ScalarType.Float64));
        var (a, b) = (rand([6], generator: rng, dtype: ScalarType.Float64).add_(0.1), rand([6], generator: rng, dtype: ScalarType.Float64).add_(0.1));
        // ‖μ₁ − μ₂‖² + Σ (√aᵢ − √bᵢ)²
        var expected = mu1.sub(mu2).square().sum().add(a.sqrt().sub(b.sqrt()).square().sum()).item<double>();
        var actual = FrechetDistance.Compute(mu1, diag(a), mu2, diag(b));
        Assert.Equal(expected, actual, 1e-10);
    }

    [Fact]
    public void Equal_full_covariances_leave_only_the_mean_term()
    {
        using var scope = NewDisposeScope();
        var rng = new Generator(5);
        var m = randn([5, 5], generator: rng, dtype: ScalarType.Float64);
        var sigma = m.matmul(m.t()).add_(eye(5, dtype: ScalarType.Float64).mul_(0.1));
        var mu = randn([5], generator: rng, dtype: ScalarType.Float64);
        var shift = tensor(new[] { 1.0, -2.0, 0, 0.5, 0 });
        Assert.Equal(0, FrechetDistance.Compute(mu, sigma, mu, sigma), 1e-9);
        Assert.Equal(5.25, FrechetDistance.Compute(mu, sigma, mu.add(shift), sigma), 1e-9);
    }

    [Fact]
    public void Shifted_feature_sets_are_as_far_as_the_shift_squared()
    {
        using var scope = NewDisposeScope();
        var x = randn([200, 4], generator: new Generator(6));
        Assert.Equal(0, FrechetDistance.FromFeatures(x, x), 1e-6);
        Assert.Equal(4 * 0.25, FrechetDistance.FromFeatures(x, x.add(0.5)), 1e-5);
    }

    [Fact]
    public void Ffd_of_a_set_with_itself_is_near_zero_and_grows_when_the_images_change()
    {
        // The shared net first: built inside this test's dispose scope, its weights would die with the scope.
        using var ffd = new FaceFrechetDistance(InstalledFaceModels.Recognition);
        using var scope = NewDisposeScope();
        var faces = rand([6, 3, 16, 16], generator: new Generator(8)).mul_(2).sub_(1);
        ffd.SetReference(faces);
        var same = ffd.Measure(faces);
        var darker = ffd.Measure(faces.mul(0.5).sub_(0.5));
        Assert.True(Math.Abs(same) < 1e-3 * darker, $"same {same}, darker {darker}");
        Assert.True(darker > 0);
    }
}

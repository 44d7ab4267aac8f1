using Sair.Engine.FaceNets;
using Sair.Engine.Restoration;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

/// <summary>
/// A NaN anywhere in a step (a term, a term's gradient, the face landmarks, G(w), the updated latent) sends the run
/// back to its last finite state with half the learning rate; only a NaN that keeps coming back fails the job, naming
/// where it appeared first.
/// </summary>
public sealed class NonFiniteRecoveryTests
{
    private const int Iterations = 8;
    private const int Injected = 4;

    public static TheoryData<string> Terms() =>
        [LossTerms.Data, LossTerms.Identity, LossTerms.LatentPrior, LossTerms.Emotion, LossTerms.Histogram, LossTerms.GeoCross];

    [Theory]
    [MemberData(nameof(Terms))]
    public void One_NaN_in_a_term_is_recovered_from_with_half_the_learning_rate(string term)
    {
        using var scope = NewDisposeScope();
        using var run = new Run();
        var injections = 0;

        using var result = run.Restore((i, name, value) =>
            name == term && i == Injected && injections++ == 0 ? value * float.NaN : value);

        Assert.Equal(2, injections); // the poisoned step and its retry
        AssertCompletedAfterOneRecovery(result, run.Options);
    }

    [Theory]
    [MemberData(nameof(Terms))]
    public void A_term_that_stays_NaN_fails_the_job_after_the_recoveries_naming_the_term(string term)
    {
        using var scope = NewDisposeScope();
        using var run = new Run();

        var error = Assert.Throws<NonFiniteException>(() => run.Restore((i, name, value) => name == term && i >= Injected ? value * float.NaN : value));

        var words = $"the {term.Replace('_', ' ')} term";
        Assert.Equal(words, error.FirstNonFinite);
        Assert.Equal(Injected, error.Step);
        Assert.StartsWith($"{char.ToUpperInvariant(words[0])}{words[1..]} went non-finite (NaN or infinite) at iteration {Injected}", error.Message);
        Assert.Contains($"{words} ×{SairRestorer.MaxRecoveries + 1}", error.Message);
    }

    [Fact]
    public void A_NaN_gradient_under_a_finite_loss_is_traced_to_its_term()
    {
        using var scope = NewDisposeScope();
        using var run = new Run();
        // sqrt at 0 has an infinite slope: the value stays as it was while its gradient becomes 0·∞ = NaN.
        static Tensor NaNGradient(Tensor value) => value + (value * 0).sqrt();
        var injections = 0;

        using (var result = run.Restore((i, name, value) =>
                   name == LossTerms.Identity && i == Injected && injections++ == 0 ? NaNGradient(value) : value))
        {
            AssertCompletedAfterOneRecovery(result, run.Options);
        }

        var error = Assert.Throws<NonFiniteException>(() =>
            run.Restore((i, name, value) => name == LossTerms.Identity && i >= Injected ? NaNGradient(value) : value));
        Assert.Equal("the gradient of the identity term", error.FirstNonFinite);
    }

    [Fact]
    public void A_NaN_latent_after_an_update_is_rewound()
    {
        using var scope = NewDisposeScope();
        using var run = new Run();
        var injections = 0;

        using (var result = run.Restore((i, name, value) =>
                   name == SairRestorer.LatentName && i == Injected && injections++ == 0 ? value * float.NaN : value))
        {
            AssertCompletedAfterOneRecovery(result, run.Options);
        }

        var error = Assert.Throws<NonFiniteException>(() =>
            run.Restore((i, name, value) => name == SairRestorer.LatentName && i >= Injected ? value * float.NaN : value));
        Assert.Equal("the latent w", error.FirstNonFinite);
        Assert.Equal(Injected, error.Step);
    }

    [Fact]
    public void A_NaN_pixel_reaching_the_histogram_term_is_recovered_from_not_an_index_error()
    {
        // The failure seen in the field: a NaN in G(w) turned into a bin index inside the soft histogram.
        using var scope = NewDisposeScope();
        using var run = new Run(histogramOnly: true);
        var injections = 0;
        Tensor WithNaNPixel(Tensor image)
        {
            var broken = image.clone();
            broken[0, 1, 20, 30] = tensor(float.NaN);
            return broken;
        }

        using (var result = run.Restore((i, name, value) =>
                   name == SairRestorer.ImageName && i == Injected && injections++ == 0 ? WithNaNPixel(value) : value))
        {
            AssertCompletedAfterOneRecovery(result, run.Options);
        }

        var error = Assert.Throws<NonFiniteException>(() =>
            run.Restore((i, name, value) => name == SairRestorer.ImageName && i >= Injected ? WithNaNPixel(value) : value));
        Assert.Equal("the histogram term", error.FirstNonFinite);
    }

    [Fact]
    public void NaN_face_landmarks_are_recovered_from_and_named_when_they_persist()
    {
        using var scope = NewDisposeScope();
        using (var once = new Run(new FlakyLandmarks(nanFromCall: 2, nanCalls: 1)))
        using (var result = once.Restore(null))
        {
            AssertCompletedAfterOneRecovery(result, once.Options);
        }

        using var always = new Run(new FlakyLandmarks(nanFromCall: 2, nanCalls: int.MaxValue));
        var error = Assert.Throws<NonFiniteException>(() => always.Restore(null));
        Assert.Equal("the face landmarks of the histogram term", error.FirstNonFinite);
    }

    [Fact]
    public void A_resumed_run_keeps_the_learning_rate_its_recoveries_left()
    {
        using var scope = NewDisposeScope();
        using var run = new Run(checkpointInterval: 6);
        var saved = new List<byte[]>();
        var injections = 0;

        using var whole = run.Restore((i, name, value) => name == LossTerms.Data && i == 2 && injections++ == 0 ? value * float.NaN : value, c =>
        {
            using (c)
            {
                saved.Add(c.ToBytes());
            }
        });
        using var checkpoint = RestorationCheckpoint.FromBytes(saved[0]);
        using var resumed = run.Restore(null, resumeFrom: checkpoint);

        Assert.Equal(1, resumed.History[^1].Recoveries);
        Assert.Equal(run.Options.LearningRate / 2, resumed.History[^1].LearningRate);
        var gap = (whole.Latent - resumed.Latent).abs().max().item<float>();
        Assert.True(gap <= 1e-6, $"resumed latent differs by {gap}");
    }

    private static void AssertCompletedAfterOneRecovery(RestorationResult result, SairOptions options)
    {
        Assert.Equal(Enumerable.Range(0, Iterations), result.History.Select(r => r.Iteration));
        Assert.All(result.History, r => Assert.True(double.IsFinite(r.Total)));
        Assert.Equal(1, result.History[^1].Recoveries);
        Assert.Equal(options.LearningRate / 2, result.History[^1].LearningRate);
        Assert.Equal(0, result.History[0].Recoveries);
        Assert.True(result.Latent.isfinite().all().item<bool>());
        Assert.True(result.Image.isfinite().all().item<bool>());
    }

    /// <summary>Every term the restorer has on the tiny generator, with randomised noise so that a retry draws fresh noise.</summary>
    private sealed class Run : IDisposable
    {
        private readonly StyleGan2Generator generator = TinySair.LoadGenerator();
        private readonly TinyIdentityNetwork identity = new();
        private readonly ILandmarkDetector landmarks;
        private readonly EmotionDirections directions;
        private readonly Tensor start;
        private readonly Tensor y;

        public Run(ILandmarkDetector? landmarks = null, bool histogramOnly = false, int checkpointInterval = 0)
        {
            this.landmarks = landmarks ?? new FixedLandmarks();
            directions = TinySair.RandomDirections(generator);
            start = TinySair.RandomWPlus(generator, seed: 81);
            y = TinySair.Degrade(generator, TinySair.RandomWPlus(generator, seed: 82), scale: 4);
            Options = histogramOnly
                ? TinySair.Nothing(Iterations) with { HistogramWeight = 1, LearningRate = 0.05, MaskInterval = 2 }
                : SairOptions.Paper() with
                {
                    Iterations = Iterations,
                    LearningRate = 0.05,
                    Emotion = "happy",
                    GeoCrossWeight = 0.05,
                    MaskInterval = 2,
                    RandomizeNoise = true,
                    Seed = 5,
                    CheckpointInterval = checkpointInterval,
                };
        }

        public SairOptions Options { get; }

        public RestorationResult Restore(Func<int, string, Tensor, Tensor>? perturb, Action<RestorationCheckpoint>? onCheckpoint = null,
            RestorationCheckpoint? resumeFrom = null)
        {
            var restorer = new SairRestorer(generator, identity, landmarks, emotionDirections: directions) { Perturb = perturb };
            return restorer.Restore(y, ReferenceInput.FromLatent(start), Options, resumeFrom: resumeFrom, onCheckpoint: onCheckpoint);
        }

        public void Dispose()
        {
            start.Dispose();
            y.Dispose();
            directions.Dispose();
            landmarks.Dispose();
            identity.Dispose();
            generator.Dispose();
        }
    }

    /// <summary>The fixed landmarks, NaN for <c>nanCalls</c> calls from call number <c>nanFromCall</c> (0-based).</summary>
    private sealed class FlakyLandmarks(int nanFromCall, int nanCalls) : ILandmarkDetector
    {
        private readonly FixedLandmarks inner = new();
        private int calls;

        public Tensor Detect(Tensor rgb01)
        {
            var call = calls++;
            var points = inner.Detect(rgb01);
            return call >= nanFromCall && call - nanFromCall < nanCalls ? points * float.NaN : points;
        }

        public void Dispose() => inner.Dispose();
    }
}

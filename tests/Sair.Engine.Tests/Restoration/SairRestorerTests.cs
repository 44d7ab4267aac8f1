using Sair.Engine.Degradation;
using Sair.Engine.Objective;
using Sair.Engine.Restoration;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

public sealed class SairRestorerTests
{
    [Fact]
    public void Data_term_alone_recovers_a_known_latent_better_than_bicubic_upsampling()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var truth = TinySair.RandomWPlus(g, seed: 11);
        var y = TinySair.Degrade(g, truth, scale: 4);
        var options = SairOptions.Paper().ForAblation(AblationStage.DataOnly) with { Iterations = 60 };

        using var result = new SairRestorer(g).Restore(y, ReferenceInput.FromLatent(TinySair.MeanWPlus(g)), options);

        var first = result.History[0].Terms[LossTerms.Data];
        var last = result.History[^1].Terms[LossTerms.Data];
        Assert.True(last * 10 <= first, $"data loss went from {first} to {last}, less than a 10× cut");
        var target = TinySair.Render(g, truth);
        var bicubic = nn.functional.interpolate(y, size: [TinySair.Size, TinySair.Size], mode: InterpolationMode.Bicubic, align_corners: false).clamp(0, 1);
        var restored = TinySair.Psnr(result.Image, target);
        var baseline = TinySair.Psnr(bicubic, target);
        Assert.True(restored > baseline, $"PSNR of G(ŵ) {restored:F2} dB does not beat bicubic {baseline:F2} dB");
        Assert.Equal([1L, 3, TinySair.Size, TinySair.Size], result.Image.shape);
        Assert.True(result.Image.min().item<float>() >= 0 && result.Image.max().item<float>() <= 1);
    }

    [Fact]
    public void Losses_at_a_lower_side_render_the_skip_image_during_the_iterations_and_the_full_result_at_the_end()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var truth = TinySair.RandomWPlus(g, seed: 11);
        var y = TinySair.Degrade(g, truth, scale: 4);
        var options = SairOptions.Paper().ForAblation(AblationStage.DataOnly) with { Iterations = 60, LossSide = TinySair.Size / 2, BackProjectionSteps = 2 };
        var restorer = new SairRestorer(g);

        using var result = restorer.Restore(y, ReferenceInput.FromLatent(TinySair.MeanWPlus(g)), options);

        // D maps the 32 px skip image to Y's 16 px: the loss it reports is that comparison (checked at the start
        // latent), and it falls.
        var first = result.History[0].Terms[LossTerms.Data];
        var last = result.History[^1].Terms[LossTerms.Data];
        Assert.True(last * 10 <= first, $"data loss went from {first} to {last}, less than a 10× cut");
        using (no_grad())
        {
            using var down = new DegradationOperator(new DegradationOptions(2));
            var skip = OutputNormalization.Paper(g.Synthesis(TinySair.MeanWPlus(g), randomizeNoise: false, maxSide: TinySair.Size / 2));
            var measured = DataTerm.Paper(down.forward(skip), y).item<float>();
            Assert.Equal(first, measured, 4);
        }
        // The result is the full-size rendering of the latent, back-projected with the full-size D.
        Assert.Equal([1L, 3, TinySair.Size, TinySair.Size], result.Image.shape);
        var target = TinySair.Render(g, truth);
        var bicubic = nn.functional.interpolate(y, size: [TinySair.Size, TinySair.Size], mode: InterpolationMode.Bicubic, align_corners: false).clamp(0, 1);
        Assert.True(TinySair.Psnr(result.Image, target) > TinySair.Psnr(bicubic, target), "the full-size result beats bicubic");
        Assert.NotEqual(options.Fingerprint(), (options with { LossSide = null }).Fingerprint());
        Assert.Equal(SairOptions.Paper().Fingerprint(), (SairOptions.Paper() with { LossSide = null }).Fingerprint());

        var tooSmall = Assert.Throws<ArgumentException>(() => restorer.Restore(y, ReferenceInput.FromLatent(TinySair.MeanWPlus(g)), options with { LossSide = 8 }));
        Assert.Contains("LossSide 8", tooSmall.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { LossSide = 24 }).Validate());
    }

    [Fact]
    public void A_run_that_turns_to_the_full_size_for_its_last_iterations_resumes_exactly_and_its_identity_net_reruns_at_the_turn()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var identity = new TinyIdentityNetwork();
        using var detector = new FixedLandmarks();
        var start = TinySair.RandomWPlus(g, seed: 53);
        var y = TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 54), scale: 4);
        // 14 iterations: 0-9 on the 32 px skip image, 10-13 at 64 px; the identity net every 4th (0, 4, 8, 12) and at
        // the turn (10); checkpoints at 5 and 10.
        var options = SairOptions.Paper() with
        {
            Iterations = 14, EmotionWeight = 0, MaskInterval = 3, CheckpointInterval = 5, IdentityInterval = 4,
            LossSide = TinySair.Size / 2, FullSizeLastIterations = 4,
        };
        var restorer = new SairRestorer(g, identity, detector);
        var saved = new List<byte[]>();
        using var whole = restorer.Restore(y, ReferenceInput.FromLatent(start), options, onCheckpoint: c =>
        {
            using (c)
            {
                saved.Add(c.ToBytes());
            }
        });
        Assert.Equal(14, whole.History.Count);
        Assert.Equal([1L, 3, TinySair.Size, TinySair.Size], whole.Image.shape);

        // The data term of iteration 10 compares the full-size rendering with Y through the full-size D.
        using (no_grad())
        {
            using var checkpoint = RestorationCheckpoint.FromBytes(saved[1]);
            Assert.Equal(10, checkpoint.NextIteration);
            using var down = new DegradationOperator(new DegradationOptions(4));
            var full = OutputNormalization.Paper(g.Synthesis(checkpoint.Latent, randomizeNoise: false));
            Assert.Equal(DataTerm.Paper(down.forward(full), y).item<float>(), whole.History[10].Terms[LossTerms.Data], 4);
        }

        foreach (var bytes in saved)
        {
            using var checkpoint = RestorationCheckpoint.FromBytes(bytes);
            using var resumed = restorer.Restore(y, ReferenceInput.FromLatent(start), options, resumeFrom: checkpoint);
            var gap = (whole.Latent - resumed.Latent).abs().max().item<float>();
            Assert.True(gap <= 1e-6, $"resumed from {checkpoint.NextIteration}: the latent differs by {gap}");
            Assert.Equal(whole.History.Select(r => r.Total), resumed.History.Select(r => r.Total));
        }
    }

    [Fact]
    public void Back_projection_steps_make_the_result_explain_Y_and_leave_the_latent_alone()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var y = TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 12), scale: 4);
        var options = SairOptions.Paper().ForAblation(AblationStage.DataOnly) with { Iterations = 5 };
        using var down = new DegradationOperator(new DegradationOptions(4));

        using var plain = new SairRestorer(g).Restore(y, ReferenceInput.FromLatent(TinySair.MeanWPlus(g)), options);
        using var projected = new SairRestorer(g).Restore(y, ReferenceInput.FromLatent(TinySair.MeanWPlus(g)), options with { BackProjectionSteps = 5 });

        var plainError = (down.forward(plain.Image) - y).abs().mean().item<float>();
        var projectedError = (down.forward(projected.Image) - y).abs().mean().item<float>();
        Assert.True(projectedError < plainError / 10, $"mean |D(x) − Y|: {plainError} without, {projectedError} with back-projection");
        Assert.Equal(0, (plain.Latent - projected.Latent).abs().max().item<float>());
    }

    [Fact]
    public void Identity_term_alone_raises_the_similarity_to_the_reference_photo()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var identity = new TinyIdentityNetwork();
        var start = TinySair.RandomWPlus(g, seed: 21);
        var photo = TinySair.Render(g, TinySair.RandomWPlus(g, seed: 22));
        var y = TinySair.Degrade(g, start, scale: 4);
        var options = TinySair.Nothing(30) with { IdentityWeight = 1 };

        using var result = new SairRestorer(g, identity).Restore(y, ReferenceInput.FromLatent(start, photo), options);

        var before = identity.Similarity(identity.Embed(TinySair.Render(g, start)), identity.Embed(photo)).item<float>();
        Assert.True(1 - result.IdentitySimilarity < 0.5 * (1 - before), $"identity cosine {before} → {result.IdentitySimilarity}");
    }

    [Fact]
    public void Histogram_term_alone_brings_the_face_colours_closer_to_Y()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var detector = new FixedLandmarks();
        var start = TinySair.RandomWPlus(g, seed: 31);
        // Y: another face with its colours shifted, so the two histograms clearly differ.
        var y = (TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 32), scale: 4) * tensor(new float[] { 1.0f, 0.6f, 0.5f }).reshape(1, 3, 1, 1)).clamp(0, 1);
        var options = TinySair.Nothing(30) with { HistogramWeight = 1, MaskInterval = 7, LearningRate = 0.05 };

        using var result = new SairRestorer(g, landmarks: detector).Restore(y, ReferenceInput.FromLatent(start), options);

        Assert.Equal(5, detector.Calls); // iterations 0, 7, 14, 21, 28
        var soft = new SoftHistogramLoss();
        var mask = LandmarkHullMask.Rasterize(detector.Detect(result.Image), TinySair.Size, TinySair.Size);
        var yUp = HistogramLoss.ToComparisonSize(y, TinySair.Size);
        var before = soft.Compute(TinySair.Render(g, start), yUp, mask).item<float>();
        var after = soft.Compute(result.Image, yUp, mask).item<float>();
        Assert.True(after < 0.8 * before, $"CDF distance to Y {before} → {after}");
    }

    [Fact]
    public void Official_histogram_term_joins_at_its_first_iteration_with_a_mask_every_iteration()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var detector = new FixedLandmarks();
        var start = TinySair.RandomWPlus(g, seed: 33);
        var y = TinySair.Degrade(g, start, scale: 4);
        var options = SairOptions.Official() with { Iterations = 6, IdentityWeight = 0, EmotionWeight = 0, HistogramFirstIteration = 3 };

        using var result = new SairRestorer(g, landmarks: detector).Restore(y, ReferenceInput.FromLatent(start), options);

        Assert.Equal([false, false, false, true, true, true], result.History.Select(r => r.Terms.ContainsKey(LossTerms.Histogram)));
        Assert.Equal(3, detector.Calls);
        Assert.All(result.History.Skip(3), r => Assert.True(r.Terms[LossTerms.Histogram] > 0));
    }

    [Theory]
    [InlineData(TermForm.Paper)]
    [InlineData(TermForm.Official)]
    public void Emotion_term_alone_turns_w_toward_the_emotion_direction(TermForm form)
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var directions = TinySair.RandomDirections(g);
        var start = TinySair.RandomWPlus(g, seed: 41);
        var y = TinySair.Degrade(g, start, scale: 4);
        var options = TinySair.Nothing(20) with { EmotionForm = form, EmotionWeight = 1, Emotion = "happy" };

        using var result = new SairRestorer(g, emotionDirections: directions).Restore(y, ReferenceInput.FromLatent(start), options);

        var d = directions.Direction("happy");
        var gamma = directions.Gamma("happy");
        // Each form's own measure: paper cos(w + γd, d) over the whole code; official mean over rows of |cos(w_l, d_l)|.
        double Measure(Tensor w) => form == TermForm.Paper
            ? nn.functional.cosine_similarity((w + gamma * d).flatten(), d.flatten(), dim: 0).item<float>()
            : nn.functional.cosine_similarity(w, d, dim: 2).abs().mean().item<float>();
        var (before, after) = (Measure(start), Measure(result.Latent));
        Assert.True(1 - after < 0.5 * (1 - before), $"{form}: cosine {before} → {after}");
        Assert.Equal("happy", result.Emotion);
    }

    [Fact]
    public void Official_output_is_rendered_at_w_plus_gamma_d_and_the_emotion_can_be_inferred_from_Y()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var directions = TinySair.RandomDirections(g);
        var start = TinySair.RandomWPlus(g, seed: 42);
        var y = TinySair.Degrade(g, start, scale: 4);
        var options = SairOptions.Official() with
        {
            Iterations = 3,
            IdentityWeight = 0,
            HistogramWeight = 0,
            RandomizeNoise = false,
        };

        using var result = new SairRestorer(g, expressions: new FixedExpression("sad"), emotionDirections: directions)
            .Restore(y, ReferenceInput.FromLatent(start), options);

        Assert.Equal("sad", result.Emotion);
        var expected = result.Latent + 8 * directions.Direction("sad");
        Assert.True(expected.allclose(result.OutputLatent, rtol: 1e-6, atol: 1e-6));
        Assert.True(OutputNormalization.Official(g.Synthesis(expected, randomizeNoise: false)).allclose(result.Image, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Official_data_term_is_120_times_the_mse_of_the_jpeg_degraded_min_max_rendering()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var start = TinySair.RandomWPlus(g, seed: 45);
        var y = TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 46), scale: 4);
        var options = SairOptions.Official() with
        {
            Iterations = 1,
            JpegQuality = 10,
            IdentityWeight = 0,
            EmotionWeight = 0,
            HistogramWeight = 0,
            GeoCrossWeight = 0,
            RandomizeNoise = false,
        };

        using var result = new SairRestorer(g).Restore(y, ReferenceInput.FromLatent(start), options);

        using var official = new DegradationOperator(DegradationOptions.Official(4, jpeg: true));
        var rendering = OutputNormalization.Official(g.Synthesis(start, randomizeNoise: false));
        var expected = 120 * Math.Max(1e-4, (official.forward(rendering) - y).pow(2).mean().item<float>());
        Assert.Equal(expected, result.History[0].Terms[LossTerms.Data], 5);
        Assert.Equal(expected, result.History[0].Total, 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resuming_from_a_checkpoint_gives_the_uninterrupted_result(bool randomizeNoise)
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var identity = new TinyIdentityNetwork();
        using var detector = new FixedLandmarks();
        var start = TinySair.RandomWPlus(g, seed: 51);
        var y = TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 52), scale: 4);
        var options = SairOptions.Paper() with
        {
            Iterations = 12,
            EmotionWeight = 0,
            MaskInterval = 3,
            CheckpointInterval = 5,
            RandomizeNoise = randomizeNoise,
            Schedule = LearningRateSchedule.Official,
            Seed = 99,
        };
        var restorer = new SairRestorer(g, identity, detector);
        var saved = new List<byte[]>();

        using var whole = restorer.Restore(y, ReferenceInput.FromLatent(start), options, onCheckpoint: c =>
        {
            using (c)
            {
                saved.Add(c.ToBytes());
            }
        });
        Assert.Equal(2, saved.Count);
        using var checkpoint = RestorationCheckpoint.FromBytes(saved[0]);
        Assert.Equal(5, checkpoint.NextIteration);
        using var resumed = restorer.Restore(y, ReferenceInput.FromLatent(start), options, resumeFrom: checkpoint);

        var gap = (whole.Latent - resumed.Latent).abs().max().item<float>();
        Assert.True(gap <= 1e-6, $"resumed latent differs by {gap}");
        Assert.Equal(whole.History.Select(r => r.Total), resumed.History.Select(r => r.Total));
        Assert.True(whole.Image.allclose(resumed.Image, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Resuming_with_other_options_is_refused()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var start = TinySair.RandomWPlus(g, seed: 53);
        var y = TinySair.Degrade(g, start, scale: 4);
        var options = SairOptions.Paper().ForAblation(AblationStage.DataOnly) with { Iterations = 4, CheckpointInterval = 2 };
        RestorationCheckpoint? checkpoint = null;
        using var _ = new SairRestorer(g).Restore(y, ReferenceInput.FromLatent(start), options, onCheckpoint: c => checkpoint ??= c);
        using var held = checkpoint!;

        var error = Assert.Throws<ArgumentException>(() =>
            new SairRestorer(g).Restore(y, ReferenceInput.FromLatent(start), options with { LearningRate = 0.2 }, resumeFrom: held));
        Assert.Contains("different options", error.Message);
    }

    [Fact]
    public void Progress_reports_every_iteration_and_cancellation_stops_the_run()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var start = TinySair.RandomWPlus(g, seed: 61);
        var y = TinySair.Degrade(g, start, scale: 4);
        var options = SairOptions.Official() with { Iterations = 6, IdentityWeight = 0, EmotionWeight = 0, HistogramWeight = 0 };
        var reports = new List<IterationReport>();
        using var cts = new CancellationTokenSource();

        var restorer = new SairRestorer(g);
        using (var result = restorer.Restore(y, ReferenceInput.FromLatent(start), options, new SyncProgress(reports.Add)))
        {
            Assert.Equal(Enumerable.Range(0, 6), reports.Select(r => r.Iteration));
            Assert.All(reports, r => Assert.Equal(
                new[] { LossTerms.Data, LossTerms.LatentPrior, LossTerms.GeoCross }.Order(), r.Terms.Keys.Order()));
            Assert.All(reports, r => Assert.Equal(r.Terms.Values.Sum(), r.Total, 4));
            Assert.Equal(options.LearningRateAt(3), reports[3].LearningRate);
            Assert.Equal(0, reports[0].LearningRate);
        }

        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => restorer.Restore(y, ReferenceInput.FromLatent(start), options,
            new SyncProgress(_ =>
            {
                if (++seen == 2)
                {
                    cts.Cancel();
                }
            }), cts.Token));
        Assert.Equal(2, seen);
    }

    [Fact]
    public void A_reference_photo_alone_is_projected_first()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var truth = TinySair.RandomWPlus(g, seed: 71);
        var photo = TinySair.Render(g, truth);
        var y = TinySair.Degrade(g, truth, scale: 4);
        var options = SairOptions.Paper().ForAblation(AblationStage.DataOnly) with
        {
            Iterations = 1,
            LearningRate = 0,
            Projection = new ProjectionOptions { Iterations = 30, MeanLatentSamples = 256, PixelSide = 32 },
        };

        using var result = new SairRestorer(g).Restore(y, ReferenceInput.FromPhoto(photo), options);
        using var fromMean = new SairRestorer(g).Restore(y, ReferenceInput.FromLatent(TinySair.MeanWPlus(g)), options);

        Assert.True(TinySair.Psnr(result.Image, photo) > TinySair.Psnr(fromMean.Image, photo) + 1);
    }

    private sealed class SyncProgress(Action<IterationReport> report) : IProgress<IterationReport>
    {
        public void Report(IterationReport value) => report(value);
    }
}

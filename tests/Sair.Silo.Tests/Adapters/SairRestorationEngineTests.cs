using System.Collections.Concurrent;
using Sair.Engine.FaceNets;
using Sair.Engine.Imaging;
using SairOptions = Sair.Engine.Restoration.SairOptions;
using Sair.Grains.Ports;
using Sair.Silo.Adapters;
using static TorchSharp.torch;

namespace Sair.Silo.Tests.Adapters;

/// <summary>The engine adapter on the real SAIR optimisation with the tiny generator and the npm face nets.</summary>
[Collection(TinyEngineCollection.Name)]
public sealed class SairRestorationEngineTests
{
    private static readonly SairRestorationEngine Engine = new(TinyEngine.Models);

    [Fact]
    public async Task Restores_a_degraded_face_closer_to_its_input_than_the_start_and_at_the_generator_size()
    {
        using var face = TinyEngine.Face(seed: 3);
        using var y = TinyEngine.Degrade(face, scale: 4);
        var progress = new Recorder();

        var outcome = await Engine.RestoreAsync(Request("restore", y, [], Options(30)), progress, CancellationToken.None);

        using var restored = TinyEngine.FromPng(outcome.ImagePng);
        Assert.Equal([1L, 3, TinyEngine.Size, TinyEngine.Size], restored.shape);
        // Data term, measured independently of the engine: D(result) against Y, versus D(start) against Y (no references: w starts at the mean latent).
        using var start = TinyEngine.Render(TinyEngine.Models.MeanWPlus);
        using var restoredDegraded = TinyEngine.Degrade(restored, 4);
        using var startDegraded = TinyEngine.Degrade(start, 4);
        var (after, before) = (TinyEngine.MeanSquaredError(restoredDegraded, y), TinyEngine.MeanSquaredError(startDegraded, y));
        Assert.True(after < 0.5 * before, $"‖D(G(w)) − Y‖² went from {before:E3} at the start to {after:E3}: less than halved.");
        Assert.Equal(Enumerable.Range(1, 30), progress.Reports.Select(r => r.Iteration));
        Assert.True(progress.Reports[^1].Loss < progress.Reports[0].Loss, $"loss {progress.Reports[0].Loss} → {progress.Reports[^1].Loss}");
        Assert.Equal(30, outcome.Iterations);
        Assert.Equal(progress.Reports[^1].Loss, outcome.FinalLoss);
        Assert.Null(outcome.IdentitySimilarity);
    }

    [Fact]
    public async Task A_reference_photo_is_projected_and_its_identity_similarity_reported()
    {
        using var truth = TinyEngine.Face(seed: 5);
        using var y = TinyEngine.Degrade(truth, scale: 4);
        var reference = new ReferenceFace("ref-5", TinyEngine.Png(truth), null);
        var progress = new Recorder();

        var outcome = await Engine.RestoreAsync(Request("reference", y, [reference], Options(10)), progress, CancellationToken.None);

        Assert.NotNull(outcome.IdentitySimilarity);
        Assert.InRange(outcome.IdentitySimilarity!.Value, 0.5, 1.0);
        Assert.All(progress.Reports, r => Assert.InRange(r.IdentitySimilarity!.Value, -1.0, 1.0));

        // The projection comes back for the grid to cache on the reference: a W+ latent this engine's generator takes,
        // which a later job can attach instead of projecting again.
        Assert.NotNull(outcome.ReferenceLatent);
        var cached = reference with { Latent = outcome.ReferenceLatent };
        var again = await Engine.RestoreAsync(Request("reference-cached", y, [cached], Options(1)), new Recorder(), CancellationToken.None);
        Assert.Null(again.ReferenceLatent);
    }

    [Fact]
    public async Task One_reference_photo_is_projected_once_for_every_face_restored_against_it()
    {
        // Jobs that name a reference by path send the same photo with every face and have no pool to attach its
        // inversion to: the silo keeps the inversion, so the second face starts from the first one's latent without
        // projecting again.
        using var truth = TinyEngine.Face(seed: 11);
        using var y = TinyEngine.Degrade(truth, scale: 4);
        var reference = new ReferenceFace("album-ref-11", TinyEngine.Png(truth), null);
        var cache = TinyEngine.Models.InversionCache;
        var (hits, misses) = (cache.Hits, cache.Misses);

        var first = await Engine.RestoreAsync(Request("album-face-1", y, [reference], Options(2)), new Recorder(), CancellationToken.None);
        var second = await Engine.RestoreAsync(Request("album-face-2", y, [reference], Options(2)), new Recorder(), CancellationToken.None);

        // The cache is the silo's (shared with tests running beside this one): at least this call's hit.
        Assert.True(cache.Hits >= hits + 1 && cache.Misses >= misses + 1, $"hits {hits} → {cache.Hits}, misses {misses} → {cache.Misses}");
        Assert.Equal(first.ReferenceLatent, second.ReferenceLatent);
        Assert.Equal(first.ImagePng, second.ImagePng);
    }

    [Fact]
    public async Task Jobs_running_at_once_on_a_batching_silo_share_passes_and_restore_as_they_do_alone()
    {
        var options = TinyEngine.Options();
        options.MaxConcurrentJobs = 3;
        options.BatchSize = 3;
        using var models = new EngineModels(options, restores: true);
        await models.LoadAsync();
        var batching = new SairRestorationEngine(models);
        var faces = new ulong[] { 21, 22, 23 }.Select(seed =>
        {
            using var face = TinyEngine.Face(seed);
            return TinyEngine.Degrade(face, scale: 4);
        }).ToList();
        var reference = new ReferenceFace("ref-24", TinyEngine.Png(TinyEngine.Face(seed: 24)), null);
        IReadOnlyList<ReferenceFace> References(int k) => k == 1 ? [] : [reference];

        var alone = new List<RestorationOutcome>();
        for (var k = 0; k < faces.Count; k++)
        {
            alone.Add(await Engine.RestoreAsync(Request($"alone-{k}", faces[k], References(k), Options(40)), new Recorder(), CancellationToken.None));
        }
        var together = await Task.WhenAll(faces.Select((y, k) =>
            Task.Run(() => batching.RestoreAsync(Request($"together-{k}", y, References(k), Options(40)), new Recorder(), CancellationToken.None))));

        var batcher = models.Batcher!;
        Assert.True(batcher.Steps > batcher.Passes, $"{batcher.Steps} iterations in {batcher.Passes} passes: no job shared a pass");
        Assert.Equal(120, batcher.Steps);
        for (var k = 0; k < faces.Count; k++)
        {
            using var expected = TinyEngine.FromPng(alone[k].ImagePng);
            using var actual = TinyEngine.FromPng(together[k].ImagePng);
            // Batched convolutions round differently (about 1e-6 a pass); 40 Adam steps through the face-api net carry that
            // to a few levels of the 8-bit result at most (measured: ≤ 3 levels, mean ≤ 0.2).
            var (largest, mean) = ((expected - actual).abs().max().item<float>() * 255, (expected - actual).abs().mean().item<float>() * 255);
            Assert.True(largest <= 4 && mean <= 0.5, $"face {k}: the batched result differs from the solo one by up to {largest:0.0} levels, {mean:0.00} on average");
            // The final loss moves a little more than the pixels: measured ≤ 0.2 % with oneDNN's default kernels on Zen 4,
            // 0.26 % (face 0) with the sse41 kernels the guard picks on a Zen 5.
            Assert.True(Math.Abs(alone[k].FinalLoss - together[k].FinalLoss) <= 5e-3 * alone[k].FinalLoss, $"face {k}: final loss {alone[k].FinalLoss} alone, {together[k].FinalLoss} batched");
        }
    }

    [Fact]
    public async Task An_attached_latent_is_where_the_optimisation_starts()
    {
        // Y and the reference photo both come from w_A: starting at w_A the first objective is near its minimum; starting
        // at the mean latent (attached instead, all else equal) it is not. The first report is the objective at the start.
        using var latent = TinyEngine.Latent(seed: 9);
        using var face = TinyEngine.Render(latent);
        using var y = TinyEngine.Degrade(face, scale: 4);
        var photo = TinyEngine.Png(face);

        async Task<double> FirstLoss(Tensor start)
        {
            var progress = new Recorder();
            var reference = new ReferenceFace("ref-latent", photo, null, LatentBytes(start));
            await Engine.RestoreAsync(Request("latent", y, [reference], Options(1)), progress, CancellationToken.None);
            return progress.Reports.Single().Loss;
        }

        var (atLatent, atMean) = (await FirstLoss(latent), await FirstLoss(TinyEngine.Models.MeanWPlus));
        Assert.True(atLatent < 0.5 * atMean, $"the objective at the attached w_A is {atLatent:E3}; at the mean latent {atMean:E3}.");
    }

    [Fact]
    public async Task A_latent_made_for_another_generator_is_refused_naming_the_reference()
    {
        using var wrong = zeros(1, 5, 32);
        using var y = TinyEngine.Degrade(TinyEngine.Face(seed: 8), scale: 4);
        var reference = new ReferenceFace("ref-wrong", TinyEngine.Png(TinyEngine.Face(seed: 9)), null, LatentBytes(wrong));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            Engine.RestoreAsync(Request("wrong-latent", y, [reference], Options(1)), new Recorder(), CancellationToken.None));

        Assert.Contains("ref-wrong", error.Message);
        Assert.Contains("(1, 10, 32)", error.Message);
    }

    [Fact]
    public async Task A_run_resumed_from_a_persisted_checkpoint_continues_and_ends_where_the_uninterrupted_run_ends()
    {
        using var y = TinyEngine.Degrade(TinyEngine.Face(seed: 4), scale: 4);
        var options = Options(12) with { Preset = "official", CheckpointEvery = 4 };
        var checkpoints = new ConcurrentQueue<CheckpointBlob>();
        var whole = await Engine.RestoreAsync(Request("resume", y, [], options, checkpoints: checkpoints), new Recorder(), CancellationToken.None);
        Assert.Equal([4, 8], checkpoints.Select(c => c.Iteration));

        var progress = new Recorder();
        var resumed = await Engine.RestoreAsync(
            Request("resume", y, [], options, resumeFrom: checkpoints.First()), progress, CancellationToken.None);

        Assert.Equal(Enumerable.Range(5, 8), progress.Reports.Select(r => r.Iteration));
        Assert.Equal(12, resumed.Iterations);
        Assert.Equal(whole.FinalLoss, resumed.FinalLoss, 1e-6);
        Assert.Equal(whole.ImagePng, resumed.ImagePng);
    }

    [Fact]
    public async Task A_checkpoint_from_another_iteration_is_refused()
    {
        using var y = TinyEngine.Degrade(TinyEngine.Face(seed: 4), scale: 4);
        var options = Options(8) with { CheckpointEvery = 4 };
        var checkpoints = new ConcurrentQueue<CheckpointBlob>();
        await Engine.RestoreAsync(Request("mislabelled", y, [], options, checkpoints: checkpoints), new Recorder(), CancellationToken.None);
        var mislabelled = checkpoints.Single() with { Iteration = 2 };

        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            Engine.RestoreAsync(Request("mislabelled", y, [], options, resumeFrom: mislabelled), new Recorder(), CancellationToken.None));
        Assert.Contains("another run", error.Message);
    }

    [Fact]
    public async Task Cancellation_stops_a_long_run_within_an_iteration_or_two()
    {
        using var y = TinyEngine.Degrade(TinyEngine.Face(seed: 6), scale: 4);
        using var cancellation = new CancellationTokenSource();
        var progress = new Recorder(r =>
        {
            if (r.Iteration == 3)
            {
                cancellation.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Engine.RestoreAsync(Request("cancel", y, [], Options(100_000)), progress, cancellation.Token));

        Assert.InRange(progress.Reports.Count, 3, 4);
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "cut-short", "truncated" },
        { "not-an-image", "not-an-image" },
        { "larger", "must divide 64" },
        { "non-dividing", "must divide 64" },
        { "not-square", "square" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_inputs_fail_with_a_reason_that_says_what_to_fix(string input, string expected)
    {
        var png = input switch
        {
            "cut-short" => [.. TinyEngine.BlankPng(16, 16).Take(40)],
            "not-an-image" => "just some text, not a photo"u8.ToArray(),
            "larger" => TinyEngine.BlankPng(128, 128),
            "non-dividing" => TinyEngine.BlankPng(24, 24),
            _ => TinyEngine.BlankPng(16, 32),
        };
        var request = new RestorationRequest("bad-" + input, png, [], Options(5), null, (_, _) => Task.CompletedTask, FaceFraming.Ffhq);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Engine.RestoreAsync(request, new Recorder(), CancellationToken.None));

        if (error is ImageLoadException refused)
        {
            Assert.Equal(expected, refused.Reason);
        }
        else
        {
            Assert.IsType<ArgumentException>(error);
            Assert.Contains(expected, error.Message);
        }

        Assert.Contains("bad-" + input, error.Message);
    }

    [Fact]
    public async Task Unknown_presets_and_emotions_without_directions_are_refused_by_name()
    {
        using var y = TinyEngine.Degrade(TinyEngine.Face(seed: 7), scale: 4);

        var preset = await Assert.ThrowsAsync<ArgumentException>(() =>
            Engine.RestoreAsync(Request("preset", y, [], Options(5) with { Preset = "fastest" }), new Recorder(), CancellationToken.None));
        var emotion = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Engine.RestoreAsync(Request("emotion", y, [], Options(5) with { Emotion = "happy" }), new Recorder(), CancellationToken.None));

        Assert.Contains("paper-pti, paper, paper-bp, official", preset.Message);
        Assert.Contains("Sair__Engine__EmotionDirectionsPath", emotion.Message);
    }

    [Fact]
    public void The_engine_maps_every_preset_and_emotion_of_the_grid_contract()
    {
        // The contract (Sair.Grains.Abstractions) holds the one list the CLI and the grain API check; the engine must
        // run each of them, and its emotion directions must be in the contract's order.
        var options = RestorationPresets.All.Select(p => SairRestorationEngine.ToSairOptions(Options(5) with { Preset = p }, false, 3)).ToList();
        Assert.Equal(RestorationPresets.All.Count, options.Distinct().Count());
        Assert.Equal(RestorationPresets.All, ["paper-pti", "paper", "paper-bp", "official"]);
        Assert.Equal(RestorationEmotions.All, Emotions.Names);
    }

    [Fact]
    public void Preset_paper_bp_is_the_paper_objective_with_five_back_projection_steps_unless_D_has_a_jpeg_stage()
    {
        var paper = SairRestorationEngine.ToSairOptions(Options(5), hasEmotionDirections: false, projectionIterations: 3);
        var paperBp = SairRestorationEngine.ToSairOptions(Options(5) with { Preset = "Paper-BP" }, hasEmotionDirections: false, projectionIterations: 3);

        Assert.Equal(0, paper.BackProjectionSteps);
        Assert.Equal(paper with { BackProjectionSteps = 5 }, paperBp);
        Assert.Equal(0.3, SairRestorationEngine.ToSairOptions(Options(5) with { IdentityWeight = 0.3 }, false, 3).IdentityWeight);
        Assert.Equal(0.4, SairRestorationEngine.ToSairOptions(Options(5) with { Preset = "official" }, false, 3).IdentityWeight);
        // With a JPEG stage in D there is nothing linear to invert: no back-projection.
        Assert.Equal(0, SairRestorationEngine.ToSairOptions(Options(5) with { Preset = "paper-bp", JpegQuality = 30 }, false, 3).BackProjectionSteps);
    }

    [Fact]
    public async Task Preset_paper_pti_tunes_the_generator_to_the_reference_and_runs_without_one_as_paper_bp()
    {
        var paperBp = SairRestorationEngine.ToSairOptions(Options(5) with { Preset = "paper-bp" }, false, 3);
        var paperPti = SairRestorationEngine.ToSairOptions(Options(5) with { Preset = "paper-pti" }, false, 3);
        Assert.Equal(paperBp with { PivotalTuning = paperPti.PivotalTuning, IdentityInterval = SairOptions.PivotalTunedIdentityInterval }, paperPti);
        Assert.Equal(SairOptions.PivotalTuningSteps, paperPti.PivotalTuning.Steps);
        Assert.Equal(1, paperBp.IdentityInterval);

        // With a reference the first rendering (iteration 0, at w_z) comes from the tuned generator, so it is nearer the
        // reference photo than paper-bp's first rendering from the same w_z: its first data term is lower.
        using var latent = TinyEngine.Latent(seed: 19);
        using var y = TinyEngine.Degrade(TinyEngine.Render(latent), scale: 4);
        var reference = new ReferenceFace("ref-pti", TinyEngine.Png(TinyEngine.Render(latent)), null, LatentBytes(TinyEngine.Models.MeanWPlus));
        async Task<double> FirstLoss(string preset)
        {
            var progress = new Recorder();
            await Engine.RestoreAsync(Request(preset, y, [reference], Options(1) with { Preset = preset }), progress, CancellationToken.None);
            return progress.Reports.Single().Loss;
        }
        var (tuned, untuned) = (await FirstLoss("paper-pti"), await FirstLoss("paper-bp"));
        Assert.True(tuned < 0.5 * untuned, $"first objective {tuned:E3} with tuning, {untuned:E3} without");

        // Without a reference there is no photo to tune to: the job runs as paper-bp would.
        var alone = await Engine.RestoreAsync(Request("pti-alone", y, [], Options(2) with { Preset = "paper-pti" }), new Recorder(), CancellationToken.None);
        Assert.Equal(2, alone.Iterations);
    }

    [Fact]
    public async Task A_jpeg_quality_puts_the_jpeg_stage_into_D_and_out_of_range_is_refused()
    {
        Assert.Null(SairRestorationEngine.ToSairOptions(Options(5), hasEmotionDirections: false, projectionIterations: 3).JpegQuality);
        Assert.Equal(30, SairRestorationEngine.ToSairOptions(Options(5) with { JpegQuality = 30 }, false, 3).JpegQuality);
        Assert.Equal(30, SairRestorationEngine.ToSairOptions(Options(5) with { Preset = "official", JpegQuality = 30 }, false, 3).JpegQuality);

        using var y = TinyEngine.Degrade(TinyEngine.Face(seed: 7), scale: 4);
        var outcome = await Engine.RestoreAsync(Request("jpeg", y, [], Options(3) with { JpegQuality = 30 }), new Recorder(), CancellationToken.None);
        Assert.Equal(3, outcome.Iterations);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            Engine.RestoreAsync(Request("jpeg-0", y, [], Options(3) with { JpegQuality = 0 }), new Recorder(), CancellationToken.None));
        Assert.Contains("JpegQuality 0 is out of range", refused.Message);
    }

    /// <summary>A latent as the bytes of an .npy file, one of the formats a pool may attach.</summary>
    private static byte[] LatentBytes(Tensor latent)
    {
        var path = Path.Combine(Path.GetTempPath(), $"sair-test-latent-{Guid.NewGuid():N}.npy");
        try
        {
            Sair.Engine.IO.LatentFile.Save(path, latent);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static RestorationOptions Options(int iterations) => new("paper", iterations, null, 0, Seed: 1, CheckpointEvery: 1000);

    private static RestorationRequest Request(string jobId, Tensor y, IReadOnlyList<ReferenceFace> references, RestorationOptions options,
        CheckpointBlob? resumeFrom = null, ConcurrentQueue<CheckpointBlob>? checkpoints = null) =>
        new(jobId, TinyEngine.Png(y), references, options, resumeFrom, (checkpoint, _) =>
        {
            checkpoints?.Enqueue(checkpoint);
            return Task.CompletedTask;
        }, FaceFraming.Ffhq);

    private sealed class Recorder(Action<RestorationProgress>? onReport = null) : IProgress<RestorationProgress>
    {
        public List<RestorationProgress> Reports { get; } = [];

        public void Report(RestorationProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    [Fact]
    public void The_loss_curve_keeps_every_iteration_of_a_short_run_and_200_evenly_spaced_ones_of_a_long_one()
    {
        Assert.Equal([3f, 2f, 1f], SairRestorationEngine.LossCurve([3, 2, 1]));

        var curve = SairRestorationEngine.LossCurve([.. Enumerable.Range(0, 2000).Select(i => (double)i)]);

        Assert.Equal(SairRestorationEngine.MaxLossPoints, curve.Length);
        Assert.Equal(0f, curve[0]);
        Assert.Equal(1999f, curve[^1]);
        Assert.True(curve.Zip(curve.Skip(1)).All(p => p.Second > p.First));
    }
}

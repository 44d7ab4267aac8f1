using Sair.Engine.Restoration;
using Sair.Engine.Runtime;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Restoration;

public sealed class RestorationBatcherTests
{
    /// <summary>Batched convolutions may sum in another order than a batch of one; over a run that stays this small.</summary>
    private const float Tolerance = 1e-4f;

    private sealed record Case(Tensor Y, ReferenceInput Reference, SairOptions Options);

    [Fact]
    public void Runs_of_different_inputs_options_and_lengths_batched_together_equal_their_solo_runs()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var identity = new TinyIdentityNetwork();
        using var landmarks = new FixedLandmarks();
        var restorer = new SairRestorer(g, identity, landmarks);
        var cases = new[]
        {
            // Paper preset with identity and the latent prior, stored noise.
            new Case(TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 101), scale: 4), ReferenceInput.FromLatent(TinySair.RandomWPlus(g, seed: 102),
                TinySair.Render(g, TinySair.RandomWPlus(g, seed: 103))), SairOptions.Paper() with { Iterations = 14, EmotionWeight = 0, HistogramWeight = 0 }),
            // Fresh seeded noise every step, the official schedule, the histogram term with its mask, a ×2 input.
            new Case(TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 104), scale: 2), ReferenceInput.FromLatent(TinySair.RandomWPlus(g, seed: 105)),
                SairOptions.Paper() with
                {
                    Iterations = 9, EmotionWeight = 0, RandomizeNoise = true, Seed = 7, Schedule = LearningRateSchedule.Official, MaskInterval = 3,
                }),
            // Data term only, another learning rate, the longest run.
            new Case(TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 106), scale: 4), ReferenceInput.FromLatent(TinySair.MeanWPlus(g)),
                TinySair.Nothing(20) with { DataWeight = 1, LearningRate = 0.05 }),
            // The losses on the 32 px skip image: its own passes (the others render 64 px), as alone.
            new Case(TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 112), scale: 4), ReferenceInput.FromLatent(TinySair.MeanWPlus(g)),
                TinySair.Nothing(12) with { DataWeight = 1, LearningRate = 0.05, LossSide = TinySair.Size / 2 }),
            // Two runs with the identity net every 3 iterations (its expansion between), refreshed together in one call.
            new Case(TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 107), scale: 4), ReferenceInput.FromLatent(TinySair.RandomWPlus(g, seed: 108),
                TinySair.Render(g, TinySair.RandomWPlus(g, seed: 109))), TinySair.Nothing(10) with { DataWeight = 1, IdentityWeight = 1, IdentityInterval = 3 }),
            new Case(TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 110), scale: 4), ReferenceInput.FromLatent(TinySair.RandomWPlus(g, seed: 108),
                TinySair.Render(g, TinySair.RandomWPlus(g, seed: 111))), TinySair.Nothing(10) with { DataWeight = 1, IdentityWeight = 1, IdentityInterval = 3 }),
        };
        var solo = cases.Select(c => restorer.Restore(c.Y, c.Reference, c.Options)).ToList();

        var batcher = new RestorationBatcher(maxBatch: 8);
        var batched = RunTogether(batcher, cases.Select(c => (restorer, c)).ToList());

        for (var k = 0; k < cases.Length; k++)
        {
            AssertSame(solo[k], batched[k], $"run {k}");
        }
        // The later runs joined the first between its iterations, and every pass after that held all of them.
        Assert.True(batcher.Steps > batcher.Passes, $"{batcher.Steps} steps in {batcher.Passes} passes: nothing was batched");
        Assert.Equal(cases.Sum(c => c.Options.Iterations), batcher.Steps);
        Assert.Equal(0, batcher.Runs);
    }

    [Fact]
    public void Runs_tuned_to_one_reference_share_passes_and_runs_of_another_reference_get_their_own()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        using var cache = new PivotalTuningCache(capacity: 4);
        var restorer = new SairRestorer(g, tuningCache: cache);
        var pivot = TinySair.RandomWPlus(g, seed: 111);
        var (photoA, photoB) = (TinySair.Render(g, TinySair.RandomWPlus(g, seed: 112)), TinySair.Render(g, TinySair.RandomWPlus(g, seed: 113)));
        var options = TinySair.Nothing(8) with
        {
            DataWeight = 1, LearningRate = 0.05, PivotalTuning = new PivotalTuningOptions { Steps = 5, LearningRate = 1e-3 },
        };
        Case Face(ulong seed, Tensor photo) => new(TinySair.Degrade(g, TinySair.RandomWPlus(g, seed), scale: 4), ReferenceInput.FromLatent(pivot, photo), options);
        var cases = new[] { Face(114, photoA), Face(115, photoA), Face(116, photoB) };
        var solo = cases.Select(c => restorer.Restore(c.Y, c.Reference, c.Options)).ToList();

        var batcher = new RestorationBatcher(maxBatch: 8);
        var batched = RunTogether(batcher, cases.Select(c => (restorer, c)).ToList());

        for (var k = 0; k < cases.Length; k++)
        {
            AssertSame(solo[k], batched[k], $"run {k}");
        }
        // A's two runs share one pass per round, B's run is stepped alone: at most 2 runs a pass, and at least 2 passes a round.
        Assert.Equal(24, batcher.Steps);
        Assert.InRange(batcher.Passes, 12 + 1, 23);
    }

    [Fact]
    public void A_failing_run_and_a_cancelled_run_leave_the_batch_and_the_others_finish_as_alone()
    {
        using var scope = NewDisposeScope();
        using var g = TinySair.LoadGenerator();
        var healthy = new SairRestorer(g);
        // Same generator, so it shares the passes; its latent turns NaN after every update.
        var broken = new SairRestorer(g) { Perturb = (_, name, value) => name == SairRestorer.LatentName ? value * float.NaN : value };
        var options = TinySair.Nothing(12) with { DataWeight = 1, LearningRate = 0.05 };
        var good = new Case(TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 121), scale: 4), ReferenceInput.FromLatent(TinySair.MeanWPlus(g)), options);
        var bad = good with { Y = TinySair.Degrade(g, TinySair.RandomWPlus(g, seed: 122), scale: 4) };
        using var alone = healthy.Restore(good.Y, good.Reference, good.Options);

        var batcher = new RestorationBatcher(maxBatch: 4);
        using var cancellation = new CancellationTokenSource();
        var first = Caller.Start(() => batcher.Restore(healthy, good.Y, good.Reference, good.Options,
            new Progress(report =>
            {
                if (report.Iteration == 0)
                {
                    WaitFor(() => batcher.Runs == 3);
                }
            })));
        WaitFor(() => batcher.Runs == 1);
        var failing = Caller.Start(() => batcher.Restore(broken, bad.Y, bad.Reference, bad.Options));
        var cancelled = Caller.Start(() => batcher.Restore(healthy, bad.Y, bad.Reference, bad.Options with { Iterations = 1000 },
            new Progress(report =>
            {
                if (report.Iteration == 2)
                {
                    cancellation.Cancel();
                }
            }), cancellation.Token));

        var error = Assert.Throws<NonFiniteException>(() => failing.Result());
        Assert.Contains("latent w", error.Message);
        Assert.ThrowsAny<OperationCanceledException>(() => cancelled.Result());
        using var result = first.Result();
        AssertSame(alone, result, "the healthy run");
        Assert.True(batcher.Steps > batcher.Passes);
        Assert.Equal(0, batcher.Runs);
    }

    /// <summary>
    /// Runs every case through <paramref name="batcher"/> from its own thread; the first holds its first report until
    /// every other run has been handed to the loop, so the others join it between its iterations.
    /// </summary>
    private static List<RestorationResult> RunTogether(RestorationBatcher batcher, IReadOnlyList<(SairRestorer Restorer, Case Case)> runs)
    {
        var callers = new List<Caller>();
        for (var k = 0; k < runs.Count; k++)
        {
            var (restorer, (y, reference, options)) = runs[k];
            IProgress<IterationReport>? progress = k == 0
                ? new Progress(report =>
                {
                    if (report.Iteration == 0)
                    {
                        WaitFor(() => batcher.Runs == runs.Count);
                    }
                })
                : null;
            callers.Add(Caller.Start(() => batcher.Restore(restorer, y, reference, options, progress)));
            if (k == 0)
            {
                WaitFor(() => batcher.Runs == 1);
            }
        }
        return [.. callers.Select(c => c.Result())];
    }

    private static void WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the batcher");
            Thread.Sleep(5);
        }
    }

    private static void AssertSame(RestorationResult expected, RestorationResult actual, string what)
    {
        var imageGap = (expected.Image - actual.Image).abs().max().item<float>();
        var latentGap = (expected.Latent - actual.Latent).abs().max().item<float>();
        Assert.True(imageGap <= Tolerance && latentGap <= Tolerance, $"{what}: image differs by {imageGap}, latent by {latentGap}");
        Assert.Equal(expected.History.Count, actual.History.Count);
        for (var i = 0; i < expected.History.Count; i++)
        {
            Assert.Equal(expected.History[i].Iteration, actual.History[i].Iteration);
            Assert.Equal(expected.History[i].Total, actual.History[i].Total, Tolerance * Math.Max(1, Math.Abs(expected.History[i].Total)));
        }
    }

    /// <summary>A caller of the batcher on a thread of its own (as each engine slot is).</summary>
    private sealed class Caller
    {
        private readonly Thread thread;
        private RestorationResult? result;
        private Exception? error;

        private Caller(Func<RestorationResult> restore) => thread = new Thread(() =>
        {
            try
            {
                result = restore();
            }
            catch (Exception e)
            {
                error = e;
            }
        });

        public static Caller Start(Func<RestorationResult> restore)
        {
            var caller = new Caller(restore);
            caller.thread.Start();
            return caller;
        }

        /// <summary>The run's result, or what it threw.</summary>
        public RestorationResult Result()
        {
            Assert.True(thread.Join(TimeSpan.FromMinutes(3)), "the batched run did not finish");
            if (error is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
            return result!;
        }
    }

    /// <summary>Calls back synchronously (System.Progress posts to the thread pool).</summary>
    private sealed class Progress(Action<IterationReport> report) : IProgress<IterationReport>
    {
        public void Report(IterationReport value) => report(value);
    }
}

using System.Diagnostics;
using System.Globalization;
using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.Restoration;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using Sair.Grains.Ports;
using Sair.Silo;
using Sair.Silo.Adapters;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// Batched restoration (issue 17, item 1): B runs of different faces optimised together by one
/// <see cref="RestorationBatcher"/>, for each B, with the face networks of a silo (face-api identity and landmarks).
/// 64 px: the embedded demo prior and the silo's default preset (paper-pti; the B faces share one reference, as an
/// album's faces of one person do, so they share its tuned generator); 256 px: a random-weight generator of the
/// official layout with preset paper-bp. Timed: the passes after every run has joined, until the last run's last
/// step; reported as run-iterations per second, its ratio to the size's first row (B = 1 at the first k of
/// <c>--identity-every</c>, default the preset's own identity interval) measured in the same process, and the faces per
/// hour that rate gives at 400 iterations a face (optimisation only: set-up and the final rendering excluded).
/// </summary>
internal static class BatchBench
{
    public static int Run(BenchArgs args)
    {
        var sizes = args.Ints("sizes", 64, 256);
        var batches = args.Ints("batches", 1, 2, 4, 8);
        var threads = args.Int("threads", Environment.ProcessorCount);
        // --stage: the preset's terms up to a stage of the paper's ablation (data, identity, histogram, emotion = all).
        var stage = args.String("stage", "all") switch
        {
            "data" => AblationStage.DataOnly,
            "identity" => AblationStage.WithIdentity,
            "histogram" => AblationStage.WithHistogram,
            "all" => AblationStage.WithEmotion,
            var other => throw new ArgumentException($"--stage {other}: use data, identity, histogram or all"),
        };
        // --identity-every k: SairOptions.IdentityInterval (the identity net every k iterations, its expansion between).
        // Not given: each preset's own interval.
        int[]? identityEvery = args.String("identity-every", "") is { Length: > 0 } ? args.Ints("identity-every", 1) : null;
        var runtime = TorchRuntime.EnsureLoaded();
        set_num_threads(threads);
        manual_seed(0);

        Console.WriteLine($"# Batched restoration: {runtime}, {threads} threads, CPU {CpuKernels.CpuModel()}");
        Console.WriteLine();
        Console.WriteLine($"Terms: {(stage == AblationStage.WithEmotion ? "all of the preset's" : $"up to {stage}")}; k: the identity net every k iterations.");
        Console.WriteLine();
        Console.WriteLine("| size | preset | k | B | iterations timed (runs × steps) | s per pass | run-iterations/s | × first row of the size | faces/hour at 400 it |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var size in sizes)
        {
            var steps = args.Int($"steps{size}", size <= 64 ? 40 : 3);
            using var setup = size == 64 ? DemoPrior() : RandomWeights(size);
            double? single = null;
            foreach (var k in identityEvery ?? [setup.Options.IdentityInterval])
            {
                foreach (var b in batches)
                {
                    var (rate, perPass, timed) = Measure(setup, setup.Options.ForAblation(stage) with { IdentityInterval = k }, b, steps);
                    single ??= b == 1 ? rate : null;
                    var ratio = single is { } one ? (rate / one).ToString("0.00", CultureInfo.InvariantCulture) : "–";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {size} | {setup.Preset} | {k} | {b} | {timed} | {perPass:0.000} | {rate:0.00} | {ratio} | {rate * 3600 / 400:0} |"));
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine($"command: dotnet run -c Release --project bench/Sair.Bench -- batch --sizes {string.Join(',', sizes)} --batches {string.Join(',', batches)} --stage {args.String("stage", "all")} {(identityEvery is null ? "" : $"--identity-every {string.Join(',', identityEvery)} ")}--threads {threads}");
        return 0;
    }

    /// <summary>What one size's runs need: the restorer (on one generator), a reference, the options and B inputs' source.</summary>
    internal sealed class Setup(string preset, SairRestorer restorer, StyleGan2Generator generator, ReferenceInput reference, SairOptions options,
        Action dispose) : IDisposable
    {
        public string Preset { get; } = preset;

        public SairRestorer Restorer { get; } = restorer;

        public StyleGan2Generator Generator { get; } = generator;

        public ReferenceInput Reference { get; } = reference;

        public SairOptions Options { get; } = options;

        public void Dispose() => dispose();
    }

    /// <summary>The embedded demo prior and the silo's nets, with the options an engine silo gives a default job.</summary>
    internal static Setup DemoPrior()
    {
        var engineOptions = new SairEngineOptions { GeneratorPath = EmbeddedDefaults.GeneratorSetting, Device = "cpu" };
        EmbeddedDefaults.Apply(engineOptions);
        var models = new EngineModels(engineOptions, restores: true);
        models.LoadAsync().GetAwaiter().GetResult();
        var generator = models.Generator;
        var jobOptions = new RestorationOptions(RestorationPresets.Default, RestorationOptions.DefaultIterations, Emotion: null, EmotionStrength: 0, Seed: 0,
            CheckpointEvery: RestorationOptions.DefaultIterations);
        var options = SairRestorationEngine.ToSairOptions(jobOptions, models.EmotionDirections is not null, engineOptions.ProjectionIterations);
        var restorer = new SairRestorer(generator, models.Identity, models.Landmarks, models.Expressions, models.EmotionDirections, models.TuningCache);
        var reference = ReferenceInput.FromLatent(BenchFaces.Latent(generator, 1000), BenchFaces.Face(generator, 1001));
        return new Setup(jobOptions.Preset, restorer, generator, reference, options, models.Dispose);
    }

    /// <summary>A random-weight generator of the official layout at <paramref name="size"/>, with the npm face nets.</summary>
    internal static Setup RandomWeights(int size)
    {
        var generator = BenchFaces.RandomOfficialLayout(size);
        using (no_grad())
        {
            generator.LatentAvg = generator.MeanLatent(256);
        }
        var identity = FaceApiIdentity.Load();
        var landmarks = FaceApiLandmarks.Load();
        var options = SairOptions.PaperBackProjected() with { EmotionWeight = 0 };
        var restorer = new SairRestorer(generator, identity, landmarks);
        var reference = ReferenceInput.FromLatent(BenchFaces.Latent(generator, 1000), BenchFaces.Face(generator, 1001));
        return new Setup(RestorationPresets.PaperBackProjected, restorer, generator, reference, options, () =>
        {
            identity.Dispose();
            landmarks.Dispose();
            generator.Dispose();
        });
    }

    /// <summary>
    /// B runs of <paramref name="steps"/> + 1 iterations on B different ×4 inputs; the first run holds its first report
    /// until all B have joined, and the passes from then to the last step are timed.
    /// </summary>
    internal static (double RunIterationsPerSecond, double SecondsPerPass, string Timed) Measure(Setup setup, SairOptions options, int b, int steps)
    {
        using var scope = NewDisposeScope();
        options = options with { Iterations = steps + 1 };
        var inputs = Enumerable.Range(0, b).Select(k => BenchFaces.Degraded(setup.Generator, (ulong)(2000 + k), 4)).ToList();
        var batcher = new RestorationBatcher(b);
        var clock = new Stopwatch();
        var timedReports = 0;
        var lastReport = TimeSpan.Zero;
        long passesAtStart = 0;
        var gate = new object();
        var callers = new List<Thread>();
        var errors = new List<Exception>();
        for (var k = 0; k < b; k++)
        {
            var first = k == 0;
            var y = inputs[k];
            // The first run's step 0 is a pass of its own (the others join after it); its report, which waits for them to
            // join, starts the clock, and every report after that counts, up to the last.
            var progress = new CallbackProgress<IterationReport>(report =>
            {
                lock (gate)
                {
                    if (clock.IsRunning)
                    {
                        timedReports++;
                        lastReport = clock.Elapsed;
                    }
                }
                if (first && report.Iteration == 0)
                {
                    while (batcher.Runs < b)
                    {
                        Thread.Sleep(2);
                    }
                    lock (gate)
                    {
                        passesAtStart = batcher.Passes + 1;
                        clock.Start();
                    }
                }
            });
            var caller = new Thread(() =>
            {
                try
                {
                    using var result = batcher.Restore(setup.Restorer, y, setup.Reference, options, progress);
                }
                catch (Exception e)
                {
                    lock (gate)
                    {
                        errors.Add(e);
                    }
                }
            });
            caller.Start();
            callers.Add(caller);
            if (first)
            {
                while (batcher.Runs < 1)
                {
                    Thread.Sleep(2);
                }
            }
        }
        callers.ForEach(c => c.Join());
        if (errors.Count > 0)
        {
            throw new AggregateException(errors);
        }
        var passes = batcher.Passes - passesAtStart;
        var seconds = lastReport.TotalSeconds;
        return (timedReports / seconds, seconds / Math.Max(1, passes), $"{timedReports} in {passes} passes");
    }
}

using System.Diagnostics;
using Sair.Engine.Runtime;
using Sair.Grains.Ports;
using Sair.Silo;
using Sair.Silo.Adapters;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// What a silo pays per photo besides the iterations, and whether its memory stays flat (issue 17, item 3): jobs run
/// one after another through the silo's own engine adapter (<see cref="SairRestorationEngine"/>: PNG decode, reference,
/// preset paper-pti, optimisation with a checkpoint every 50 iterations as the CLI asks, result encode) with the
/// embedded demo prior. Reports the process's resident memory
/// (VmRSS) after the models load, during one long run and after each stretch of many short jobs, and the fixed cost
/// per photo: the wall time of a 1-iteration job less one iteration's share of a longer job.
/// </summary>
internal static class JobsBench
{
    public static int Run(BenchArgs args)
    {
        var jobs = args.Int("jobs", 100);
        var iterations = args.Int("iterations", 20);
        var longRun = args.Int("long", 400);
        var threads = args.Int("threads", Environment.ProcessorCount);
        var runtime = TorchRuntime.EnsureLoaded();
        set_num_threads(threads);
        static SairEngineOptions Options(string? referenceStore = null)
        {
            var options = new SairEngineOptions { GeneratorPath = EmbeddedDefaults.GeneratorSetting, Device = "cpu", ReferenceStore = referenceStore };
            EmbeddedDefaults.Apply(options);
            return options;
        }
        using var models = new EngineModels(Options(), restores: true);
        models.LoadAsync().GetAwaiter().GetResult();
        var engine = new SairRestorationEngine(models);
        var g = models.Generator;
        var loaded = RssMegabytes();

        // Faces drawn from the prior, ×4 down; one reference photo, which the silo projects once and keeps (inversion cache).
        var reference = new ReferenceFace("bench-reference", Png(BenchFaces.Face(g, 1)), null);
        var inputs = Enumerable.Range(0, 8).Select(k => Png(BenchFaces.Degraded(g, (ulong)(100 + k), 4))).ToList();
        RestorationRequest Request(int k, int its) => new($"bench-{k}", inputs[k % inputs.Count], [reference],
            new RestorationOptions(RestorationPresets.Default, its, Emotion: null, EmotionStrength: 0, Seed: 1, CheckpointEvery: Math.Min(50, its)), null,
            (_, _) => Task.CompletedTask, FaceFraming.Ffhq);
        double Seconds(int k, int its, IProgress<RestorationProgress>? progress = null, SairRestorationEngine? on = null)
        {
            var clock = Stopwatch.StartNew();
            (on ?? engine).RestoreAsync(Request(k, its), progress ?? new CallbackProgress<RestorationProgress>(_ => { }), CancellationToken.None).GetAwaiter().GetResult();
            return clock.Elapsed.TotalSeconds;
        }

        Console.WriteLine($"# Per-photo cost and memory: {runtime}, {threads} threads, CPU {CpuKernels.CpuModel()}, embedded demo prior, preset {RestorationPresets.Default}");
        Console.WriteLine();
        // Warm-up: the first job projects and tunes to the reference; every later job finds both kept.
        var first = Seconds(0, 1);
        var afterFirst = RssMegabytes();

        var rssDuringLong = new List<(int Iteration, double Megabytes)>();
        var longSeconds = Seconds(1, longRun, new CallbackProgress<RestorationProgress>(value =>
        {
            if (value.Iteration == 1 || value.Iteration % Math.Max(1, longRun / 4) == 0)
            {
                rssDuringLong.Add((value.Iteration, RssMegabytes()));
            }
        }));
        var oneIteration = Enumerable.Range(0, 5).Select(k => Seconds(k, 1)).Order().ElementAt(2);
        var perIteration = (longSeconds - oneIteration) / (longRun - 1);

        var rssByJobs = new List<(int Jobs, double Megabytes, double Trimmed)>();
        var timed = TimeSpan.Zero;
        for (var k = 1; k <= jobs; k++)
        {
            var job = Stopwatch.StartNew();
            Seconds(k, iterations);
            timed += job.Elapsed;
            if (k is 1 or 10 || k % 25 == 0 || k == jobs)
            {
                var resident = RssMegabytes();
                // Then the native heap's free pages handed back: growth that survives this is memory held, not cached.
                ProcessMemory.TrimNativeHeap();
                rssByJobs.Add((k, resident, RssMegabytes()));
            }
        }
        var perJob = timed.TotalSeconds / jobs;

        // A restarted silo: new models (empty memory caches) over a reference store the silo before it filled.
        var store = Path.Combine(Path.GetTempPath(), $"sair-bench-references-{Guid.NewGuid():N}");
        double FirstJobOfASilo()
        {
            using var silo = new EngineModels(Options(store), restores: true);
            silo.LoadAsync().GetAwaiter().GetResult();
            return Seconds(0, 1, on: new SairRestorationEngine(silo));
        }
        double filling, restarted;
        try
        {
            filling = FirstJobOfASilo();
            restarted = FirstJobOfASilo();
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }

        Console.WriteLine("| measurement | figure |");
        Console.WriteLine("|---|---|");
        Line("resident memory after loading the models", $"{loaded:0} MB");
        Line("first job (projects the reference, tunes G to it), 1 iteration", $"{first:0.00} s; memory after it {afterFirst:0} MB");
        Line("first job of a silo with an empty reference store (projects, tunes, writes both), 1 iteration", $"{filling:0.00} s");
        Line("first job of a restarted silo (reads the reference's inversion and tuned G from the store), 1 iteration", $"{restarted:0.00} s");
        Line($"one iteration, from a {longRun}-iteration job", $"{perIteration * 1000:0.0} ms");
        Line("fixed cost per photo: a 1-iteration job (median of 5) less one iteration", $"{oneIteration - perIteration:0.000} s");
        Line($"memory during the {longRun}-iteration job", string.Join(", ", rssDuringLong.Select(r => $"it {r.Iteration}: {r.Megabytes:0} MB")));
        Line($"memory over {jobs} jobs of {iterations} iterations ({perJob:0.00} s each): resident / after malloc_trim",
            string.Join(", ", rssByJobs.Select(r => $"after {r.Jobs}: {r.Megabytes:0} / {r.Trimmed:0} MB")));
        Console.WriteLine();
        Console.WriteLine($"command: dotnet run -c Release --project bench/Sair.Bench -- jobs --jobs {jobs} --iterations {iterations} --long {longRun} --threads {threads}");
        return 0;
    }

    private static void Line(string what, string figure) => Console.WriteLine($"| {what} | {figure} |");

    /// <summary>VmRSS of this process, in MB (after a full managed collection, so only live memory counts).</summary>
    private static double RssMegabytes()
    {
        ProcessMemory.Collect();
        return ProcessMemory.Kilobytes("VmRSS:") / 1024.0;
    }

    private static byte[] Png(Tensor image)
    {
        using var picture = Sair.Engine.Imaging.ImageTensors.ToImage(image);
        return Sair.Engine.Imaging.ImageFiles.Encode(picture, "png");
    }
}

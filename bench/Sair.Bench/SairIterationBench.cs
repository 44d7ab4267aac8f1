using System.Globalization;
using Sair.Engine.Degradation;
using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.Objective;
using Sair.Engine.Restoration;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// One SAIR iteration (paper preset) at the real generator shapes with random weights, broken down by term: the
/// generator's own forward + backward to the latent, then the restorer with the terms added stage by stage (paper
/// Fig. 7), and the landmark mask that is recomputed every <see cref="SairOptions.MaskInterval"/> iterations.
/// The face networks are the real npm ones (face-api recognition and landmarks). Target: all terms together add at
/// most 25 % to the generator's cost.
/// </summary>
internal static class SairIterationBench
{
    public static int Run(BenchArgs args)
    {
        var sizes = args.Ints("sizes", 256, 1024);
        var runs = args.Int("runs", 3);
        using var nets = SceneNets.Start(args);
        var (identity, landmarks) = (nets.Identity, nets.Landmarks);

        Console.WriteLine($"# SAIR iteration benchmark: {nets.Runtime}, paper preset, batch 1, median of {runs} iterations after 1 warm-up");
        Console.WriteLine();
        Console.WriteLine("| size | generator f+b s | data only s | + identity s | + histogram s | + emotion (all) s | mask s (every 10) | all terms, mask amortised s | overhead vs generator |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var size in sizes)
        {
            using var scene = new Scene(size, identity, landmarks);
            using var scope = NewDisposeScope();
            var (generator, restorer, wStar, reference, y) = (scene.Generator, scene.Restorer, scene.Truth, scene.Reference, scene.Y);

            var generatorStep = Timing.MedianSeconds(runs, () =>
            {
                using var inner = NewDisposeScope();
                var latent = wStar.clone().requires_grad_(true);
                generator.Synthesis(latent).square().mean().backward();
                latent.grad!.sum().item<float>();
            });
            // The mask is computed once at iteration 0 (not timed) and then never: its cost is measured on its own below.
            var options = SairOptions.Paper() with { Iterations = runs + 1, Emotion = "happy", MaskInterval = int.MaxValue };
            var stages = new[] { AblationStage.DataOnly, AblationStage.WithIdentity, AblationStage.WithHistogram, AblationStage.WithEmotion }
                .Select(stage => IterationSeconds(restorer, y, ReferenceInput.FromLatent(reference), options.ForAblation(stage)))
                .ToArray();
            // The restorer finds the landmarks on the G(w) it has just rendered, so only detection and rasterising count.
            Tensor rendered;
            using (no_grad())
            {
                rendered = OutputNormalization.Paper(generator.Synthesis(wStar));
            }
            var mask = Timing.MedianSeconds(runs, () =>
            {
                using var inner = NewDisposeScope();
                using var noGrad = no_grad();
                LandmarkHullMask.Rasterize(landmarks.Detect(rendered), size, size).sum().item<float>();
            });
            var all = stages[^1] + mask / 10;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {size} | {generatorStep:0.000} | {stages[0]:0.000} | {stages[1]:0.000} | {stages[2]:0.000} | {stages[3]:0.000} | {mask:0.000} | {all:0.000} | {(all / generatorStep - 1) * 100:+0;-0} % |"));
        }
        return 0;
    }

    /// <summary>Median time between consecutive iteration reports, leaving out the first iteration (set-up work).</summary>
    internal static double IterationSeconds(SairRestorer restorer, Tensor y, ReferenceInput reference, SairOptions options)
    {
        var reports = new SynchronousProgress();
        using var result = restorer.Restore(y, reference, options, reports);
        var times = reports.Elapsed.Zip(reports.Elapsed.Skip(1), (a, b) => (b - a).TotalSeconds).Order().ToList();
        return times[times.Count / 2];
    }

    /// <summary>
    /// What every <see cref="Scene"/> of a run shares: libtorch loaded with --threads (default: every core) and seeded
    /// 0, and the real face-api recognition and landmark nets.
    /// </summary>
    internal sealed class SceneNets : IDisposable
    {
        private SceneNets(string runtime)
        {
            Runtime = runtime;
            Identity = FaceApiIdentity.Load();
            Landmarks = FaceApiLandmarks.Load();
        }

        public string Runtime { get; }

        public FaceApiIdentity Identity { get; }

        public FaceApiLandmarks Landmarks { get; }

        public static SceneNets Start(BenchArgs args)
        {
            var threads = args.Int("threads", Environment.ProcessorCount);
            var runtime = TorchRuntime.EnsureLoaded();
            set_num_threads(threads);
            manual_seed(0);
            return new SceneNets(runtime);
        }

        public void Dispose()
        {
            Identity.Dispose();
            Landmarks.Dispose();
        }
    }

    /// <summary>
    /// A random-weight generator of the official layout at one size, a truth and a reference latent near its mean, Y =
    /// bicubic ↓(size/32) of the truth's rendering, random emotion directions, and a restorer with the given face nets.
    /// </summary>
    internal sealed class Scene : IDisposable
    {
        private readonly EmotionDirections directions;

        public Scene(int size, IIdentityNetwork identity, ILandmarkDetector landmarks)
        {
            Generator = BenchFaces.RandomOfficialLayout(size);
            using var scope = NewDisposeScope();
            var mean = Generator.ExpandToWPlus(Generator.MeanLatent(256).unsqueeze(0));
            Truth = (mean + 0.3f * randn(1, Generator.NLatent, 512)).MoveToOuterDisposeScope();
            Reference = (mean + 0.3f * randn(1, Generator.NLatent, 512)).MoveToOuterDisposeScope();
            using (no_grad())
            {
                using var down = new BicubicDownsample(Math.Max(1, size / 32));
                Y = down.forward(OutputNormalization.Paper(Generator.Synthesis(Truth))).clamp(0, 1).MoveToOuterDisposeScope();
            }
            directions = new EmotionDirections(randn(7, Generator.NLatent, 512).MoveToOuterDisposeScope());
            Restorer = new SairRestorer(Generator, identity, landmarks, emotionDirections: directions);
        }

        public StyleGan2Generator Generator { get; }

        public SairRestorer Restorer { get; }

        public Tensor Truth { get; }

        public Tensor Reference { get; }

        public Tensor Y { get; }

        public void Dispose()
        {
            directions.Dispose();
            Truth.Dispose();
            Reference.Dispose();
            Y.Dispose();
            Generator.Dispose();
        }
    }

    private sealed class SynchronousProgress : IProgress<IterationReport>
    {
        public List<TimeSpan> Elapsed { get; } = [];

        public void Report(IterationReport value) => Elapsed.Add(value.Elapsed);
    }
}

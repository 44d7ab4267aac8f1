using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Sair.Engine.FaceNets;
using Sair.Engine.Imaging;
using Sair.Engine.IO;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Training;

/// <summary>The losses of one training step.</summary>
/// <param name="DLoss">softplus(−D(real)) + softplus(D(fake)), batch means.</param>
/// <param name="GLoss">softplus(−D(G(z))), the non-saturating generator loss.</param>
/// <param name="R1">The R1 penalty E‖∇D(real)‖² when this step regularised D, else null.</param>
/// <param name="PathLength">The path-length penalty E(‖Jᵀy‖ − a)² when this step regularised G, else null.</param>
/// <param name="NonFinite">
/// What went non-finite in each attempt at this step that was rolled back and retried (see
/// <see cref="PriorTrainer.MaxConsecutiveRecoveries"/>); null when the first attempt went through.
/// </param>
public sealed record TrainingLosses(double DLoss, double GLoss, double? R1, double? PathLength = null, IReadOnlyList<string>? NonFinite = null);

/// <summary>A progress report of <see cref="PriorTrainer.RunAsync"/>.</summary>
/// <param name="Step">Steps done, across resumed runs.</param>
/// <param name="ImagesSeen">Real images shown to D, across resumed runs.</param>
/// <param name="Losses">This step's losses.</param>
/// <param name="ImagesPerSecond">Speed of this run since it started (or resumed).</param>
/// <param name="Eta">Time left at that speed.</param>
/// <param name="Ffd">The FFD measured at this step, else null.</param>
/// <param name="SampleGrid">The sample grid written at this step, else null.</param>
/// <param name="CheckpointStep">Step of the latest checkpoint in the output folder (0 before the first).</param>
/// <param name="SkippedFiles">Files of the data folder that could not be read and were left out.</param>
public sealed record PriorTrainingProgress(
    long Step, long ImagesSeen, TrainingLosses Losses, double ImagesPerSecond, TimeSpan? Eta, double? Ffd,
    string? SampleGrid = null, long CheckpointStep = 0, int SkippedFiles = 0);

/// <summary>
/// Trains a small StyleGAN2 face prior (see <see cref="PriorTrainingOptions"/> for the recipe): G, D, the EMA
/// generator, both Adam states, the step count and every random generator live here and go into one safetensors
/// checkpoint, so that a resumed run continues exactly as if it had not stopped.
/// </summary>
public sealed class PriorTrainer : IDisposable
{
    /// <summary>The checkpoint's <c>format</c> metadata.</summary>
    public const string CheckpointFormat = "sair-prior-training/1";

    /// <summary>Checkpoint file name inside a run's output folder.</summary>
    public const string CheckpointFileName = "checkpoint.safetensors";

    /// <summary>One line per start of a run: the libtorch runtime and the CPU kernels it trains on.</summary>
    public const string RunLogFileName = "run.log";

    /// <summary>The log of the attempts rolled back because a loss or gradient went non-finite, inside a run's output folder.</summary>
    public const string NonFiniteLogFileName = "non-finite.log";

    /// <summary>Exported EMA generator file name inside a run's output folder.</summary>
    public const string GeneratorFileName = "generator.safetensors";

    /// <summary>
    /// The checkpoint of the step with the lowest FFD this run has measured so far (a copy beside the running
    /// <see cref="CheckpointFileName"/>, which a GAN run may carry past its best): a branch can start from it.
    /// </summary>
    public const string BestCheckpointFileName = "checkpoint-best.safetensors";

    /// <summary>The EMA generator exported at the same step as <see cref="BestCheckpointFileName"/>.</summary>
    public const string BestGeneratorFileName = "generator-best.safetensors";

    /// <summary>The FFD log inside a run's output folder: <c>step,images_seen,ffd</c>, one line per measurement.</summary>
    public const string FfdLogFileName = "ffd.csv";

    /// <summary>
    /// Attempts at one step that may go non-finite and be rolled back before training fails with a
    /// <see cref="NonFiniteException"/>; each retry draws a fresh batch and fresh noise.
    /// </summary>
    public const int MaxConsecutiveRecoveries = 5;

    /// <summary>The names of the losses, in the failure messages and for <see cref="Perturb"/>.</summary>
    internal const string DLossName = "D loss";

    internal const string R1Name = "R1 penalty";

    internal const string GLossName = "G loss";

    internal const string PathLengthName = "path-length penalty";

    private const int LatentAvgSamples = 4096;
    private const int GridColumns = 8;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private readonly FaceImageSet _data;
    private readonly StyleGan2Generator _g;
    private readonly StyleGan2Generator _gEma;
    private readonly StyleGan2Discriminator _d;
    private readonly ParameterAdam _adamG;
    private readonly ParameterAdam _adamD;
    private readonly Generator _rng;
    private readonly Generator _dataRng;
    private readonly Tensor _sampleZ;
    private readonly List<Tensor>? _zeroNoise;
    private Tensor _order;
    private long _cursor;
    private double _meanPathLength;

    /// <summary>
    /// A fresh run. Every random draw, the initial weights included, comes from the trainer's own generators seeded
    /// from <c>options.Seed</c>, never from torch's global one, so runs are reproducible whatever else the process does.
    /// </summary>
    public PriorTrainer(PriorTrainingOptions options, FaceImageSet data)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        options.Validate();
        if (data.Size != options.Size)
        {
            throw new ArgumentException($"the data set holds {data.Size}-px images but the options ask for {options.Size} px.", nameof(data));
        }
        if (data.Count < options.Batch)
        {
            throw new ArgumentException($"the data set has {data.Count} images, fewer than one batch ({options.Batch}).", nameof(data));
        }
        Options = options;
        _data = data;
        var config = options.GeneratorConfig();
        _g = new StyleGan2Generator(config);
        _d = new StyleGan2Discriminator(config);
        using (var initRng = new Generator((ulong)options.Seed + 6))
        {
            Initialise(_g, initRng, config.LrMlp);
            Initialise(_d, initRng, 1);
        }
        _gEma = new StyleGan2Generator(config);
        StateDictLoader.Load(_gEma, _g.state_dict(), "generator");
        foreach (var p in _gEma.parameters())
        {
            p.requires_grad_(false);
        }
        _gEma.eval();
        _g.Modulation = _gEma.Modulation = options.Modulation;

        _rng = new Generator((ulong)options.Seed);
        _dataRng = new Generator((ulong)options.Seed + 1);
        _g.NoiseGenerator = _rng;
        using (var sampleRng = new Generator((ulong)options.Seed + 2))
        {
            _sampleZ = randn([options.SampleCount, options.StyleDim], generator: sampleRng).DetachFromDisposeScope();
        }
        _order = randperm(data.Count, generator: _dataRng).DetachFromDisposeScope();

        var gRatio = options.PathLengthWeight > 0 ? options.PathLengthInterval / (options.PathLengthInterval + 1.0) : 1;
        _adamG = new ParameterAdam(_g.named_parameters().Select(p => (p.name, (Tensor)p.parameter)),
            options.LearningRate * gRatio, Math.Pow(options.Beta1, gRatio), Math.Pow(options.Beta2, gRatio), options.Epsilon);
        // Lazy regularisation: D also steps on the R1 term every R1Interval steps, so its Adam is slowed to match.
        var ratio = options.R1Interval / (options.R1Interval + 1.0);
        _adamD = new ParameterAdam(_d.named_parameters().Select(p => (p.name, (Tensor)p.parameter)),
            options.LearningRate * ratio, Math.Pow(options.Beta1, ratio), Math.Pow(options.Beta2, ratio), options.Epsilon);
        _zeroNoise = options.NoiseInputs ? null : [.. _g.StoredNoise().Select(n => zeros_like(n).DetachFromDisposeScope())];
        SilenceNoiseIfOff();
    }

    // Without noise inputs the noise strengths of G and G_ema are 0 (a branch from a run with noise zeroes them); fed
    // zero noise, their gradient is 0, so they stay there.
    private void SilenceNoiseIfOff()
    {
        if (Options.NoiseInputs)
        {
            return;
        }
        using var noGrad = no_grad();
        foreach (var generator in new[] { _g, _gEma })
        {
            foreach (var (name, parameter) in generator.named_parameters())
            {
                if (name.EndsWith("noise.weight", StringComparison.Ordinal))
                {
                    parameter.zero_();
                }
            }
        }
    }

    /// <summary>The recipe.</summary>
    public PriorTrainingOptions Options { get; private set; }

    /// <summary>Test seam: replaces each loss (named by the <c>…Name</c> constants) by what it returns, before its backward pass.</summary>
    internal Func<string, Tensor, Tensor>? Perturb { get; set; }

    /// <summary>Steps taken.</summary>
    public long Step { get; private set; }

    /// <summary>Real images shown to D.</summary>
    public long ImagesSeen { get; private set; }

    /// <summary>The EMA generator (the one to sample and export); owned by the trainer.</summary>
    public StyleGan2Generator GeneratorEma => _gEma;

    /// <summary>The trained generator; owned by the trainer.</summary>
    public StyleGan2Generator Generator => _g;

    /// <summary>The discriminator; owned by the trainer.</summary>
    public StyleGan2Discriminator Discriminator => _d;

    /// <summary>
    /// Continues a run from a checkpoint written by <see cref="SaveCheckpoint"/>. <paramref name="data"/> must be the
    /// same images in the same order. <paramref name="totalImages"/>, when given, replaces the run length; every other
    /// option comes from the checkpoint.
    /// </summary>
    public static PriorTrainer Resume(string checkpointPath, FaceImageSet data, long? totalImages = null) =>
        Continue(checkpointPath, data, options => totalImages is { } total ? options with { TotalImages = total } : options);

    /// <summary>
    /// A new run that starts where another run's checkpoint stands (weights, EMA, optimiser moments, step, random
    /// generators, data order) but trains on with <paramref name="options"/>: a recipe change measured against the run
    /// it branches from at equal images. The networks' shape (size, widths, style and mapping) must be the
    /// checkpoint's; the learning rate, betas, R1, path length, mixing, augmentation, EMA and run length may differ.
    /// </summary>
    public static PriorTrainer Branch(string checkpointPath, FaceImageSet data, PriorTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Continue(checkpointPath, data, source =>
        {
            if (source.GeneratorConfig().ToString() != options.GeneratorConfig().ToString())
            {
                throw new CheckpointException(checkpointPath,
                    $"holds networks of shape '{source.GeneratorConfig()}', but the branch asks for '{options.GeneratorConfig()}': a branch may change the recipe, not the networks.");
            }
            return options;
        });
    }

    /// <summary>What <see cref="Branch"/> would change: "name old → new" for every recipe option that differs.</summary>
    public static IReadOnlyList<string> RecipeChanges(PriorTrainingOptions from, PriorTrainingOptions to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var changes = new List<string>();
        void Compare<T>(string name, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b))
            {
                changes.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {a} → {b}"));
            }
        }
        Compare("learning rate", from.LearningRate, to.LearningRate);
        Compare("beta1", from.Beta1, to.Beta1);
        Compare("beta2", from.Beta2, to.Beta2);
        Compare("R1 gamma", from.EffectiveR1Gamma, to.EffectiveR1Gamma);
        Compare("R1 interval", from.R1Interval, to.R1Interval);
        Compare("path-length weight", from.PathLengthWeight, to.PathLengthWeight);
        Compare("mixing probability", from.MixingProbability, to.MixingProbability);
        Compare("augment", from.Augment, to.Augment);
        Compare("noise inputs", from.NoiseInputs, to.NoiseInputs);
        Compare("EMA half-life", from.EffectiveEmaHalfLife, to.EffectiveEmaHalfLife);
        Compare("batch", from.Batch, to.Batch);
        Compare("total images", from.TotalImages, to.TotalImages);
        return changes;
    }

    // A trainer built with the options change(checkpoint's options) returns, then given the checkpoint's state.
    private static PriorTrainer Continue(string checkpointPath, FaceImageSet data, Func<PriorTrainingOptions, PriorTrainingOptions> change)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (tensors, metadata) = Safetensors.Read(checkpointPath);
        try
        {
            var options = change(OptionsFrom(metadata, checkpointPath));
            var entries = tensors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            if (!entries.TryGetValue("data.order", out var order))
            {
                throw new CheckpointException(checkpointPath, "has no 'data.order' entry: not a complete prior-training checkpoint.");
            }
            if (order.shape[0] != data.Count)
            {
                throw new CheckpointException(checkpointPath,
                    $"was trained on {order.shape[0]} images but the data set now has {data.Count}: resume with the same data folder.");
            }
            var trainer = new PriorTrainer(options, data);
            try
            {
                trainer.Restore(entries, metadata, checkpointPath);
                return trainer;
            }
            catch
            {
                trainer.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var (_, t) in tensors)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>The options a run was trained with, from its checkpoint.</summary>
    public static PriorTrainingOptions ReadOptions(string checkpointPath)
    {
        CheckpointException.ThrowIfMissing(checkpointPath, "prior-training checkpoint");
        var (tensors, metadata) = Safetensors.Read(checkpointPath);
        foreach (var (_, t) in tensors)
        {
            t.Dispose();
        }
        return OptionsFrom(metadata, checkpointPath);
    }

    internal static PriorTrainingOptions OptionsFrom(IReadOnlyDictionary<string, string> metadata, string checkpointPath)
    {
        if (!metadata.TryGetValue("format", out var format) || format != CheckpointFormat)
        {
            throw new CheckpointException(checkpointPath, $"not a prior-training checkpoint (format '{format}', expected '{CheckpointFormat}').");
        }
        return JsonSerializer.Deserialize<PriorTrainingOptions>(metadata["options"], Json)
            ?? throw new CheckpointException(checkpointPath, "the options metadata is empty.");
    }

    /// <summary>
    /// One step: D on augmented real and fake images (logistic loss), lazy R1 every <c>R1Interval</c> steps (from step
    /// 0), G through D (non-saturating loss), the optional lazy path-length step, then the EMA update. Each loss and its
    /// gradients are checked before its optimiser update; when one is NaN or infinite the whole attempt is undone (G, D,
    /// both Adam states and the path-length mean go back to where the step started) and the step is tried again on the
    /// next batch with fresh noise, up to <see cref="MaxConsecutiveRecoveries"/> times.
    /// </summary>
    public TrainingLosses TrainStep()
    {
        var nonFinite = new List<string>();
        while (true)
        {
            _adamD.Mark();
            _adamG.Mark();
            var meanPathLength = _meanPathLength;
            var (losses, failed) = TryStep();
            if (losses is not null)
            {
                Step++;
                ImagesSeen += Options.Batch;
                return nonFinite.Count == 0 ? losses : losses with { NonFinite = nonFinite };
            }
            _adamD.Rewind();
            _adamG.Rewind();
            _meanPathLength = meanPathLength;
            nonFinite.Add(failed!);
            if (nonFinite.Count > MaxConsecutiveRecoveries)
            {
                var counts = string.Join(", ", nonFinite.GroupBy(f => f).Select(g => $"{g.Key} ×{g.Count()}"));
                throw new NonFiniteException(
                    $"Training step {Step + 1}: {nonFinite[0]} went non-finite (NaN or infinite) in {nonFinite.Count} attempts in a row ({counts}); " +
                    "each was rolled back to the weights and optimiser state before the step and retried on a fresh batch with fresh noise. " +
                    "The checkpoint holds the last finite weights: resuming tries again on other batches; if it fails again, check the " +
                    "training images or start over with another seed.",
                    nonFinite[0], Step + 1);
            }
        }
    }

    /// <summary>One attempt at a step; null and what went non-finite when it must be undone (before the EMA update).</summary>
    private (TrainingLosses? Losses, string? NonFinite) TryStep()
    {
        using var scope = NewDisposeScope();
        var options = Options;
        var real = NextRealBatch();
        try
        {
            SetRequiresGrad(_g, false);
            SetRequiresGrad(_d, true);
            Tensor fake;
            using (no_grad())
            {
                fake = Generate(options.Batch);
            }
            var dLoss = Perturbed(DLossName, F.softplus(_d.forward(Augment(real)).neg()).mean().add(F.softplus(_d.forward(Augment(fake))).mean()));
            _d.zero_grad();
            if (Backward(DLossName, dLoss, dLoss, _adamD) is { } dFailed)
            {
                return (null, dFailed);
            }
            _adamD.Update();

            double? r1 = null;
            if (Step % options.R1Interval == 0)
            {
                var realInput = real.detach().requires_grad_(true);
                var prediction = _d.forward(Augment(realInput));
                var gradient = autograd.grad([prediction.sum()], [realInput], retain_graph: true, create_graph: true)[0];
                var penalty = Perturbed(R1Name, gradient.square().sum([1, 2, 3]).mean());
                _d.zero_grad();
                if (Backward(R1Name, penalty, penalty.mul(options.EffectiveR1Gamma / 2 * options.R1Interval), _adamD) is { } r1Failed)
                {
                    return (null, r1Failed);
                }
                _adamD.Update();
                r1 = penalty.item<float>();
            }

            SetRequiresGrad(_g, true);
            SetRequiresGrad(_d, false);
            var gLoss = Perturbed(GLossName, F.softplus(_d.forward(Augment(Generate(options.Batch))).neg()).mean());
            _g.zero_grad();
            if (Backward(GLossName, gLoss, gLoss, _adamG) is { } gFailed)
            {
                return (null, gFailed);
            }
            _adamG.Update();
            double? pathLength = null;
            if (options.PathLengthWeight > 0 && Step % options.PathLengthInterval == 0)
            {
                var (penalty, failed) = RegularisePathLength();
                if (failed is not null)
                {
                    return (null, failed);
                }
                pathLength = penalty;
            }
            UpdateEma();
            return (new TrainingLosses(dLoss.item<float>(), gLoss.item<float>(), r1, pathLength), null);
        }
        finally
        {
            SetRequiresGrad(_d, true);
        }
    }

    private Tensor Perturbed(string name, Tensor loss) => Perturb is { } perturb ? perturb(name, loss) : loss;

    /// <summary>
    /// Back-propagates <paramref name="objective"/> (<paramref name="loss"/> as weighted) when the loss is finite and
    /// checks the gradients it left in <paramref name="adam"/>'s parameters; what went non-finite, or null.
    /// </summary>
    private static string? Backward(string name, Tensor loss, Tensor objective, ParameterAdam adam)
    {
        if (!float.IsFinite(loss.item<float>()))
        {
            return $"the {name}";
        }
        objective.backward();
        return adam.GradientsFinite() ? null : $"the gradient of the {name}";
    }

    /// <summary>Writes the whole training state as one safetensors file (atomically).</summary>
    public void SaveCheckpoint(string path)
    {
        using var scope = NewDisposeScope();
        var entries = new List<KeyValuePair<string, Tensor>>();
        void AddAll(string prefix, IEnumerable<KeyValuePair<string, Tensor>> items) =>
            entries.AddRange(items.Select(kv => KeyValuePair.Create(prefix + kv.Key, kv.Value.detach())));
        AddAll("g.", StateDictLoader.Entries(_g));
        AddAll("d.", StateDictLoader.Entries(_d));
        AddAll("g_ema.", StateDictLoader.Entries(_gEma));
        AddAll("adam.g.", _adamG.State(""));
        AddAll("adam.d.", _adamD.State(""));
        entries.Add(KeyValuePair.Create("rng.train", _rng.get_state()));
        entries.Add(KeyValuePair.Create("rng.data", _dataRng.get_state()));
        entries.Add(KeyValuePair.Create("data.order", _order));
        entries.Add(KeyValuePair.Create("sample_z", _sampleZ));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = CheckpointFormat,
            ["options"] = JsonSerializer.Serialize(Options, Json),
            ["step"] = Invariant(Step),
            ["images_seen"] = Invariant(ImagesSeen),
            ["adam_g_step"] = Invariant(_adamG.Step),
            ["adam_d_step"] = Invariant(_adamD.Step),
            ["data_cursor"] = Invariant(_cursor),
            ["mean_path_length"] = _meanPathLength.ToString("R", CultureInfo.InvariantCulture),
            ["generator"] = _gEma.Config.ToString(),
        };
        Safetensors.Write(path, entries, metadata);
    }

    /// <summary>
    /// Writes the EMA generator in rosinality's layout (<c>g_ema.*</c> plus <c>latent_avg</c>, the mean w of 4096 z),
    /// loadable by <see cref="StyleGan2Loader.Load"/>. Trained on UTKFace and LFW: for research and demonstration only.
    /// </summary>
    public void ExportGenerator(string path) => WriteGenerator(_gEma, path, Step, ImagesSeen, Options.Seed);

    /// <summary>
    /// Writes <paramref name="generator"/> as <see cref="ExportGenerator"/> does (rosinality layout, <c>latent_avg</c>
    /// from 4096 seeded z, the step and image count in the metadata).
    /// </summary>
    public static void WriteGenerator(StyleGan2Generator generator, string path, long step, long imagesSeen, long seed)
    {
        ArgumentNullException.ThrowIfNull(generator);
        using var scope = NewDisposeScope();
        using var avgRng = new Generator((ulong)seed + 3);
        var latentAvg = generator.MeanLatent(LatentAvgSamples, avgRng);
        var entries = StateDictLoader.Entries(generator)
            .Select(kv => KeyValuePair.Create("g_ema." + kv.Key, kv.Value.detach()))
            .Append(KeyValuePair.Create(StyleGan2Loader.LatentAvgKey, latentAvg))
            .ToList();
        Safetensors.Write(path, entries, new Dictionary<string, string>
        {
            ["format"] = "rosinality-stylegan2",
            ["generator"] = generator.Config.ToString(),
            ["step"] = Invariant(step),
            ["images_seen"] = Invariant(imagesSeen),
            ["licence_note"] = "trained on UTKFace (non-commercial research) and LFW face photos: research and demonstration only",
        });
    }

    /// <summary>The EMA generator's images of the fixed sample latents (stored noise), 8 per row, as one RGB image.</summary>
    public Image<Rgb24> SampleGrid()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = _gEma.FromZ(_sampleZ, randomizeNoise: false);
        return ImageTensors.ToImage(Tile(images, GridColumns), PixelRange.MinusOneOne);
    }

    /// <summary>
    /// FFD of <paramref name="count"/> EMA-generator faces drawn from a fixed seed (the same z every time, so values
    /// over a run are comparable) against the reference set in <paramref name="ffd"/>.
    /// </summary>
    public double MeasureFfd(FaceFrechetDistance ffd, int count)
    {
        ArgumentNullException.ThrowIfNull(ffd);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var rng = new Generator((ulong)Options.Seed + 4);
        return ffd.Measure(Render(_gEma, count, Options.Batch, rng));
    }

    /// <summary><paramref name="count"/> images of z drawn from <paramref name="rng"/>, <paramref name="batch"/> at a time, with the stored noise.</summary>
    internal static Tensor Render(StyleGan2Generator generator, int count, int batch, Generator rng)
    {
        var images = new List<Tensor>();
        for (var start = 0; start < count; start += batch)
        {
            var n = Math.Min(batch, count - start);
            images.Add(generator.FromZ(randn([n, generator.Config.StyleDim], generator: rng), randomizeNoise: false));
        }
        return cat(images, 0);
    }

    /// <summary>Real faces for the FFD reference: <paramref name="count"/> images of a seeded permutation, in [−1, 1].</summary>
    public static Tensor ReferenceImages(FaceImageSet data, int count, long seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var scope = NewDisposeScope();
        using var rng = new Generator((ulong)seed + 5);
        var picked = randperm(data.Count, generator: rng).narrow(0, 0, Math.Min(count, data.Count));
        return data.Batch(picked).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Trains on the faces under <paramref name="dataDir"/> until <c>options.TotalImages</c>, writing to
    /// <paramref name="outDir"/>: <c>checkpoint.safetensors</c> every <c>CheckpointEvery</c> steps (and at the end or on
    /// cancellation), <c>samples/step-NNNNNNN.png</c>, <c>ffd.csv</c>, <c>train-log.csv</c>, <c>run.log</c> and finally
    /// <c>generator.safetensors</c>; attempts rolled back because a loss went non-finite are listed in
    /// <c>non-finite.log</c>. When the folder already holds a checkpoint the run continues from it (its options
    /// win, except the run length). Cancelling saves the checkpoint and the generator, then throws
    /// <see cref="OperationCanceledException"/>. FFD needs the face-api models (<c>bash models/install.sh</c>), found
    /// by <paramref name="models"/> or else <see cref="FaceModelLocator.Default"/>. With <paramref name="branchFrom"/>,
    /// a folder without a checkpoint starts from that checkpoint of another run (<see cref="Branch"/>) with
    /// <paramref name="options"/> as the new recipe; its first FFD row is measured before the first step, so the
    /// branch point itself is on the new run's curve.
    /// </summary>
    public static Task RunAsync(PriorTrainingOptions options, string dataDir, string outDir,
        IProgress<PriorTrainingProgress>? progress = null, CancellationToken cancellationToken = default, FaceModelLocator? models = null,
        string? branchFrom = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Task.Factory.StartNew(() => Run(options, dataDir, outDir, progress, models, branchFrom, cancellationToken),
            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public void Dispose()
    {
        _g.Dispose();
        _gEma.Dispose();
        _d.Dispose();
        _adamG.Dispose();
        _adamD.Dispose();
        _rng.Dispose();
        _dataRng.Dispose();
        _sampleZ.Dispose();
        foreach (var zero in _zeroNoise ?? [])
        {
            zero.Dispose();
        }
        _order.Dispose();
    }

    private static void Run(PriorTrainingOptions options, string dataDir, string outDir,
        IProgress<PriorTrainingProgress>? progress, FaceModelLocator? models, string? branchFrom, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outDir);
        // Which CPU kernels this run trains on, once per start, beside the checkpoints it will write.
        var runtime = TorchRuntime.EnsureLoaded();
        File.AppendAllText(Path.Combine(outDir, RunLogFileName),
            $"{DateTimeOffset.UtcNow:u} {runtime}; {CpuKernels.Current!.Summary}{Environment.NewLine}");
        // The recogniser first: a missing model should fail before minutes of image loading.
        using var ffd = options.FfdEvery > 0 ? new FaceFrechetDistance(FaceRecognitionNet.Load(models), ownsNet: true) : null;
        using var data = FaceImageSet.Load(dataDir, options.Size, options.DefaultCrop,
            options.CropsBySubfolder ?? PriorTrainingOptions.DefaultCropsBySubfolder, options.MaxImages, options.Holdout(), cancellationToken);
        File.AppendAllText(Path.Combine(outDir, RunLogFileName),
            $"{DateTimeOffset.UtcNow:u} {data.Count} faces; {data.HeldOutFiles} photos of the {options.Holdout().People.Count} held-out people left out; " +
            $"{data.SkippedFiles} unreadable file(s) skipped{Environment.NewLine}");
        var checkpoint = Path.Combine(outDir, CheckpointFileName);
        var branching = !File.Exists(checkpoint) && branchFrom is not null;
        using var trainer = File.Exists(checkpoint) ? Resume(checkpoint, data, options.TotalImages)
            : branching ? Branch(branchFrom!, data, options)
            : new PriorTrainer(options, data);
        if (branching)
        {
            var changes = RecipeChanges(ReadOptions(branchFrom!), options);
            File.AppendAllText(Path.Combine(outDir, RunLogFileName), string.Create(CultureInfo.InvariantCulture,
                $"{DateTimeOffset.UtcNow:u} branched from {Path.GetFullPath(branchFrom!)} at step {trainer.Step} ({trainer.ImagesSeen} images): {(changes.Count == 0 ? "no recipe change" : string.Join("; ", changes))}{Environment.NewLine}"));
        }
        options = trainer.Options;
        var checkpointStep = trainer.Step;
        if (ffd is not null && options.FfdEvery > 0)
        {
            using var reference = ReferenceImages(data, options.FfdSamples, options.Seed);
            ffd.SetReference(reference);
            if (branching)
            {
                var atBranch = trainer.MeasureFfd(ffd, options.FfdSamples);
                AppendLine(Path.Combine(outDir, FfdLogFileName), "step,images_seen,ffd", $"{trainer.Step},{trainer.ImagesSeen},{atBranch:R}");
            }
        }
        // The lowest FFD this folder has logged (a resumed run keeps comparing against its earlier measurements).
        var bestFfd = LowestLoggedFfd(Path.Combine(outDir, FfdLogFileName));
        var log = Path.Combine(outDir, "train-log.csv");
        if (!File.Exists(log))
        {
            File.WriteAllText(log, "step,images_seen,d_loss,g_loss,r1,images_per_second\n");
        }
        var clock = Stopwatch.StartNew();
        var startImages = trainer.ImagesSeen;
        try
        {
            while (trainer.ImagesSeen < options.TotalImages)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var losses = trainer.TrainStep();
                foreach (var what in losses.NonFinite ?? [])
                {
                    AppendLine(Path.Combine(outDir, NonFiniteLogFileName), null,
                        $"step {trainer.Step}: {what} went non-finite; the attempt was rolled back and retried on a fresh batch");
                }
                var rate = (trainer.ImagesSeen - startImages) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                double? ffdValue = null;
                string? gridPath = null;
                if (options.SampleEvery > 0 && trainer.Step % options.SampleEvery == 0)
                {
                    using var grid = trainer.SampleGrid();
                    gridPath = Path.Combine(outDir, "samples", $"step-{trainer.Step:D7}.png");
                    ImageFiles.Save(grid, gridPath);
                }
                if (ffd is not null && options.FfdEvery > 0 && trainer.Step % options.FfdEvery == 0)
                {
                    ffdValue = trainer.MeasureFfd(ffd, options.FfdSamples);
                    AppendLine(Path.Combine(outDir, FfdLogFileName), "step,images_seen,ffd", $"{trainer.Step},{trainer.ImagesSeen},{ffdValue:R}");
                    if (ffdValue < bestFfd)
                    {
                        bestFfd = ffdValue.Value;
                        trainer.SaveCheckpoint(Path.Combine(outDir, BestCheckpointFileName));
                        trainer.ExportGenerator(Path.Combine(outDir, BestGeneratorFileName));
                    }
                }
                if (trainer.Step % options.CheckpointEvery == 0)
                {
                    trainer.SaveCheckpoint(checkpoint);
                    checkpointStep = trainer.Step;
                }
                AppendLine(log, null, string.Create(CultureInfo.InvariantCulture,
                    $"{trainer.Step},{trainer.ImagesSeen},{losses.DLoss:G6},{losses.GLoss:G6},{losses.R1:G6},{rate:G4}"));
                TimeSpan? eta = rate > 0 ? TimeSpan.FromSeconds((options.TotalImages - trainer.ImagesSeen) / rate) : null;
                progress?.Report(new PriorTrainingProgress(trainer.Step, trainer.ImagesSeen, losses, rate, eta, ffdValue, gridPath, checkpointStep, data.SkippedFiles));
            }
        }
        finally
        {
            trainer.SaveCheckpoint(checkpoint);
            trainer.ExportGenerator(Path.Combine(outDir, GeneratorFileName));
        }
    }

    private static double LowestLoggedFfd(string ffdLog) => !File.Exists(ffdLog) ? double.PositiveInfinity
        : File.ReadLines(ffdLog).Skip(1)
            .Select(line => line.Split(','))
            .Where(fields => fields.Length == 3)
            .Select(fields => double.Parse(fields[2], CultureInfo.InvariantCulture))
            .DefaultIfEmpty(double.PositiveInfinity)
            .Min();

    private static void AppendLine(string path, string? header, string line)
    {
        var text = header is not null && !File.Exists(path) ? header + "\n" + line + "\n" : line + "\n";
        File.AppendAllText(path, text);
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    // (N, 3, S, S) → (3, rows·S, columns·S), padding the last row with black.
    internal static Tensor Tile(Tensor images, int columns)
    {
        var (n, size) = (images.shape[0], images.shape[2]);
        columns = (int)Math.Min(columns, n);
        var rows = (n + columns - 1) / columns;
        var padded = rows * columns > n
            ? cat([images, full([rows * columns - n, 3, size, size], -1f, dtype: images.dtype)], 0)
            : images;
        return padded.view(rows, columns, 3, size, size).permute(2, 0, 3, 1, 4).reshape(3, rows * size, columns * size);
    }

    // rosinality's initialisation redrawn from our generator: N(0, 1) for every convolution and linear weight (÷ lr_mul
    // in the mapping network, whose weights are stored divided by it), the constant input and the noise buffers;
    // biases, noise strengths and blur kernels keep their constant initial values.
    private static void Initialise(nn.Module module, Generator rng, double lrMlp)
    {
        using var noGrad = no_grad();
        foreach (var (name, tensor) in StateDictLoader.Entries(module))
        {
            var random = (tensor.dim() >= 2 && name.EndsWith(".weight", StringComparison.Ordinal))
                || name == "input.input" || name.StartsWith("noises.", StringComparison.Ordinal);
            if (!random)
            {
                continue;
            }
            using var draw = randn(tensor.shape, generator: rng);
            tensor.copy_(name.StartsWith("style.", StringComparison.Ordinal) ? draw.div_(lrMlp) : draw);
        }
    }

    private static void SetRequiresGrad(nn.Module module, bool value)
    {
        foreach (var p in module.parameters())
        {
            p.requires_grad_(value);
        }
    }

    private void Restore(IReadOnlyDictionary<string, Tensor> entries, IReadOnlyDictionary<string, string> metadata, string source)
    {
        IEnumerable<KeyValuePair<string, Tensor>> Under(string prefix) => entries
            .Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(kv => KeyValuePair.Create(kv.Key[prefix.Length..], kv.Value));
        long Number(string key) => metadata.TryGetValue(key, out var text) && long.TryParse(text, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new CheckpointException(source, $"the metadata lacks a number '{key}'.");
        Tensor Entry(string key) => entries.TryGetValue(key, out var t) ? t : throw new CheckpointException(source, $"no '{key}' entry.");

        StateDictLoader.Load(_g, Under("g."), source);
        StateDictLoader.Load(_d, Under("d."), source);
        StateDictLoader.Load(_gEma, Under("g_ema."), source);
        _adamG.Load(Under("adam.g.").ToDictionary(), "", source);
        _adamD.Load(Under("adam.d.").ToDictionary(), "", source);
        _adamG.Step = Number("adam_g_step");
        _adamD.Step = Number("adam_d_step");
        _rng.set_state(Entry("rng.train"));
        _dataRng.set_state(Entry("rng.data"));
        _order.Dispose();
        _order = Entry("data.order").clone().DetachFromDisposeScope();
        using (no_grad())
        {
            _sampleZ.copy_(Entry("sample_z"));
        }
        _cursor = Number("data_cursor");
        _meanPathLength = metadata.TryGetValue("mean_path_length", out var meanPath)
            ? double.Parse(meanPath, CultureInfo.InvariantCulture)
            : throw new CheckpointException(source, "the metadata lacks 'mean_path_length'.");
        Step = Number("step");
        ImagesSeen = Number("images_seen");
        SilenceNoiseIfOff();
    }

    // A batch of real faces in [−1, 1]: the next slice of a shuffled order (reshuffled each epoch, the remainder
    // dropped), each face flipped horizontally with probability ½.
    private Tensor NextRealBatch()
    {
        var batch = Options.Batch;
        if (_cursor + batch > _order.shape[0])
        {
            _order.Dispose();
            _order = randperm(_data.Count, generator: _dataRng).DetachFromDisposeScope();
            _cursor = 0;
        }
        var indices = _order.narrow(0, _cursor, batch);
        _cursor += batch;
        var faces = _data.Batch(indices);
        var flip = rand([batch, 1, 1, 1], generator: _dataRng).lt(0.5);
        return where(flip, faces.flip(3), faces);
    }

    // StyleGAN2's path-length regulariser on a smaller batch: for y ~ N(0, I)/√(H·W), ‖∂(g(w)·y)/∂w‖ over the W+ rows
    // (mean of squares, then root) is pulled toward its running mean a; weighted by the interval (lazy).
    private (double Penalty, string? NonFinite) RegularisePathLength()
    {
        var options = Options;
        var batch = Math.Max(1, options.Batch / options.PathLengthBatchShrink);
        var (images, wPlus) = GenerateWithLatents(batch);
        var size = images.shape[2] * images.shape[3];
        var noise = randn(images.shape, generator: _rng).div_(Math.Sqrt(size));
        var gradient = autograd.grad([images.mul(noise).sum()], [wPlus], retain_graph: true, create_graph: true)[0];
        var lengths = gradient.square().sum([2]).mean([1]).sqrt();
        // a moves toward this batch's mean; as in StyleGAN2 the penalty also differentiates through the moved a.
        var mean = lengths.mean().sub(_meanPathLength).mul_(options.PathLengthDecay).add_(_meanPathLength);
        var penalty = Perturbed(PathLengthName, lengths.sub(mean).square().mean());
        _g.zero_grad();
        if (Backward(PathLengthName, penalty, penalty.mul(options.PathLengthWeight * options.PathLengthInterval), _adamG) is { } failed)
        {
            return (double.NaN, failed);
        }
        _adamG.Update();
        _meanPathLength = mean.item<float>();
        return (penalty.item<float>(), null);
    }

    // G(z) with style mixing: with probability MixingProbability, rows [0, cut) of W+ come from w₁ and [cut, n) from
    // w₂, cut uniform in 1 … n_latent − 1; fresh noise from the trainer's generator.
    private Tensor Generate(int batch) => GenerateWithLatents(batch).Images;

    private (Tensor Images, Tensor WPlus) GenerateWithLatents(int batch)
    {
        var nLatent = _g.NLatent;
        var w1 = _g.Mapping(randn([batch, Options.StyleDim], generator: _rng));
        var mix = Options.MixingProbability > 0 && rand([1], generator: _rng).item<float>() < Options.MixingProbability;
        Tensor wPlus;
        if (mix)
        {
            var w2 = _g.Mapping(randn([batch, Options.StyleDim], generator: _rng));
            var cut = randint(1, nLatent, [1], generator: _rng).item<long>();
            wPlus = cat([w1.unsqueeze(1).expand(-1, cut, -1), w2.unsqueeze(1).expand(-1, nLatent - cut, -1)], 1);
        }
        else
        {
            wPlus = _g.ExpandToWPlus(w1);
        }
        return (_zeroNoise is { } zero ? _g.Synthesis(wPlus, noise: zero) : _g.Synthesis(wPlus, randomizeNoise: true), wPlus);
    }

    private Tensor Augment(Tensor images) => Options.Augment ? DiffAugment.Apply(images, _rng) : images;

    // β = 0.5^(batch / half-life), with the half-life capped at EmaRampUp × images seen so early G_ema follows G.
    private void UpdateEma()
    {
        var halfLife = Options.EffectiveEmaHalfLife;
        if (Options.EmaRampUp > 0)
        {
            halfLife = Math.Min(halfLife, ImagesSeen * Options.EmaRampUp);
        }
        var beta = Math.Pow(0.5, Options.Batch / Math.Max(halfLife, 1e-8));
        using var noGrad = no_grad();
        foreach (var ((_, ema), (_, current)) in _gEma.named_parameters().Zip(_g.named_parameters()))
        {
            ema.lerp_(current, 1 - beta);
        }
        foreach (var ((_, ema), (_, current)) in _gEma.named_buffers().Zip(_g.named_buffers()))
        {
            ema.copy_(current);
        }
    }
}

using System.Globalization;
using System.Text.Json;
using Sair.Engine.FaceNets;
using Sair.Engine.IO;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Engine.Training;

/// <summary>How <see cref="EmotionDirectionFitter"/> samples, labels and fits.</summary>
public sealed record EmotionFitOptions
{
    /// <summary>Latents sampled from the prior and labelled by the expression classifier.</summary>
    public int Samples { get; init; } = 4000;

    /// <summary>Latents rendered and classified at once.</summary>
    public int Batch { get; init; } = 32;

    public long Seed { get; init; } = 11;

    /// <summary>ψ applied to the sampled w (1 = none); the directions are fitted where restorations live.</summary>
    public double Truncation { get; init; } = 1;

    /// <summary>Share of the samples held out to measure accuracy and the probability gain.</summary>
    public double HeldOutFraction { get; init; } = 0.2;

    /// <summary>
    /// A class the classifier names as the most likely for fewer than this many training latents is labelled by its
    /// probability instead: its top <see cref="TopFraction"/> of latents against the rest.
    /// </summary>
    public int MinPositives { get; init; } = 20;

    public double TopFraction { get; init; } = 0.1;

    /// <summary>Full-batch optimiser steps of each logistic regression.</summary>
    public int Steps { get; init; } = 300;

    /// <summary>L2 weight on the hyperplane normal (on w scaled to unit spread).</summary>
    public double L2 { get; init; } = 1e-3;

    /// <summary>The probe step along a direction, in standard deviations of the latents' projection on it.</summary>
    public double ProbeSigmas { get; init; } = 2;

    public void Validate()
    {
        if (Samples < 20 || Batch < 1 || Steps < 1)
        {
            throw new ArgumentException($"Emotion fitting needs Samples ≥ 20, Batch ≥ 1 and Steps ≥ 1 (got {Samples}, {Batch}, {Steps}).");
        }
        if (HeldOutFraction is <= 0 or >= 1 || TopFraction is <= 0 or >= 0.5 || MinPositives < 1)
        {
            throw new ArgumentException("HeldOutFraction must be in (0, 1), TopFraction in (0, 0.5) and MinPositives ≥ 1.");
        }
        if (!(Truncation > 0) || !(ProbeSigmas > 0) || L2 < 0)
        {
            throw new ArgumentException("Truncation and ProbeSigmas must be positive and L2 ≥ 0.");
        }
    }
}

/// <summary>Where a fit is: <c>sample</c> (latents rendered and labelled), <c>fit</c> (classes fitted), <c>probe</c>.</summary>
public sealed record EmotionFitProgress(string Stage, int Done, int Total);

/// <summary>One emotion's fit.</summary>
/// <param name="Emotion">One of <see cref="Emotions.Names"/>.</param>
/// <param name="Labeling"><c>argmax</c> (the classifier's top class) or <c>top-fraction</c> (too few argmax positives).</param>
/// <param name="Positives">Training latents labelled as this emotion.</param>
/// <param name="TrainAccuracy">Balanced accuracy on the training latents.</param>
/// <param name="HeldOutAccuracy">Balanced accuracy (mean of the true-positive and true-negative rates) on held-out latents.</param>
/// <param name="ProbeStep">The step along the direction used for the gain, in w units (<c>ProbeSigmas</c> spreads).</param>
/// <param name="ProbabilityGain">Mean over held-out latents of p_e(G(w + step·d)) − p_e(G(w)).</param>
public sealed record EmotionClassFit(
    string Emotion, string Labeling, int Positives, double TrainAccuracy, double HeldOutAccuracy, double ProbeStep, double ProbabilityGain);

/// <summary>What a fit produced; written as <see cref="EmotionDirectionFitter.ReportFileName"/>.</summary>
public sealed record EmotionFitReport(string Generator, int Samples, int NLatent, int StyleDim, IReadOnlyList<EmotionClassFit> Classes);

/// <summary>
/// Fits SAIR's seven emotion directions for a prior (the SAIR authors did not publish how theirs were made): sample w,
/// label G(w) with the expression classifier, fit one-vs-rest logistic regressions in W and keep each hyperplane's unit
/// normal, oriented toward the emotion. Saved in the authors' layout, one <c>emotion_&lt;name&gt;.npy</c> per emotion
/// (float64, n_latent × style_dim, every row the same), read by <c>EmotionDirections.LoadOfficialFolder</c>.
/// </summary>
public static class EmotionDirectionFitter
{
    public const string ReportFileName = "emotion-fit.json";

    private static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>
    /// Loads the generator at <paramref name="generatorPath"/> and face-api's expression model, fits, and writes the seven
    /// <c>.npy</c> files and <see cref="ReportFileName"/> to <paramref name="outDir"/>.
    /// </summary>
    public static Task<EmotionFitReport> RunAsync(EmotionFitOptions options, string generatorPath, string outDir,
        FaceModelLocator? models = null, IProgress<EmotionFitProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Task.Factory.StartNew(() =>
        {
            using var classifier = FaceApiExpressionClassifier.Load(models);
            using var generator = StyleGan2Loader.Load(generatorPath);
            using var directions = Fit(generator, classifier, options, progress, cancellationToken, out var classes);
            var report = new EmotionFitReport(Path.GetFullPath(generatorPath), options.Samples, generator.NLatent, generator.Config.StyleDim, classes);
            Save(outDir, directions, generator.NLatent, report);
            return report;
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Samples, labels and fits. Returns the unit normals (7, style_dim) in <see cref="Emotions.Names"/> order and, in
    /// <paramref name="classes"/>, each class's accuracy and measured probability gain.
    /// </summary>
    public static Tensor Fit(StyleGan2Generator generator, IExpressionClassifier classifier, EmotionFitOptions options,
        IProgress<EmotionFitProgress>? progress, CancellationToken cancellationToken, out IReadOnlyList<EmotionClassFit> classes)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(classifier);
        options.Validate();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (w, probabilities) = SampleAndLabel(generator, classifier, options, progress, cancellationToken);
        var heldOut = Math.Max(1, (int)Math.Round(options.Samples * options.HeldOutFraction));
        var train = options.Samples - heldOut;
        var (wTrain, pTrain) = (w.narrow(0, 0, train), probabilities.narrow(0, 0, train));
        var (wTest, pTest) = (w.narrow(0, train, heldOut), probabilities.narrow(0, train, heldOut));

        var normals = new List<Tensor>();
        var fits = new List<EmotionClassFit>();
        for (var e = 0; e < Emotions.Names.Count; e++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (labeling, threshold) = ChooseLabeling(pTrain, e, options);
            using var yTrain = Label(pTrain, e, labeling, threshold);
            using var yTest = Label(pTest, e, labeling, threshold);
            var (normal, bias, center) = FitOneVsRest(wTrain, yTrain, options);
            normals.Add(normal);
            var step = options.ProbeSigmas * wTest.sub(center).matmul(normal).std().item<float>();
            var gain = ProbabilityGain(generator, classifier, wTest, normal, step, e, options.Batch);
            fits.Add(new EmotionClassFit(Emotions.Names[e], labeling, (int)yTrain.sum().item<float>(),
                BalancedAccuracy(wTrain, yTrain, normal, bias, center), BalancedAccuracy(wTest, yTest, normal, bias, center), step, gain));
            progress?.Report(new EmotionFitProgress("fit", e + 1, Emotions.Names.Count));
        }
        classes = fits;
        return stack(normals).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the directions (7, style_dim) as <c>emotion_&lt;name&gt;.npy</c> files plus the report.</summary>
    public static void Save(string outDir, Tensor directions, int nLatent, EmotionFitReport report)
    {
        ArgumentNullException.ThrowIfNull(directions);
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(outDir);
        for (var e = 0; e < Emotions.Names.Count; e++)
        {
            using var rows = directions[e].to(ScalarType.Float64).unsqueeze(0).expand(nLatent, -1).contiguous();
            Npy.Write(Path.Combine(outDir, $"emotion_{Emotions.Names[e]}.npy"), rows);
        }
        AtomicFile.WriteAllBytes(Path.Combine(outDir, ReportFileName), JsonSerializer.SerializeToUtf8Bytes(report, ReportJson));
    }

    /// <summary>Reads a report written by <see cref="Save"/>.</summary>
    public static EmotionFitReport ReadReport(string outDir)
    {
        var path = Path.Combine(outDir, ReportFileName);
        CheckpointException.ThrowIfMissing(path, "emotion fit report");
        return JsonSerializer.Deserialize<EmotionFitReport>(File.ReadAllBytes(path), ReportJson)
            ?? throw new CheckpointException(path, "the report is empty.");
    }

    private static (Tensor W, Tensor Probabilities) SampleAndLabel(StyleGan2Generator generator, IExpressionClassifier classifier,
        EmotionFitOptions options, IProgress<EmotionFitProgress>? progress, CancellationToken cancellationToken)
    {
        using var rng = new Generator((ulong)options.Seed);
        var ws = new List<Tensor>();
        var ps = new List<Tensor>();
        for (var start = 0; start < options.Samples; start += options.Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = Math.Min(options.Batch, options.Samples - start);
            var w = generator.Mapping(randn([n, generator.Config.StyleDim], generator: rng));
            if (options.Truncation != 1)
            {
                w = generator.Truncate(w, options.Truncation);
            }
            ws.Add(w);
            ps.Add(Classify(generator, classifier, w));
            progress?.Report(new EmotionFitProgress("sample", start + n, options.Samples));
        }
        return (cat(ws, 0), cat(ps, 0));
    }

    /// <summary>p(emotion | G(w)) with the generator's stored noise, so a latent always renders the same face.</summary>
    private static Tensor Classify(StyleGan2Generator generator, IExpressionClassifier classifier, Tensor w)
    {
        using var scope = NewDisposeScope();
        var image = generator.Synthesis(generator.ExpandToWPlus(w), randomizeNoise: false);
        return classifier.Probabilities(image.add(1).div_(2).clamp_(0, 1)).MoveToOuterDisposeScope();
    }

    private static (string Labeling, double Threshold) ChooseLabeling(Tensor probabilities, int emotion, EmotionFitOptions options)
    {
        using var scope = NewDisposeScope();
        var argmaxPositives = probabilities.argmax(1).eq(emotion).sum().item<long>();
        if (argmaxPositives >= options.MinPositives && argmaxPositives <= probabilities.shape[0] - options.MinPositives)
        {
            return ("argmax", double.NaN);
        }
        var column = probabilities.select(1, emotion);
        var k = Math.Max(1, (int)Math.Round(column.shape[0] * options.TopFraction));
        return ("top-fraction", column.topk(k).values.min().item<float>());
    }

    private static Tensor Label(Tensor probabilities, int emotion, string labeling, double threshold) =>
        labeling == "argmax"
            ? probabilities.argmax(1).eq(emotion).to(ScalarType.Float32)
            : probabilities.select(1, emotion).ge(threshold).to(ScalarType.Float32);

    /// <summary>
    /// Class-balanced logistic regression on w centred and scaled by one global spread (a per-dimension scaling would
    /// bend the normal away from W's own geometry). Returns the unit normal in W, the bias and the centre.
    /// </summary>
    private static (Tensor Normal, double Bias, Tensor Center) FitOneVsRest(Tensor w, Tensor y, EmotionFitOptions options)
    {
        using var scope = NewDisposeScope();
        var center = w.mean([0]);
        var spread = w.sub(center).std().item<float>();
        var x = w.sub(center).div(spread);
        var positives = Math.Max(y.sum().item<float>(), 1f);
        var negatives = Math.Max(y.shape[0] - positives, 1f);
        var sampleWeight = y.mul(0.5 / positives).add(y.neg().add(1).mul(0.5 / negatives));
        var a = new TorchSharp.Modules.Parameter(zeros([w.shape[1]]));
        var b = new TorchSharp.Modules.Parameter(zeros([1]));
        using (enable_grad())
        {
            using var optimizer = optim.Adam([a, b], lr: 0.05);
            for (var i = 0; i < options.Steps; i++)
            {
                using var stepScope = NewDisposeScope();
                optimizer.zero_grad();
                var logits = x.matmul(a).add(b);
                var loss = nn.functional.binary_cross_entropy_with_logits(logits, y, weight: sampleWeight, reduction: nn.Reduction.Sum)
                    .add(a.pow(2).sum().mul(options.L2));
                loss.backward();
                optimizer.step();
            }
        }
        var norm = a.detach().norm().item<float>();
        if (!(norm > 0))
        {
            throw new InvalidOperationException("The emotion classifier's labels do not separate in W at all (zero normal): sample more latents.");
        }
        // The decision a·(w − c)/s + b = 0 has unit normal a/|a| in W and signed distance bias b·s/|a| from the centre.
        var normal = a.detach().div(norm);
        return (normal.MoveToOuterDisposeScope(), b.item<float>() * spread / norm, center.MoveToOuterDisposeScope());
    }

    private static double BalancedAccuracy(Tensor w, Tensor y, Tensor normal, double bias, Tensor center)
    {
        using var scope = NewDisposeScope();
        var predicted = w.sub(center).matmul(normal).add(bias).gt(0).to(ScalarType.Float32);
        var positives = y.sum().item<float>();
        var negatives = y.shape[0] - positives;
        var truePositiveRate = positives > 0 ? predicted.mul(y).sum().item<float>() / positives : 1.0;
        var trueNegativeRate = negatives > 0 ? predicted.neg().add(1).mul(y.neg().add(1)).sum().item<float>() / negatives : 1.0;
        return (truePositiveRate + trueNegativeRate) / 2;
    }

    /// <summary>Mean over <paramref name="w"/> of p_e(G(w + step·d)) − p_e(G(w)).</summary>
    public static double ProbabilityGain(StyleGan2Generator generator, IExpressionClassifier classifier, Tensor w, Tensor direction,
        double step, int emotion, int batch)
    {
        ArgumentNullException.ThrowIfNull(w);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var gains = new List<Tensor>();
        for (var start = 0; start < w.shape[0]; start += batch)
        {
            var chunk = w.narrow(0, start, Math.Min(batch, w.shape[0] - start));
            var before = Classify(generator, classifier, chunk).select(1, emotion);
            var after = Classify(generator, classifier, chunk.add(direction.mul(step))).select(1, emotion);
            gains.Add(after.sub(before));
        }
        return cat(gains, 0).mean().item<float>();
    }

    /// <summary>A one-line summary per emotion, for logs and the CLI.</summary>
    public static string Describe(EmotionClassFit fit) => string.Create(CultureInfo.InvariantCulture,
        $"{fit.Emotion,-8} {fit.Labeling,-12} positives {fit.Positives,5}  accuracy train {fit.TrainAccuracy:P1} held-out {fit.HeldOutAccuracy:P1}  Δp {fit.ProbabilityGain:+0.000;-0.000}");
}

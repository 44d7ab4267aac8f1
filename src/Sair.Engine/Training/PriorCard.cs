using System.Globalization;
using System.Text.Json;
using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.Imaging;
using Sair.Engine.IO;
using Sair.Engine.StyleGan;
using static TorchSharp.torch;

namespace Sair.Engine.Training;

/// <summary>
/// The measured facts of a trained prior, as its model card reports them. All three FFDs use the same real reference
/// (half A of a seeded split of the training faces) and the same sample count, so they compare directly.
/// </summary>
/// <param name="Generator">The generator's configuration.</param>
/// <param name="Steps">Training steps, from the exported generator's metadata.</param>
/// <param name="ImagesSeen">Real images shown to the discriminator, from the same metadata.</param>
/// <param name="Samples">Images on each side of every FFD.</param>
/// <param name="Ffd">The prior's samples (ψ = 1) against half A.</param>
/// <param name="RandomGeneratorFfd">A generator of the same architecture with freshly initialised weights, against half A.</param>
/// <param name="HalfVsHalfFfd">Half B of the training faces against half A: the floor a perfect prior could reach.</param>
/// <param name="TemplateDriftPixels">
/// Mean distance, in output pixels, between the 5 template points measured on the training crops and the same points
/// measured on the prior's samples: how well the prior learned its data's framing.
/// </param>
public sealed record PriorCardFigures(
    string Generator, long Steps, long ImagesSeen, int Samples, double Ffd, double RandomGeneratorFfd, double HalfVsHalfFfd,
    double TemplateDriftPixels);

/// <summary>
/// Packages a finished training run as a shippable prior: the EMA generator, its alignment template (measured on the
/// training crops), a sample grid and the card figures (<see cref="PriorCardFigures"/>).
/// </summary>
public static class PriorCard
{
    public const string FiguresFileName = "card.json";
    public const string TemplateFileName = "template.json";
    public const string SamplesFileName = "samples.png";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>
    /// Reads the EMA generator and the options from <c>checkpoint.safetensors</c> in <paramref name="runDir"/> (so a run
    /// still going can be packaged as it stands), loads the training faces the same way the run did, and writes to
    /// <paramref name="outDir"/>: the generator (rosinality layout, as the trainer exports it),
    /// <see cref="TemplateFileName"/>, <see cref="SamplesFileName"/> (8×4, ψ = 1, seeds 0…31) and <see cref="FiguresFileName"/>.
    /// </summary>
    public static PriorCardFigures Package(string runDir, string dataDir, string outDir, int samples = 500,
        FaceModelLocator? models = null, Action<string>? say = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 2);
        var checkpointPath = Path.Combine(runDir, PriorTrainer.CheckpointFileName);
        CheckpointException.ThrowIfMissing(checkpointPath, "prior-training checkpoint");
        var (entries, metadata) = Safetensors.Read(checkpointPath);
        PriorTrainingOptions options;
        StyleGan2Generator prior;
        try
        {
            options = PriorTrainer.OptionsFrom(metadata, checkpointPath);
            prior = StyleGan2Loader.FromStateDict(entries, checkpointPath);
        }
        finally
        {
            foreach (var (_, t) in entries)
            {
                t.Dispose();
            }
        }
        using var _ = prior;
        var steps = long.Parse(metadata.GetValueOrDefault("step", "0"), CultureInfo.InvariantCulture);
        var imagesSeen = long.Parse(metadata.GetValueOrDefault("images_seen", "0"), CultureInfo.InvariantCulture);
        Directory.CreateDirectory(outDir);
        PriorTrainer.WriteGenerator(prior, Path.Combine(outDir, PriorTrainer.GeneratorFileName), steps, imagesSeen, options.Seed);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        say?.Invoke($"loading the training faces from {dataDir} at {options.Size} px");
        using var data = FaceImageSet.Load(dataDir, options.Size, options.DefaultCrop,
            options.CropsBySubfolder ?? PriorTrainingOptions.DefaultCropsBySubfolder, options.MaxImages, options.Holdout(), cancellationToken);
        if (data.Count < 2 * samples)
        {
            throw new ArgumentException($"{dataDir} holds {data.Count} faces; the card's half-vs-half FFD needs {2 * samples}: lower the sample count.");
        }
        using var rng = new Generator((ulong)options.Seed + 101);
        var order = randperm(data.Count, generator: rng);
        var halfA = data.Batch(order.narrow(0, 0, samples));
        var halfB = data.Batch(order.narrow(0, samples, samples));

        // The untrained yardstick's weights from the card's own seed, so a card (and its test) reads the same every time.
        manual_seed(options.Seed + 303);
        using var random = new StyleGan2Generator(prior.Config);
        var fromPrior = Render(prior, samples, options.Batch, options.Seed + 202);
        var fromRandom = Render(random, samples, options.Batch, options.Seed + 202);

        say?.Invoke($"FFD on {samples} faces per side (face-api 128-d embeddings)");
        using var ffd = new FaceFrechetDistance(FaceRecognitionNet.Load(models), ownsNet: true);
        ffd.SetReference(halfA);
        var figures = new PriorCardFigures(prior.Config.ToString(), steps, imagesSeen, samples,
            ffd.Measure(fromPrior), ffd.Measure(fromRandom), ffd.Measure(halfB), 0);

        say?.Invoke("measuring the alignment template on the training crops and on the prior's samples");
        using var landmarks = FaceApiLandmarks.Load(models);
        var template = MeasureTemplate(landmarks, halfA);
        var generatedTemplate = MeasureTemplate(landmarks, fromPrior);
        using var trainingPoints = template.Points();
        using var generatedPoints = generatedTemplate.Points();
        figures = figures with
        {
            TemplateDriftPixels = trainingPoints.sub(generatedPoints).norm(1).mean().item<double>() * options.Size,
        };

        template.Save(Path.Combine(outDir, TemplateFileName));
        using (var grid = ImageTensors.ToImage(PriorTrainer.Tile(Render(prior, 32, 32, seed: 0), 8), PixelRange.MinusOneOne))
        {
            ImageFiles.Save(grid, Path.Combine(outDir, SamplesFileName));
        }
        AtomicFile.WriteAllBytes(Path.Combine(outDir, FiguresFileName), JsonSerializer.SerializeToUtf8Bytes(figures, Json));
        return figures;
    }

    /// <summary>The framing shared by <paramref name="faces"/> ([−1, 1]) as 5 points: the mean of their landmarks.</summary>
    public static AlignmentTemplate MeasureTemplate(ILandmarkDetector landmarks, Tensor faces)
    {
        ArgumentNullException.ThrowIfNull(landmarks);
        ArgumentNullException.ThrowIfNull(faces);
        using var scope = NewDisposeScope();
        var size = faces.shape[3];
        var sets = new List<Tensor>();
        for (var start = 0L; start < faces.shape[0]; start += 32)
        {
            var chunk = faces.narrow(0, start, Math.Min(32, faces.shape[0] - start)).add(1).div(2).clamp(0, 1);
            var points = landmarks.Detect(chunk).div(size);
            for (var i = 0; i < points.shape[0]; i++)
            {
                var five = FacePoints.FivePoints(FacePoints.Read(points[i]));
                sets.Add(tensor(five, [5, 2]));
            }
        }
        return AlignmentTemplate.Measure(sets);
    }

    /// <summary>Reads the figures written by <see cref="Package"/>.</summary>
    public static PriorCardFigures ReadFigures(string priorDir)
    {
        var path = Path.Combine(priorDir, FiguresFileName);
        CheckpointException.ThrowIfMissing(path, "prior card figures");
        return JsonSerializer.Deserialize<PriorCardFigures>(File.ReadAllBytes(path), Json)
            ?? throw new CheckpointException(path, "the card figures are empty.");
    }

    private static Tensor Render(StyleGan2Generator generator, int count, int batch, long seed)
    {
        using var rng = new Generator((ulong)seed);
        return PriorTrainer.Render(generator, count, batch, rng);
    }
}

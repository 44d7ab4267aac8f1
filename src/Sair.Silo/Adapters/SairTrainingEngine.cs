using System.Globalization;
using Sair.Engine.FaceNets;
using Sair.Engine.Runtime;
using Sair.Engine.Training;
using Sair.Grains.Training;

namespace Sair.Silo.Adapters;

/// <summary>
/// The grid's <see cref="ITrainingEngine"/> over <see cref="PriorTrainer"/> and <see cref="EmotionDirectionFitter"/>:
/// maps a job's spec onto the prior recipe or the fit, runs it on the job's output folder (where a prior resumes from
/// its checkpoint) with this silo's face models (FFD, expression classifier), and turns their reports into the grid's
/// progress.
/// </summary>
public sealed class SairTrainingEngine(EngineModels models) : ITrainingEngine
{
    /// <remarks>
    /// A step that keeps going non-finite fails with a <see cref="NonFiniteException"/> naming the loss; a libtorch error
    /// reaches the grid as a <see cref="LibTorchException"/> without its native backtrace.
    /// </remarks>
    public Task<TrainingOutcome> TrainPriorAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken) =>
        NativeErrors.ForUserAsync(() => TrainPriorOnWorkerAsync(request, progress, cancellationToken));

    public Task<TrainingOutcome> FitEmotionsAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken) =>
        NativeErrors.ForUserAsync(() => FitEmotionsOnWorkerAsync(request, progress, cancellationToken));

    private async Task<TrainingOutcome> TrainPriorOnWorkerAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(progress);
        var spec = request.Spec;
        spec.Validate();
        TrainingPaths.From(models.Options).Check(request);
        TrainingProgress? last = null;
        var relay = new Relay<PriorTrainingProgress>(report =>
        {
            last = ToProgress(report, last, spec.TotalImages);
            progress.Report(last);
        });
        await PriorTrainer.RunAsync(PriorOptions(spec), spec.DataFolder!, spec.OutputFolder, relay, cancellationToken, models.Options.FaceModels());

        // The trainer saves its checkpoint when it stops; a folder already at the run's length trained nothing now.
        var final = (last ?? FromLog(spec)) with { CheckpointStep = last?.Step ?? FromLog(spec).Step };
        return new TrainingOutcome(spec.OutputFolder, [Path.Combine(spec.OutputFolder, PriorTrainer.GeneratorFileName)], final, []);
    }

    private async Task<TrainingOutcome> FitEmotionsOnWorkerAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(progress);
        var spec = request.Spec;
        spec.Validate();
        TrainingPaths.From(models.Options).Check(request);
        var generator = spec.GeneratorPath ?? models.Options.GeneratorPath ?? throw new InvalidOperationException(
            "The job names no generator and this engine silo has none configured (Sair:Engine:GeneratorPath): give one with --generator.");
        TrainingProgress? last = null;
        var relay = new Relay<EmotionFitProgress>(report =>
        {
            last = new TrainingProgress(report.Done, report.Done, report.Total, Stage: report.Stage);
            progress.Report(last);
        });
        var report = await EmotionDirectionFitter.RunAsync(
            EmotionOptions(spec), generator, spec.OutputFolder, models.Options.FaceModels(), relay, cancellationToken);

        string[] files =
        [
            .. Emotions.Names.Select(name => Path.Combine(spec.OutputFolder, $"emotion_{name}.npy")),
            Path.Combine(spec.OutputFolder, EmotionDirectionFitter.ReportFileName),
        ];
        return new TrainingOutcome(
            spec.OutputFolder,
            [.. files],
            last ?? new TrainingProgress(report.Samples, report.Samples, report.Samples),
            [.. report.Classes.Select(fit => new EmotionAccuracy(
                fit.Emotion, fit.Positives, fit.TrainAccuracy, fit.HeldOutAccuracy, fit.Labeling, fit.ProbabilityGain))]);
    }

    /// <summary>The fit of a job: the fitter's defaults with the job's sample count and seed.</summary>
    public static EmotionFitOptions EmotionOptions(TrainingJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var defaults = new EmotionFitOptions();
        return defaults with { Samples = spec.Samples ?? defaults.Samples, Seed = spec.Seed };
    }

    /// <summary>The prior recipe of a job: the trainer's defaults, overridden by what the spec sets.</summary>
    public static PriorTrainingOptions PriorOptions(TrainingJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var defaults = new PriorTrainingOptions();
        return defaults with
        {
            Size = spec.Size,
            TotalImages = spec.TotalImages,
            Batch = spec.Batch,
            Seed = spec.Seed,
            Channels = spec.Channels is { } width ? Enumerable.Range(2, (int)Math.Log2(spec.Size) - 1).ToDictionary(i => 1 << i, _ => width) : null,
            CheckpointEvery = spec.CheckpointEvery ?? defaults.CheckpointEvery,
            SampleEvery = spec.SampleEvery ?? defaults.SampleEvery,
            FfdEvery = spec.FfdEvery ?? defaults.FfdEvery,
            FfdSamples = spec.FfdSamples ?? defaults.FfdSamples,
        };
    }

    /// <summary>One trainer report as grid progress, keeping the latest FFD and sample grid of earlier steps.</summary>
    public static TrainingProgress ToProgress(PriorTrainingProgress report, TrainingProgress? previous, long totalImages)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new TrainingProgress(
            report.Step,
            report.ImagesSeen,
            totalImages,
            report.Losses.DLoss,
            report.Losses.GLoss,
            report.ImagesPerSecond,
            report.Eta,
            report.Ffd ?? previous?.Ffd,
            report.Ffd is null ? previous?.FfdStep : report.Step,
            report.SampleGrid ?? previous?.SampleGrid,
            report.CheckpointStep,
            SkippedFiles: report.SkippedFiles);
    }

    // The last line of the trainer's log: "step,images_seen,d_loss,g_loss,r1,images_per_second".
    private static TrainingProgress FromLog(TrainingJobSpec spec)
    {
        var log = Path.Combine(spec.OutputFolder, "train-log.csv");
        var last = File.Exists(log) ? File.ReadLines(log).Skip(1).LastOrDefault(line => line.Length > 0) : null;
        if (last?.Split(',') is [var step, var images, var dLoss, var gLoss, ..])
        {
            return new TrainingProgress(
                long.Parse(step, CultureInfo.InvariantCulture), long.Parse(images, CultureInfo.InvariantCulture), spec.TotalImages,
                double.Parse(dLoss, CultureInfo.InvariantCulture), double.Parse(gLoss, CultureInfo.InvariantCulture));
        }

        return new TrainingProgress(0, 0, spec.TotalImages);
    }

    /// <summary>Reports on the trainer's thread, in order (<see cref="Progress{T}"/> would post them to the thread pool).</summary>
    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

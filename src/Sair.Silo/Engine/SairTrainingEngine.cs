using System.Globalization;
using Sair.Engine.Training;
using Sair.Grains.Training;

namespace Sair.Silo.Engine;

/// <summary>
/// The grid's <see cref="ITrainingEngine"/> over <see cref="PriorTrainer"/>: maps a job's spec onto the prior recipe,
/// runs the trainer on the job's output folder (where it resumes from its checkpoint) with this silo's face models
/// for the FFD, and turns the trainer's reports into the grid's progress.
/// </summary>
public sealed class SairTrainingEngine(EngineModels models) : ITrainingEngine
{
    public async Task<TrainingOutcome> TrainPriorAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(progress);
        var spec = request.Spec;
        spec.Validate();
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

    public Task<TrainingOutcome> FitEmotionsAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken) =>
        throw new InvalidOperationException(
            "This engine cannot fit emotion directions yet: its build has no emotion-direction fitter. Fit them with a newer engine silo.");

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
            report.CheckpointStep);
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

using System.Collections.Concurrent;
using System.Globalization;
using Sair.Grains.Training;

namespace Sair.Testing;

/// <summary>Which silo ran which training job, and from which step each run started.</summary>
public sealed class TrainingRecorder
{
    public ConcurrentQueue<(string JobId, string Silo, long FromStep)> Runs { get; } = new();
}

/// <summary>
/// Stands in for the trainer as the real one behaves towards its output folder: "trains" Batch images per step with a
/// short delay, writes <c>checkpoint.txt</c> (job and step) every CheckpointEvery steps and when cancelled, continues
/// from it when the folder has one, and writes <c>generator.txt</c> at the end. An emotion fit walks three stages.
/// </summary>
public sealed class FakeTrainingEngine(string silo, TrainingRecorder recorder, TimeSpan stepTime) : ITrainingEngine
{
    public const string CheckpointFile = "checkpoint.txt";
    public const string GeneratorFile = "generator.txt";

    public async Task<TrainingOutcome> TrainPriorAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        var spec = request.Spec;
        Directory.CreateDirectory(spec.OutputFolder);
        var checkpoint = Path.Combine(spec.OutputFolder, CheckpointFile);
        var step = File.Exists(checkpoint) ? long.Parse(File.ReadAllText(checkpoint).Split('@')[1], CultureInfo.InvariantCulture) : 0;
        recorder.Runs.Enqueue((request.JobId, silo, step));
        var checkpointEvery = spec.CheckpointEvery ?? 5;
        var saved = step;
        TrainingProgress? last = null;
        try
        {
            while (step * spec.Batch < spec.TotalImages)
            {
                await Task.Delay(stepTime, cancellationToken);
                step++;
                var measured = spec.FfdEvery is > 0 && step % spec.FfdEvery == 0;
                if (step % checkpointEvery == 0)
                {
                    saved = Save(checkpoint, request.JobId, step);
                }

                last = new TrainingProgress(step, step * spec.Batch, spec.TotalImages, DLoss: 1.0 / step, GLoss: 2.0 / step,
                    ImagesPerSecond: 1000, Eta: TimeSpan.FromSeconds(1), Ffd: measured ? 100.0 / step : last?.Ffd,
                    FfdStep: measured ? step : last?.FfdStep,
                    SampleGrid: Path.Combine(spec.OutputFolder, "samples", $"step-{step:D7}.png"), CheckpointStep: saved);
                progress.Report(last);
            }
        }
        finally
        {
            Save(checkpoint, request.JobId, step);
        }

        var generator = Path.Combine(spec.OutputFolder, GeneratorFile);
        await File.WriteAllTextAsync(generator, $"G after {step}", CancellationToken.None);
        return new TrainingOutcome(spec.OutputFolder, [generator], last! with { CheckpointStep = step }, []);
    }

    public async Task<TrainingOutcome> FitEmotionsAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        var spec = request.Spec;
        var samples = spec.Samples ?? 20;
        recorder.Runs.Enqueue((request.JobId, silo, 0));
        foreach (var stage in new[] { "sampling", "labelling", "fitting" })
        {
            for (var done = 1; done <= samples; done++)
            {
                await Task.Delay(stepTime, cancellationToken);
                progress.Report(new TrainingProgress(done, done, samples, Stage: stage));
            }
        }

        string[] emotions = ["neutral", "angry", "sad", "happy", "surprise", "fear", "disgust"];
        return new TrainingOutcome(spec.OutputFolder, [.. emotions.Select(e => Path.Combine(spec.OutputFolder, $"emotion_{e}.npy"))],
            new TrainingProgress(samples, samples, samples, Stage: "fitting"), [.. emotions.Select((e, i) => new EmotionAccuracy(e, i + 1, 0.9, 0.8))]);
    }

    private static long Save(string path, string jobId, long step)
    {
        File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $"{jobId}@{step}"));
        return step;
    }
}

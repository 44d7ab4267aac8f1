using System.Collections.Concurrent;
using Sair.Grains.Training;

namespace Sair.Testing;

/// <summary>
/// A trainer for the client's grid: Batch images per step every <paramref name="stepTime"/>, a checkpoint every 5
/// steps, an FFD every FfdEvery steps, a sample grid every 2; writes the generator file at the end. Records each spec.
/// </summary>
public sealed class FakeTrainer(TimeSpan stepTime) : ITrainingEngine
{
    public ConcurrentQueue<TrainingJobSpec> Specs { get; } = new();

    public async Task<TrainingOutcome> TrainPriorAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        var spec = request.Spec;
        Specs.Enqueue(spec);
        Directory.CreateDirectory(spec.OutputFolder);
        var last = new TrainingProgress(0, 0, spec.TotalImages);
        for (var step = 1L; step * spec.Batch <= spec.TotalImages; step++)
        {
            await Task.Delay(stepTime, cancellationToken);
            var measured = spec.FfdEvery is > 0 && step % spec.FfdEvery == 0;
            last = new TrainingProgress(step, step * spec.Batch, spec.TotalImages, 1.0 + 1.0 / step, 0.5 + 1.0 / step, 250.0,
                TimeSpan.FromSeconds((spec.TotalImages - step * spec.Batch) / 250.0),
                measured ? 80.0 / step : last.Ffd, measured ? step : last.FfdStep,
                step % 2 == 0 ? Path.Combine(spec.OutputFolder, "samples", $"step-{step:D7}.png") : last.SampleGrid,
                step - step % 5);
            progress.Report(last);
        }

        var generator = Path.Combine(spec.OutputFolder, "generator.safetensors");
        await File.WriteAllTextAsync(generator, "fake generator", CancellationToken.None);
        return new TrainingOutcome(spec.OutputFolder, [generator], last with { CheckpointStep = last.Step }, []);
    }

    public Task<TrainingOutcome> FitEmotionsAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        Specs.Enqueue(request.Spec);
        string[] emotions = ["neutral", "angry", "sad", "happy", "surprise", "fear", "disgust"];
        var samples = request.Spec.Samples ?? 100;
        return Task.FromResult(new TrainingOutcome(request.Spec.OutputFolder, [.. emotions.Select(e => Path.Combine(request.Spec.OutputFolder, $"emotion_{e}.npy"))],
            new TrainingProgress(samples, samples, samples, Stage: "fitting"), [.. emotions.Select((e, i) => new EmotionAccuracy(e, 10 + i, 0.95, 0.875, "argmax", 0.125))]));
    }
}

using System.Collections.Immutable;

namespace Sair.Grains.Training;

/// <summary>
/// Prior training and emotion-direction fitting behind a port: the engine silo implements it over Sair.Engine, tests
/// use fakes. It runs on the engine worker's threads, never inside a grain turn.
/// </summary>
public interface ITrainingEngine
{
    /// <summary>
    /// Trains a StyleGAN2 prior on <see cref="TrainingJobSpec.DataFolder"/> into <see cref="TrainingJobSpec.OutputFolder"/>.
    /// When the output folder already holds a checkpoint the run continues from it (this is how a cancelled, failed or
    /// failed-over job resumes). Reports progress every step; on cancellation saves the checkpoint, then throws
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<TrainingOutcome> TrainPriorAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken);

    /// <summary>
    /// Fits the seven emotion directions Δw_e of a generator (<see cref="TrainingJobSpec.GeneratorPath"/>, or the
    /// silo's own when null) into <see cref="TrainingJobSpec.OutputFolder"/>. A fit is short: an interrupted one starts over.
    /// </summary>
    Task<TrainingOutcome> FitEmotionsAsync(TrainingRequest request, IProgress<TrainingProgress> progress, CancellationToken cancellationToken);
}

/// <summary>One run of a training job as the engine sees it (an in-silo call argument).</summary>
/// <param name="Attempt">Which (re)start of the job this is; above 1 after a cancel, a failure or a failover.</param>
/// <param name="Tenant">The tenant the job belongs to, on a grid with tenants: its paths stay in that tenant's folders of the training roots.</param>
public sealed record TrainingRequest(string JobId, int Attempt, TrainingJobSpec Spec, string? Tenant = null);

/// <summary>
/// Where a training run stands. Every field is the latest known value, so a report dropped on the way to the grain
/// loses nothing the next one does not carry.
/// </summary>
/// <param name="Step">Optimisation steps done (prior); items done in the current stage (emotions).</param>
/// <param name="ImagesSeen">Real images shown to D so far (prior); items done in the current stage (emotions).</param>
/// <param name="Total">The run's length in the same unit as <paramref name="ImagesSeen"/>.</param>
/// <param name="DLoss">D's logistic loss at the last step.</param>
/// <param name="GLoss">G's non-saturating loss at the last step.</param>
/// <param name="ImagesPerSecond">Training speed of this attempt.</param>
/// <param name="Eta">Time left at that speed.</param>
/// <param name="Ffd">The latest face Fréchet distance, when one was measured.</param>
/// <param name="FfdStep">The step <paramref name="Ffd"/> was measured at.</param>
/// <param name="SampleGrid">The latest sample grid (a path as the engine silo sees it).</param>
/// <param name="CheckpointStep">Step of the latest checkpoint written to the output folder (0 when none).</param>
/// <param name="Stage">What an emotion fit is doing (sampling, labelling, fitting); null for a prior.</param>
/// <param name="SkippedFiles">Files of the data folder a prior's training could not read and left out.</param>
[GenerateSerializer, Immutable, Alias("sair.TrainingProgress")]
public sealed record TrainingProgress(
    [property: Id(0)] long Step,
    [property: Id(1)] long ImagesSeen,
    [property: Id(2)] long Total,
    [property: Id(3)] double? DLoss = null,
    [property: Id(4)] double? GLoss = null,
    [property: Id(5)] double? ImagesPerSecond = null,
    [property: Id(6)] TimeSpan? Eta = null,
    [property: Id(7)] double? Ffd = null,
    [property: Id(8)] long? FfdStep = null,
    [property: Id(9)] string? SampleGrid = null,
    [property: Id(10)] long CheckpointStep = 0,
    [property: Id(11)] string? Stage = null,
    [property: Id(12)] int SkippedFiles = 0);

/// <summary>What a finished training job produced.</summary>
/// <param name="Files">The products: the EMA generator for a prior, the direction files and the fit report for emotions.</param>
/// <param name="Final">The run's last progress (throttled progress reports may have missed it).</param>
/// <param name="Emotions">Per-emotion accuracy of an emotion fit; empty for a prior.</param>
[GenerateSerializer, Immutable, Alias("sair.TrainingOutcome")]
public sealed record TrainingOutcome(
    [property: Id(0)] string OutputFolder,
    [property: Id(1)] ImmutableArray<string> Files,
    [property: Id(2)] TrainingProgress Final,
    [property: Id(3)] ImmutableArray<EmotionAccuracy> Emotions);

/// <summary>How well one emotion's one-vs-rest classifier in W separates its class.</summary>
/// <param name="Positives">Sampled training latents labelled with this emotion.</param>
/// <param name="TrainAccuracy">Balanced accuracy on the training latents.</param>
/// <param name="HeldOutAccuracy">Balanced accuracy on held-out latents.</param>
/// <param name="Labeling">How positives were chosen: the classifier's top class, or its most likely latents when too few.</param>
/// <param name="ProbabilityGain">How much a step along the direction raises the classifier's probability of the emotion.</param>
[GenerateSerializer, Immutable, Alias("sair.EmotionAccuracy")]
public sealed record EmotionAccuracy(
    [property: Id(0)] string Emotion,
    [property: Id(1)] int Positives,
    [property: Id(2)] double TrainAccuracy,
    [property: Id(3)] double HeldOutAccuracy,
    [property: Id(4)] string? Labeling = null,
    [property: Id(5)] double? ProbabilityGain = null);

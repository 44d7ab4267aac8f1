using Sair.Grains.Jobs;

namespace Sair.Grains.Training;

/// <summary>
/// One training job (keyed by job id), placed on an engine silo and run in one of its engine slots. Its status is
/// persisted at every checkpoint; an activation that finds an unfinished job in its state (its silo died) runs it
/// again on the same output folder, where the trainer continues from its checkpoint.
/// </summary>
[Alias("sair.ITrainingJobGrain")]
public interface ITrainingJobGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the job. The same spec again returns the current status while it runs or after it completed, and
    /// resumes it after a cancel or a failure; a finished job may also be continued with other settings (a longer
    /// <see cref="TrainingJobSpec.TotalImages"/>). Another output folder, data folder or kind needs a new job id.
    /// </summary>
    [Alias("Start")]
    Task<TrainingJobStatus> StartAsync(TrainingJobSpec spec);

    [Alias("GetStatus")]
    Task<TrainingJobStatus> GetStatusAsync();

    /// <summary>Stops the job; the trainer saves its checkpoint, so starting it again resumes. A finished job stays as it is.</summary>
    [Alias("Cancel")]
    Task<TrainingJobStatus> CancelAsync();

    /// <summary>Status snapshots until the job finishes (intermediate steps may be coalesced).</summary>
    [Alias("Watch")]
    IAsyncEnumerable<TrainingJobStatus> WatchAsync(CancellationToken cancellationToken = default);
}

[GenerateSerializer, Alias("sair.TrainingKind")]
public enum TrainingKind
{
    /// <summary>Train a StyleGAN2 face prior on a folder of aligned faces.</summary>
    Prior = 0,
    /// <summary>Fit the emotion directions Δw_e of a generator.</summary>
    Emotions = 1,
}

/// <summary>
/// What to train. Paths are absolute and read where the engine silos run: the same machine for the local silo, a
/// shared volume in a cluster. Nullable settings take the engine's recipe defaults.
/// </summary>
/// <param name="OutputFolder">Where the run writes (and where it resumes from).</param>
/// <param name="DataFolder">Prior: the folder of aligned face images.</param>
/// <param name="Size">Prior: output side in pixels (a power of two, at least 8).</param>
/// <param name="TotalImages">Prior: the run's length in real images shown to D.</param>
/// <param name="Batch">Prior: images per step.</param>
/// <param name="Seed">Seed of the initial weights and every random draw (prior), or of the sampled latents (emotions).</param>
/// <param name="FfdEvery">Prior: steps between FFD measurements (0 turns them off).</param>
/// <param name="GeneratorPath">Emotions: the generator to fit; null for the engine silo's configured one.</param>
/// <param name="Samples">Emotions: latents sampled and labelled.</param>
/// <param name="Channels">Prior: the same channel count at every resolution instead of the recipe's table.</param>
/// <param name="CheckpointEvery">Prior: steps between checkpoints (the most a silo failure loses).</param>
/// <param name="SampleEvery">Prior: steps between sample grids (0 turns them off).</param>
/// <param name="FfdSamples">Prior: generated and real faces per FFD measurement.</param>
[GenerateSerializer, Immutable, Alias("sair.TrainingJobSpec")]
public sealed record TrainingJobSpec(
    [property: Id(0)] TrainingKind Kind,
    [property: Id(1)] string OutputFolder,
    [property: Id(2)] string? DataFolder = null,
    [property: Id(3)] int Size = 32,
    [property: Id(4)] long TotalImages = 200_000,
    [property: Id(5)] int Batch = 16,
    [property: Id(6)] long Seed = 1,
    [property: Id(7)] int? FfdEvery = null,
    [property: Id(8)] string? GeneratorPath = null,
    [property: Id(9)] int? Samples = null,
    [property: Id(10)] int? Channels = null,
    [property: Id(11)] int? CheckpointEvery = null,
    [property: Id(12)] int? SampleEvery = null,
    [property: Id(13)] int? FfdSamples = null)
{
    public static TrainingJobSpec Prior(string dataFolder, string outputFolder) => new(TrainingKind.Prior, outputFolder, dataFolder);

    public static TrainingJobSpec Emotions(string outputFolder, string? generatorPath = null, int? samples = null) =>
        new(TrainingKind.Emotions, outputFolder, GeneratorPath: generatorPath, Samples: samples);

    /// <summary>True when <paramref name="other"/> is the same run (kind and folders): it may continue this one.</summary>
    public bool SameRun(TrainingJobSpec other) =>
        other.Kind == Kind && other.OutputFolder == OutputFolder && other.DataFolder == DataFolder;

    /// <summary>Throws <see cref="ArgumentException"/> with what to fix.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentException($"TrainingJobSpec.Kind is {(int)Kind}, which this grid does not know: use {string.Join(" or ", Enum.GetNames<TrainingKind>())}.");
        }

        Absolute(OutputFolder, nameof(OutputFolder), "the folder the run writes to");
        if (Kind == TrainingKind.Emotions)
        {
            if (GeneratorPath is not null)
            {
                Absolute(GeneratorPath, nameof(GeneratorPath), "the generator to fit (or leave it null for the engine's own)");
            }

            Positive(Samples ?? 1, nameof(Samples));
            return;
        }

        Absolute(DataFolder, nameof(DataFolder), "the folder of aligned face images");
        if (Size < 8 || (Size & (Size - 1)) != 0)
        {
            throw new ArgumentException($"TrainingJobSpec.Size is {Size}: use a power of two of 8 or more (32 or 64 for a real prior).");
        }

        Positive(TotalImages, nameof(TotalImages));
        Positive(Batch, nameof(Batch));
        Positive(Channels ?? 1, nameof(Channels));
        Positive(CheckpointEvery ?? 1, nameof(CheckpointEvery));
        Positive(FfdSamples ?? 2, nameof(FfdSamples));
        if (FfdEvery < 0 || SampleEvery < 0)
        {
            throw new ArgumentException("TrainingJobSpec.FfdEvery and SampleEvery are steps between measurements: use 0 (off) or more.");
        }
    }

    private static void Absolute(string? path, string name, string what)
    {
        if (string.IsNullOrWhiteSpace(path) || !Path.IsPathFullyQualified(path))
        {
            throw new ArgumentException(
                $"TrainingJobSpec.{name} is '{path}': give {what} as an absolute path as the engine silos see it.", name);
        }
    }

    private static void Positive(long value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentException($"TrainingJobSpec.{name} is {value}: use 1 or more.", name);
        }
    }
}

/// <summary>A training job's status.</summary>
/// <param name="Kind">Null while no job was started under this id.</param>
/// <param name="Progress">The latest progress (live while running, the last persisted one after a restart).</param>
/// <param name="Attempt">How many times the job was (re)started; above 1 after a resume or a failover.</param>
/// <param name="Silo">The engine silo running (or that ran) the current attempt.</param>
/// <param name="Error">Why the job failed or stopped.</param>
/// <param name="Outcome">What a completed job produced.</param>
[GenerateSerializer, Immutable, Alias("sair.TrainingJobStatus")]
public sealed record TrainingJobStatus(
    [property: Id(0)] string JobId,
    [property: Id(1)] TrainingKind? Kind,
    [property: Id(2)] JobState State,
    [property: Id(3)] TrainingProgress? Progress,
    [property: Id(4)] int Attempt,
    [property: Id(5)] string? Silo,
    [property: Id(6)] string? Error,
    [property: Id(7)] string? OutputFolder,
    [property: Id(8)] TrainingOutcome? Outcome)
{
    public long Step => Progress?.Step ?? 0;

    public long ImagesSeen => Progress?.ImagesSeen ?? 0;

    public long CheckpointStep => Progress?.CheckpointStep ?? 0;
}

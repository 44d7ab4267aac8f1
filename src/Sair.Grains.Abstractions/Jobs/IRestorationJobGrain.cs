using System.Collections.Immutable;
using Sair.Grains.Ports;

namespace Sair.Grains.Jobs;

/// <summary>
/// One restoration (keyed by job id), placed on an engine silo. Its status and latest checkpoint path are persisted
/// every <see cref="RestorationOptions.CheckpointEvery"/> iterations; an activation that finds an unfinished job in its
/// state (its previous silo died) resumes it from that checkpoint.
/// </summary>
[Alias("sair.IRestorationJobGrain")]
public interface IRestorationJobGrain : IGrainWithStringKey
{
    /// <summary>Starts the job; calling again with the same input and output returns the current status.</summary>
    [Alias("Start")]
    Task<JobStatus> StartAsync(JobSpec spec);

    [Alias("GetStatus")]
    Task<JobStatus> GetStatusAsync();

    /// <summary>Stops the job; a finished job stays as it is.</summary>
    [Alias("Cancel")]
    Task<JobStatus> CancelAsync();

    /// <summary>Progress snapshots until the job finishes (intermediate iterations may be coalesced).</summary>
    [Alias("Watch")]
    IAsyncEnumerable<JobProgress> WatchAsync(CancellationToken cancellationToken = default);
}

/// <summary>What to restore, from where, to where.</summary>
/// <param name="InputPath">Image-store path of the degraded photo.</param>
/// <param name="OutputPath">Image-store path the restored photo is written to (exactly once).</param>
/// <param name="References">Where the identity references come from.</param>
/// <param name="Options">Optimisation options.</param>
/// <param name="Album">The album this job belongs to, told when the job finishes; null for a lone job.</param>
/// <param name="Framing">
/// How the input frames its face: an aligned input is matched against a pool without face detection.
/// </param>
/// <param name="Face">
/// Which face of an unaligned photo to restore, as its album found it; null lets the engine detect the photo's faces
/// and pick one by <see cref="RestorationOptions.Face"/>.
/// </param>
[GenerateSerializer, Immutable, Alias("sair.JobSpec")]
public sealed record JobSpec(
    [property: Id(0)] string InputPath,
    [property: Id(1)] string OutputPath,
    [property: Id(2)] ReferenceSelection References,
    [property: Id(3)] RestorationOptions Options,
    [property: Id(4)] AlbumPhoto? Album = null,
    [property: Id(5)] FaceFraming Framing = FaceFraming.Unaligned,
    [property: Id(6)] FaceLocation? Face = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> with what to fix.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(InputPath))
        {
            throw new ArgumentException("JobSpec.InputPath is empty: give the image-store path of the photo.", nameof(InputPath));
        }

        if (string.IsNullOrWhiteSpace(OutputPath))
        {
            throw new ArgumentException("JobSpec.OutputPath is empty: give where the result should be written.", nameof(OutputPath));
        }

        References.Validate();
        Options.Validate();
        FramingCheck.Validate(Framing, nameof(JobSpec));
        if (Face is not null)
        {
            if (Framing != FaceFraming.Unaligned)
            {
                throw new ArgumentException("JobSpec.Face locates a face in an ordinary photo; an aligned input is its own face.");
            }

            Face.Validate();
        }
    }
}

/// <summary>Refuses framings this version does not know (a newer client's, or a corrupted number).</summary>
internal static class FramingCheck
{
    public static void Validate(FaceFraming framing, string spec)
    {
        if (!Enum.IsDefined(framing))
        {
            throw new ArgumentException(
                $"{spec}.Framing is {(int)framing}, which this grid does not know: use {string.Join(", ", Enum.GetNames<FaceFraming>())}.");
        }
    }
}

/// <summary>Identifies the album photo a job restores.</summary>
[GenerateSerializer, Immutable, Alias("sair.AlbumPhoto")]
public sealed record AlbumPhoto(
    [property: Id(0)] string AlbumId,
    [property: Id(1)] int Index);

/// <summary>
/// Where a job's references come from: explicit aligned-face paths, one person of a pool, or (pool without a person)
/// the pool's best match for the face in the input photo. A best match below <see cref="MatchThreshold"/> is not
/// used: the photo is restored without the identity term, or skipped when <see cref="SkipUnmatched"/> — either way the
/// outcome says so.
/// </summary>
[GenerateSerializer, Immutable, Alias("sair.ReferenceSelection")]
public sealed record ReferenceSelection(
    [property: Id(0)] string? PoolName,
    [property: Id(1)] string? Person,
    [property: Id(2)] ImmutableArray<string> ReferencePaths,
    [property: Id(3)] int MaxReferences = 8,
    [property: Id(10)] double MatchThreshold = 0,
    [property: Id(11)] bool SkipUnmatched = false,
    [property: Id(12)] bool WithoutIdentity = false)
{
    /// <summary>The note on a result restored without references (a client may already say why, e.g. --no-identity).</summary>
    public const string NoReferenceNote = "restored without the identity term (no reference)";

    public static ReferenceSelection FromPool(string poolName, string? person = null) => new(poolName, person, []);

    public static ReferenceSelection FromPaths(params string[] paths) => new(null, null, [.. paths]);

    /// <summary>No reference: the photos are restored without the identity term (<c>sair restore --no-identity</c>).</summary>
    public static ReferenceSelection None() => new(null, null, [], WithoutIdentity: true);

    public void Validate()
    {
        var hasPaths = !ReferencePaths.IsDefaultOrEmpty;
        if (WithoutIdentity)
        {
            if (hasPaths || !string.IsNullOrWhiteSpace(PoolName) || Person is not null)
            {
                throw new ArgumentException("ReferenceSelection without identity takes no pool, person or reference paths.");
            }

            return;
        }

        if (hasPaths == !string.IsNullOrWhiteSpace(PoolName))
        {
            throw new ArgumentException(
                "ReferenceSelection needs exactly one source: a pool name (optionally with a person) or explicit reference paths.");
        }

        if (Person is not null && PoolName is null)
        {
            throw new ArgumentException($"ReferenceSelection names person '{Person}' but no pool to take them from.");
        }

        if (MaxReferences < 1)
        {
            throw new ArgumentException($"ReferenceSelection.MaxReferences is {MaxReferences}: use 1 or more.");
        }

        if (MatchThreshold is < -1 or > 1 || double.IsNaN(MatchThreshold))
        {
            throw new ArgumentException($"ReferenceSelection.MatchThreshold is {MatchThreshold}: use a similarity in [-1, 1].");
        }
    }
}

[GenerateSerializer, Alias("sair.JobState")]
public enum JobState
{
    /// <summary>No job has been started under this id.</summary>
    NotStarted = 0,
    /// <summary>Waiting for a free engine slot on its silo.</summary>
    Queued = 1,
    Running = 2,
    Completed = 3,
    Failed = 4,
    Cancelled = 5,
}

public static class JobStateExtensions
{
    public static bool IsFinished(this JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled;
}

/// <summary>A job's persisted status.</summary>
/// <param name="Attempt">How many times the job was (re)started; above 1 after a failover.</param>
/// <param name="Silo">The silo running the current attempt.</param>
/// <param name="CheckpointIteration">Iteration of the latest persisted checkpoint (0 when none).</param>
/// <param name="ResultPath">Image-store path of the result (the restored aligned face) once completed.</param>
/// <param name="Error">Why the job failed.</param>
/// <param name="CroppedFacePath">The aligned face cut from an unaligned input, once completed; null for aligned inputs.</param>
/// <param name="RestoredPhotoPath">The whole photo with the restored face pasted back, once completed; null for aligned inputs.</param>
/// <param name="IdentityNet">The identity net that measured <paramref name="IdentitySimilarity"/> (the loss's own).</param>
/// <param name="LossHistory">The objective along the completed run: every iteration, or at most 200 evenly spaced ones.</param>
[GenerateSerializer, Immutable, Alias("sair.JobStatus")]
public sealed record JobStatus(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobState State,
    [property: Id(2)] int Iteration,
    [property: Id(3)] int TotalIterations,
    [property: Id(4)] int CheckpointIteration,
    [property: Id(5)] int Attempt,
    [property: Id(6)] string? Silo,
    [property: Id(7)] string? ResultPath,
    [property: Id(8)] string? Error,
    [property: Id(9)] double? Loss,
    [property: Id(10)] double? IdentitySimilarity,
    [property: Id(11)] AlbumPhoto? Album,
    [property: Id(12)] string? Note = null,
    [property: Id(13)] string? CroppedFacePath = null,
    [property: Id(14)] string? RestoredPhotoPath = null,
    [property: Id(15)] string? IdentityNet = null,
    [property: Id(16)] float[]? LossHistory = null);

/// <summary>A progress snapshot streamed by <see cref="IRestorationJobGrain.WatchAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("sair.JobProgress")]
public sealed record JobProgress(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobState State,
    [property: Id(2)] int Iteration,
    [property: Id(3)] int TotalIterations,
    [property: Id(4)] double? Loss,
    [property: Id(5)] string? ResultPath,
    [property: Id(6)] string? Error);

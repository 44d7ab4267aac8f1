using Sair.Grains.Ports;

namespace Sair.Grains.Jobs;

/// <summary>
/// How the engine worker reports back to the job grain it runs for. Every report names the attempt it belongs to;
/// a report from a superseded attempt (a run still winding down on a silo that lost the grain) is refused with false,
/// which also tells that run to stop.
/// </summary>
[Alias("sair.IRestorationJobReports")]
public interface IRestorationJobReports : IEngineJobReports
{
    [Alias("ReportProgress")]
    Task<bool> ReportProgressAsync(int attempt, RestorationProgress progress);

    /// <summary>Records the checkpoint (already written to the image store) as the one to resume from.</summary>
    [Alias("ReportCheckpoint")]
    Task<bool> ReportCheckpointAsync(int attempt, int iteration, string path);

    [Alias("ReportCompleted")]
    Task<bool> ReportCompletedAsync(int attempt, JobResult result);
}

/// <summary>What a completed job produced.</summary>
/// <param name="ResultPath">Image-store path of the restored aligned face.</param>
/// <param name="CroppedFacePath">Image-store path of the aligned face cut from an unaligned input; null for an aligned input.</param>
/// <param name="RestoredPhotoPath">Image-store path of the whole photo with the restored face pasted back; null for an aligned input.</param>
[GenerateSerializer, Immutable, Alias("sair.JobResult")]
public sealed record JobResult(
    [property: Id(0)] string ResultPath,
    [property: Id(1)] int Iterations,
    [property: Id(2)] double? FinalLoss,
    [property: Id(3)] double? IdentitySimilarity,
    [property: Id(4)] string? Note = null,
    [property: Id(5)] string? CroppedFacePath = null,
    [property: Id(6)] string? RestoredPhotoPath = null,
    [property: Id(7)] string? IdentityNet = null,
    [property: Id(8)] float[]? LossHistory = null);

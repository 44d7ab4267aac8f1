namespace Sair.Grains.Ports;

/// <summary>
/// The SAIR optimisation behind a port: the engine silo implements it over Sair.Engine, tests use fakes.
/// It runs on the engine worker's threads, never inside a grain turn.
/// </summary>
public interface IRestorationEngine
{
    /// <summary>
    /// Restores one face. Implementations report progress every iteration, call
    /// <see cref="RestorationRequest.PersistCheckpointAsync"/> every <see cref="RestorationOptions.CheckpointEvery"/>
    /// iterations, continue from <see cref="RestorationRequest.ResumeFrom"/> when given, and throw
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    Task<RestorationOutcome> RestoreAsync(
        RestorationRequest request,
        IProgress<RestorationProgress> progress,
        CancellationToken cancellationToken);
}

/// <summary>
/// One restoration as the engine sees it. This is an in-silo call argument (it carries a callback), never a wire type.
/// </summary>
/// <param name="JobId">The restoration job this request belongs to (for logs and checkpoint names).</param>
/// <param name="InputPng">The degraded input photo, PNG encoded.</param>
/// <param name="References">Reference faces of the same person (aligned faces and, where known, embeddings).</param>
/// <param name="Options">What to optimise and how long.</param>
/// <param name="ResumeFrom">The last persisted checkpoint of an interrupted attempt, or null to start fresh.</param>
/// <param name="PersistCheckpointAsync">
/// Stores a checkpoint durably; returns once it is safe to resume from it. Await each call before the next: a job's
/// checkpoints alternate between two blobs, and the one a resume may start from is only safe while nothing overlaps it.
/// </param>
/// <param name="Framing">
/// How the input frames its face: <see cref="FaceFraming.Unaligned"/> is a whole photo whose face
/// (<see cref="RestorationOptions.Face"/>) the engine detects, aligns, restores and pastes back; any other framing is an
/// aligned face restored as it is.
/// </param>
/// <param name="Face">The face of an unaligned photo to restore, as its album found it; null: detect and pick one.</param>
public sealed record RestorationRequest(
    string JobId,
    byte[] InputPng,
    IReadOnlyList<ReferenceFace> References,
    RestorationOptions Options,
    CheckpointBlob? ResumeFrom,
    Func<CheckpointBlob, CancellationToken, Task> PersistCheckpointAsync,
    FaceFraming Framing,
    FaceLocation? Face = null);

/// <summary>A reference photo of the person being restored.</summary>
/// <param name="ReferenceId">Pool reference id, or the blob path for explicit references.</param>
/// <param name="AlignedFacePng">The aligned reference face, PNG encoded.</param>
/// <param name="Embedding">Identity embedding when the reference came from a pool; null for explicit photos.</param>
/// <param name="Latent">
/// The reference's inversion w_z when one was attached to the pool (engine-defined bytes, e.g. an e4e latent file);
/// null makes the engine invert the photo itself.
/// </param>
[GenerateSerializer, Immutable, Alias("sair.ReferenceFace")]
public sealed record ReferenceFace(
    [property: Id(0)] string ReferenceId,
    [property: Id(1)] byte[] AlignedFacePng,
    [property: Id(2)] float[]? Embedding,
    [property: Id(3)] byte[]? Latent = null);

/// <summary>
/// The optimiser's resumable state as the grid stores it: latent code and optimiser moments serialized by the engine
/// (its own <c>RestorationCheckpoint</c> holds them as tensors), opaque to the grid. The wire alias keeps its old name.
/// </summary>
/// <param name="Iteration">Iterations completed when the state was taken; a resumed run continues after it.</param>
/// <param name="State">Engine-defined bytes (the grid only stores and returns them).</param>
[GenerateSerializer, Immutable, Alias("sair.RestorationCheckpoint")]
public sealed record CheckpointBlob(
    [property: Id(0)] int Iteration,
    [property: Id(1)] byte[] State);

/// <summary>Progress of one optimisation after an iteration.</summary>
[GenerateSerializer, Immutable, Alias("sair.RestorationProgress")]
public sealed record RestorationProgress(
    [property: Id(0)] int Iteration,
    [property: Id(1)] int TotalIterations,
    [property: Id(2)] double Loss,
    [property: Id(3)] double? IdentitySimilarity);

/// <summary>The finished restoration.</summary>
/// <param name="ImagePng">The restored aligned face, PNG encoded, at the generator's size.</param>
/// <param name="Iterations">Iterations run in total (across resumed attempts).</param>
/// <param name="FinalLoss">The objective at the last iteration.</param>
/// <param name="IdentitySimilarity">Cosine similarity of the result to the references' identity, when measured.</param>
/// <param name="ReferenceLatent">
/// The W+ inversion w_z of the first reference when this run had to compute it (no latent was attached): the grid
/// attaches it to the pool reference, so every later job of that person starts from it instead of projecting again.
/// </param>
/// <param name="CroppedFacePng">
/// The aligned face cut out of an unaligned input (what was restored, before restoration); null for an aligned input,
/// which is its own crop.
/// </param>
/// <param name="RestoredPhotoPng">
/// The whole input photo, enlarged by <see cref="RestorationOptions.Upscale"/>, with the restored face pasted back at
/// its place; null for an aligned input (nothing to paste back into).
/// </param>
/// <param name="Note">What the user should know about this restoration, e.g. that the photo kept its own face.</param>
/// <param name="IdentityNet">The identity net that measured <paramref name="IdentitySimilarity"/> (the loss's own), by name.</param>
/// <param name="LossHistory">The objective along the run: every iteration, or at most 200 evenly spaced ones.</param>
[GenerateSerializer, Immutable, Alias("sair.RestorationOutcome")]
public sealed record RestorationOutcome(
    [property: Id(0)] byte[] ImagePng,
    [property: Id(1)] int Iterations,
    [property: Id(2)] double FinalLoss,
    [property: Id(3)] double? IdentitySimilarity,
    [property: Id(4)] byte[]? ReferenceLatent = null,
    [property: Id(5)] byte[]? CroppedFacePng = null,
    [property: Id(6)] byte[]? RestoredPhotoPng = null,
    [property: Id(7)] string? Note = null,
    [property: Id(8)] string? IdentityNet = null,
    [property: Id(9)] float[]? LossHistory = null);

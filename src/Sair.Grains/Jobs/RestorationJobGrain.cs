using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Placement;
using Sair.Grains.Telemetry;

namespace Sair.Grains.Jobs;

[GenerateSerializer, Alias("sair.RestorationJobState")]
public sealed class RestorationJobState : IEngineJobRecord
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public int Attempt { get; set; }
    [Id(3)] public int CheckpointIteration { get; set; }
    [Id(4)] public string? CheckpointPath { get; set; }
    [Id(5)] public string? Silo { get; set; }
    [Id(6)] public JobResult? Result { get; set; }
    [Id(7)] public string? Error { get; set; }
    [Id(8)] public string? Tenant { get; set; }

    bool IEngineJobRecord.Submitted => Spec is not null;
}

/// <summary>
/// One restoration job (the lifecycle is <see cref="EngineJobGrain{TRecord, TStatus}"/>'s): its attempts run in the
/// silo's <see cref="RestorationRunner"/>; the grain records progress, checkpoints and the result, tells its album,
/// and deletes every checkpoint once the job is finished.
/// </summary>
[EnginePlacement]
public sealed class RestorationJobGrain(
    [PersistentState("job", GridStorage.Jobs)] IPersistentState<RestorationJobState> job,
    EngineWorker worker,
    RestorationRunner runner,
    IImageStore images,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    IOptions<GridLimits> limits,
    ILogger<RestorationJobGrain> logger)
    : EngineJobGrain<RestorationJobState, JobStatus>(job, worker, silo, options, logger), IRestorationJobGrain, IRestorationJobReports
{
    /// <summary>How often a running job tells its album its progress.</summary>
    public static readonly TimeSpan AlbumProgressInterval = TimeSpan.FromSeconds(1);

    private RestorationProgress? _progress;
    private DateTime _albumToldAt = DateTime.MinValue;

    private RestorationJobState State => Record;

    protected override EngineRunKind Kind => EngineRunKind.Restoration;

    protected override string Noun => "Job";

    protected override string ResumePoint => $"checkpoint iteration {State.CheckpointIteration}";

    public async Task<JobStatus> StartAsync(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        limits.Value.Check(spec.Options);
        if (State.Spec is { } existing)
        {
            if (existing.InputPath != spec.InputPath || existing.OutputPath != spec.OutputPath)
            {
                throw new InvalidOperationException(
                    $"Job '{JobId}' already restores '{existing.InputPath}' to '{existing.OutputPath}': use a new job id for other work.");
            }

            return Status();
        }

        State.Spec = spec;
        TakeOwner();
        await DispatchAsync();
        GridMetrics.JobsSubmitted.Add(1, GridMetrics.PresetTags(spec.Options.Preset));
        return Status();
    }

    public IAsyncEnumerable<JobProgress> WatchAsync(CancellationToken cancellationToken = default) =>
        FollowAsync(Progress, p => p.State, cancellationToken);

    protected override void OnStarted() => TellAlbumProgress(force: true);

    /// <summary>
    /// Tells the job's album how far it is (one-way, at most once per <see cref="AlbumProgressInterval"/>), so a client
    /// follows a whole album through one stream instead of one per job.
    /// </summary>
    private void TellAlbumProgress(bool force)
    {
        if (State.Spec?.Album is not { } owner || (!force && DateTime.UtcNow - _albumToldAt < AlbumProgressInterval))
        {
            return;
        }

        _albumToldAt = DateTime.UtcNow;
        GrainFactory.GetGrain<IAlbumJobSink>(owner.AlbumId).OnJobProgressAsync(owner.Index, Progress()).Ignore();
    }

    public Task<bool> ReportProgressAsync(int attempt, RestorationProgress progress)
    {
        if (!IsCurrent(attempt))
        {
            return Task.FromResult(false);
        }

        _progress = progress;
        Changed();
        TellAlbumProgress(force: false);
        return Task.FromResult(true);
    }

    public async Task<bool> ReportCheckpointAsync(int attempt, int iteration, string path)
    {
        if (!IsCurrent(attempt))
        {
            // Written by a run that lost its attempt, possibly after this job finished and deleted its checkpoints:
            // nothing will resume from it, and its writer may not live to delete it.
            if (JobCheckpoints.IsOf(JobId, attempt, path) && (State.State.IsFinished() || path != State.CheckpointPath))
            {
                await DeleteCheckpointAsync(path);
            }

            return false;
        }

        var previous = State.CheckpointPath;
        State.CheckpointIteration = iteration;
        State.CheckpointPath = path;
        await WriteStateAsync();
        Changed();
        if (previous is not null && previous != path)
        {
            // Only once the new one is persisted: until then a resume still starts from the previous one.
            await DeleteCheckpointAsync(previous);
        }

        return true;
    }

    public async Task<bool> ReportCompletedAsync(int attempt, JobResult result)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        State.Result = result;
        await FinishAsync(JobState.Completed, error: null);
        return true;
    }

    protected override void Enqueue(int attempt) =>
        runner.Enqueue(new EngineWorkItem(JobId, attempt, State.Spec!, State.CheckpointPath, State.CheckpointIteration));

    protected override async Task OnFinishedAsync(JobState state)
    {
        // After the state: a run still writing is refused from now on and its late checkpoint deleted on refusal. The
        // revive reminder stays for one more tick (SweepFinishedAsync), which sweeps again and then goes: a superseded
        // run whose silo died between a late write and its report (so no refusal deletes it) leaves nothing behind either.
        await DeleteAllCheckpointsAsync();

        var preset = GridMetrics.PresetTags(State.Spec!.Options.Preset);
        if (state == JobState.Completed)
        {
            GridMetrics.JobsCompleted.Add(1, preset);
        }
        else if (state == JobState.Failed)
        {
            GridMetrics.JobsFailed.Add(1, preset);
        }

        if (State.Spec!.Album is { } album)
        {
            GrainFactory.GetGrain<IAlbumJobSink>(album.AlbumId).OnJobFinishedAsync(Status()).Ignore();
        }
    }

    // The final sweep of a finished job: a late write of a dead superseded run, a delete that failed, a silo that died
    // before it tried.
    protected override Task<bool> SweepFinishedAsync() => DeleteAllCheckpointsAsync();

    /// <summary>Deletes every checkpoint any attempt can have written; false when one could not be (the reminder retries).</summary>
    private async Task<bool> DeleteAllCheckpointsAsync()
    {
        var deleted = true;
        var paths = JobCheckpoints.AllPaths(JobId, State.Attempt);
        foreach (var path in State.CheckpointPath is { } resumable ? paths.Append(resumable).Distinct() : paths)
        {
            deleted &= await DeleteCheckpointAsync(path);
        }

        return deleted;
    }

    private async Task<bool> DeleteCheckpointAsync(string path)
    {
        try
        {
            await images.DeleteAsync(path, CancellationToken.None);
            return true;
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Job {JobId}: could not delete checkpoint {Path}", JobId, path);
            return false;
        }
    }

    protected override JobStatus Status() => new(
        JobId,
        State.State,
        State.Result?.Iterations ?? _progress?.Iteration ?? State.CheckpointIteration,
        State.Spec?.Options.Iterations ?? 0,
        State.CheckpointIteration,
        State.Attempt,
        State.Silo,
        State.Result?.ResultPath,
        State.Error,
        State.Result?.FinalLoss ?? _progress?.Loss,
        State.Result?.IdentitySimilarity ?? _progress?.IdentitySimilarity,
        State.Spec?.Album,
        State.Result?.Note,
        State.Result?.CroppedFacePath,
        State.Result?.RestoredPhotoPath,
        State.Result?.IdentityNet,
        State.Result?.LossHistory);

    private JobProgress Progress()
    {
        var status = Status();
        return new JobProgress(
            status.JobId, status.State, status.Iteration, status.TotalIterations, status.Loss, status.ResultPath, status.Error);
    }
}

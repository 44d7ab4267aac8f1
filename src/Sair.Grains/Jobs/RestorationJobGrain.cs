using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Albums;
using Sair.Grains.Engine;
using Sair.Grains.Placement;
using Sair.Grains.Telemetry;

namespace Sair.Grains.Jobs;

[GenerateSerializer, Alias("sair.RestorationJobState")]
public sealed class RestorationJobState
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public int Attempt { get; set; }
    [Id(3)] public int CheckpointIteration { get; set; }
    [Id(4)] public string? CheckpointPath { get; set; }
    [Id(5)] public string? Silo { get; set; }
    [Id(6)] public JobResult? Result { get; set; }
    [Id(7)] public string? Error { get; set; }
}

/// <summary>
/// One restoration job. Lives on an engine silo next to the worker that runs it; the grain only records what the
/// worker reports, so its turns stay short however long the optimisation takes.
/// </summary>
[EnginePlacement]
public sealed class RestorationJobGrain(
    [PersistentState("job", GridStorage.Jobs)] IPersistentState<RestorationJobState> job,
    EngineWorker worker,
    IImageStore images,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    IOptions<GridLimits> limits,
    ILogger<RestorationJobGrain> logger) : Grain, IRestorationJobGrain, IRestorationJobReports, IRemindable
{
    private const string ReviveReminder = "revive";

    private RestorationProgress? _progress;
    private TaskCompletionSource _changed = NewChangeSignal();
    private IGrainTimer? _watchdog;

    private string JobId => this.GetPrimaryKeyString();

    private RestorationJobState State => job.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Unfinished work in the state means the silo that ran it is gone (or shut down): resume on this one.
        if (State.Spec is not null && !State.State.IsFinished())
        {
            logger.LogInformation(
                "Job {JobId}: resuming attempt {Attempt} on {Silo} from checkpoint iteration {Iteration}",
                JobId, State.Attempt + 1, silo.Name, State.CheckpointIteration);
            await DispatchAsync();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The next activation resumes from the persisted checkpoint; this run must not race it.
        worker.Stop(JobId);
        return Task.CompletedTask;
    }

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
        await DispatchAsync();
        GridTelemetry.JobsSubmitted.Add(1, GridTelemetry.PresetTags(spec.Options.Preset));
        return Status();
    }

    public Task<JobStatus> GetStatusAsync() => Task.FromResult(Status());

    public async Task<JobStatus> CancelAsync()
    {
        if (State.Spec is null || State.State.IsFinished())
        {
            return Status();
        }

        worker.Stop(JobId);
        await FinishAsync(JobState.Cancelled, result: null, error: "cancelled");
        return Status();
    }

    public async IAsyncEnumerable<JobProgress> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var changed = _changed.Task;
            var snapshot = Progress();
            yield return snapshot;
            if (snapshot.State.IsFinished() || snapshot.State == JobState.NotStarted)
            {
                yield break;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    public async Task<bool> ReportStartedAsync(int attempt, string siloName)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        State.State = JobState.Running;
        State.Silo = siloName;
        await job.WriteStateAsync();
        Changed();
        TellAlbumProgress(force: true);
        return true;
    }

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

    /// <summary>How often a running job tells its album its progress.</summary>
    public static readonly TimeSpan AlbumProgressInterval = TimeSpan.FromSeconds(1);

    private DateTime _albumToldAt = DateTime.MinValue;

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
        await job.WriteStateAsync();
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

        await FinishAsync(JobState.Completed, result, error: null);
        return true;
    }

    public async Task<bool> ReportFailedAsync(int attempt, string reason)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        await FinishAsync(JobState.Failed, result: null, reason);
        return true;
    }

    private bool IsCurrent(int attempt) => attempt == State.Attempt && State.Spec is not null && !State.State.IsFinished();

    private async Task DispatchAsync()
    {
        var spec = State.Spec!;
        State.Attempt++;
        State.State = JobState.Queued;
        State.Silo = silo.Name;
        await job.WriteStateAsync();
        worker.Enqueue(new EngineWorkItem(JobId, State.Attempt, spec, State.CheckpointPath, State.CheckpointIteration));
        var period = options.Value.JobReminderPeriod;
        await this.RegisterOrUpdateReminder(ReviveReminder, period, period);
        _watchdog ??= this.RegisterGrainTimer(
            CheckWorkerHoldsRunAsync,
            new GrainTimerCreationOptions(options.Value.JobWatchdogInterval, options.Value.JobWatchdogInterval) { KeepAlive = true });
        Changed();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Being activated by the tick already resumed an orphaned job (OnActivateAsync); here only the leftovers: the
        // final sweep of a finished job (a late write of a dead superseded run, a delete that failed, a silo that died
        // before it tried), after which the reminder goes.
        if (State.Spec is null || State.State.IsFinished())
        {
            if (State.Spec is null || await DeleteAllCheckpointsAsync())
            {
                await ForgetReminderAsync();
            }

            return;
        }

        await CheckWorkerHoldsRunAsync(CancellationToken.None);
    }

    // A run the worker lost (a report that never arrived, a crashed slot) would leave the job running forever.
    private async Task CheckWorkerHoldsRunAsync(CancellationToken cancellationToken)
    {
        if (State.Spec is not null && !State.State.IsFinished() && !worker.Holds(JobId, State.Attempt))
        {
            logger.LogWarning("Job {JobId}: attempt {Attempt} is no longer held by the worker; re-queuing", JobId, State.Attempt);
            await DispatchAsync();
        }
    }

    private async Task FinishAsync(JobState state, JobResult? result, string? error)
    {
        State.State = state;
        State.Result = result;
        State.Error = error;
        await job.WriteStateAsync();
        _watchdog?.Dispose();
        _watchdog = null;
        // After the state: a run still writing is refused from now on and its late checkpoint deleted on refusal. The
        // revive reminder stays for one more tick, which sweeps again and then goes: a superseded run whose silo died
        // between a late write and its report (so no refusal deletes it) leaves nothing behind either.
        await DeleteAllCheckpointsAsync();

        Changed();
        var preset = GridTelemetry.PresetTags(State.Spec!.Options.Preset);
        if (state == JobState.Completed)
        {
            GridTelemetry.JobsCompleted.Add(1, preset);
        }
        else if (state == JobState.Failed)
        {
            GridTelemetry.JobsFailed.Add(1, preset);
        }

        if (State.Spec!.Album is { } album)
        {
            GrainFactory.GetGrain<IAlbumJobSink>(album.AlbumId).OnJobFinishedAsync(Status()).Ignore();
        }

        logger.LogInformation("Job {JobId}: {State} after attempt {Attempt}{Error}", JobId, state, State.Attempt,
            error is null ? "" : $" ({error})");
    }

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

    private async Task ForgetReminderAsync()
    {
        if (await this.GetReminder(ReviveReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private JobStatus Status() => new(
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

    private void Changed()
    {
        var changed = _changed;
        _changed = NewChangeSignal();
        changed.TrySetResult();
    }

    private static TaskCompletionSource NewChangeSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Grains.Tenancy;

namespace Sair.Grains.Training;

[GenerateSerializer, Alias("sair.TrainingJobState")]
public sealed class TrainingJobState : IEngineJobRecord
{
    [Id(0)] public TrainingJobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public int Attempt { get; set; }
    [Id(3)] public string? Silo { get; set; }
    [Id(4)] public string? Error { get; set; }
    /// <summary>The progress at the latest checkpoint.</summary>
    [Id(5)] public TrainingProgress? Progress { get; set; }
    [Id(6)] public TrainingOutcome? Outcome { get; set; }
    [Id(7)] public string? Tenant { get; set; }

    bool IEngineJobRecord.Submitted => Spec is not null;
}

/// <summary>
/// One training job (the lifecycle is <see cref="EngineJobGrain{TRecord, TStatus}"/>'s): its attempts run in the
/// silo's <see cref="TrainingRunner"/>, sharing the engine worker's slots with restorations; the grain records the
/// progress (persisted at each newer checkpoint step) and the outcome. The work itself lives in the output folder,
/// so a cancelled or failed job started again resumes from the trainer's checkpoint.
/// </summary>
[EnginePlacement]
public sealed class TrainingJobGrain(
    [PersistentState("training", GridStorage.Jobs)] IPersistentState<TrainingJobState> job,
    EngineWorker worker,
    TrainingRunner runner,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    IOptions<GridLimits> limits,
    ILogger<TrainingJobGrain> logger)
    : EngineJobGrain<TrainingJobState, TrainingJobStatus>(job, worker, silo, options, logger), ITrainingJobGrain, ITrainingJobReports
{
    private TrainingProgress? _progress;

    private TrainingJobState State => Record;

    protected override EngineRunKind Kind => EngineRunKind.Training;

    protected override string Noun => "Training job";

    protected override string ResumePoint => $"checkpoint step {State.Progress?.CheckpointStep ?? 0}";

    protected override string CancelledError => "cancelled: the trainer saves its checkpoint, starting the job again resumes from it";

    public async Task<TrainingJobStatus> StartAsync(TrainingJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        limits.Value.Check(spec);
        if (State.Spec is { } existing)
        {
            if (!existing.SameRun(spec))
            {
                throw new InvalidOperationException(
                    $"Job '{JobId}' already trains {existing.Kind} into '{existing.OutputFolder}'" +
                    (existing.DataFolder is null ? "" : $" from '{existing.DataFolder}'") + ": use a new job id for other work.");
            }

            if (!State.State.IsFinished())
            {
                return spec == existing ? Status() : throw new InvalidOperationException(
                    $"Job '{JobId}' is running with other settings: cancel it first ('sair prior cancel {JobId}'), then start it again.");
            }

            if (State.State == JobState.Completed && spec == existing)
            {
                return Status();
            }
        }

        TakeOwner();
        if (State.Tenant is { } tenant
            && (await GrainFactory.GetGrain<ITenantJobsGrain>(tenant).AcquireAsync([TenantJobs.Training(JobId)])).IsEmpty)
        {
            throw new InvalidOperationException(
                $"Tenant '{tenant}' runs {limits.Value.MaxTenantJobs} jobs already ({GridLimits.Section}:{nameof(GridLimits.MaxTenantJobs)}): " +
                "start this training run when one of them has finished.");
        }

        State.Spec = spec;
        State.Error = null;
        State.Outcome = null;
        await DispatchAsync();
        return Status();
    }

    public IAsyncEnumerable<TrainingJobStatus> WatchAsync(CancellationToken cancellationToken = default) =>
        FollowAsync(Status, s => s.State, cancellationToken);

    public async Task<bool> ReportProgressAsync(int attempt, TrainingProgress progress)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        _progress = Merged(progress);
        if (progress.CheckpointStep > (State.Progress?.CheckpointStep ?? 0))
        {
            State.Progress = _progress;
            await WriteStateAsync();
        }

        Changed();
        return true;
    }

    public async Task<bool> ReportCompletedAsync(int attempt, TrainingOutcome outcome)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        State.Outcome = outcome with { Final = Merged(outcome.Final) };
        await FinishAsync(JobState.Completed, error: null);
        return true;
    }

    /// <summary>A measurement or grid of an earlier report (or attempt) stays the latest one until a newer one comes.</summary>
    private TrainingProgress Merged(TrainingProgress progress)
    {
        var previous = _progress ?? State.Progress;
        return progress with
        {
            Ffd = progress.Ffd ?? previous?.Ffd,
            FfdStep = progress.Ffd is null ? previous?.FfdStep : progress.FfdStep,
            SampleGrid = progress.SampleGrid ?? previous?.SampleGrid,
        };
    }

    protected override void OnDispatching() =>
        // Until the run reports, show where it resumes from against the length it now runs to.
        _progress = State.Progress is { } resumed && State.Spec!.Kind == TrainingKind.Prior
            ? resumed with { Total = State.Spec.TotalImages, ImagesPerSecond = null, Eta = null }
            : State.Progress;

    protected override void Enqueue(int attempt) => runner.Enqueue(new TrainingRequest(JobId, attempt, State.Spec!, State.Tenant));

    protected override void OnFinishing()
    {
        if (_progress is not null)
        {
            State.Progress = _progress;
        }
    }

    // Nothing of a training job lives in the grid's store: the reminder goes with the job.
    protected override Task OnFinishedAsync(JobState state)
    {
        if (State.Tenant is { } tenant)
        {
            GrainFactory.GetGrain<ITenantJobsGrain>(tenant).ReleaseAsync(TenantJobs.Training(JobId)).Ignore();
        }

        return ForgetReminderAsync();
    }

    protected override TrainingJobStatus Status() => new(
        JobId,
        State.Spec?.Kind,
        State.State,
        State.Outcome?.Final ?? _progress ?? State.Progress,
        State.Attempt,
        State.Silo,
        State.Error,
        State.Spec?.OutputFolder,
        State.Outcome);
}

using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;

namespace Sair.Grains.Training;

[GenerateSerializer, Alias("sair.TrainingJobState")]
public sealed class TrainingJobState
{
    [Id(0)] public TrainingJobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public int Attempt { get; set; }
    [Id(3)] public string? Silo { get; set; }
    [Id(4)] public string? Error { get; set; }
    /// <summary>The progress at the latest checkpoint.</summary>
    [Id(5)] public TrainingProgress? Progress { get; set; }
    [Id(6)] public TrainingOutcome? Outcome { get; set; }
}

/// <summary>
/// One training job. Lives on an engine silo and hands the run to that silo's engine worker (sharing its slots with
/// restorations), recording only what the run reports, so its turns stay short however long the training takes.
/// </summary>
[EnginePlacement]
public sealed class TrainingJobGrain(
    [PersistentState("training", GridStorage.Jobs)] IPersistentState<TrainingJobState> job,
    EngineWorker worker,
    TrainingRunner runner,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    IOptions<GridLimits> limits,
    ILogger<TrainingJobGrain> logger) : Grain, ITrainingJobGrain, ITrainingJobReports, IRemindable
{
    private const string ReviveReminder = "revive";

    private TrainingProgress? _progress;
    private TaskCompletionSource _changed = NewChangeSignal();
    private IGrainTimer? _watchdog;

    private string JobId => this.GetPrimaryKeyString();

    /// <summary>The worker's key for this job's runs, apart from restoration job ids.</summary>
    private string RunKey => TrainingRunner.RunKey(JobId);

    private TrainingJobState State => job.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Unfinished work in the state means the silo that ran it is gone (or shut down): run it here, from its checkpoint.
        if (State.Spec is not null && !State.State.IsFinished())
        {
            logger.LogInformation("Training job {JobId}: resuming attempt {Attempt} on {Silo} from checkpoint step {Step}",
                JobId, State.Attempt + 1, silo.Name, State.Progress?.CheckpointStep ?? 0);
            await DispatchAsync();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The next activation resumes from the checkpoint; this run must not race it.
        worker.Stop(RunKey);
        return Task.CompletedTask;
    }

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

        State.Spec = spec;
        State.Error = null;
        State.Outcome = null;
        await DispatchAsync();
        return Status();
    }

    public Task<TrainingJobStatus> GetStatusAsync() => Task.FromResult(Status());

    public async Task<TrainingJobStatus> CancelAsync()
    {
        if (State.Spec is null || State.State.IsFinished())
        {
            return Status();
        }

        worker.Stop(RunKey);
        await FinishAsync(JobState.Cancelled, outcome: null, "cancelled: the trainer saves its checkpoint, starting the job again resumes from it");
        return Status();
    }

    public async IAsyncEnumerable<TrainingJobStatus> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var changed = _changed.Task;
            var snapshot = Status();
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
        return true;
    }

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
            await job.WriteStateAsync();
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

        await FinishAsync(JobState.Completed, outcome with { Final = Merged(outcome.Final) }, error: null);
        return true;
    }

    public async Task<bool> ReportFailedAsync(int attempt, string reason)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        await FinishAsync(JobState.Failed, outcome: null, reason);
        return true;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Being activated by the tick already resumed an orphaned job (OnActivateAsync); here only the leftovers.
        if (State.Spec is null || State.State.IsFinished())
        {
            await ForgetReminderAsync();
            return;
        }

        await CheckWorkerHoldsRunAsync(CancellationToken.None);
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

    private bool IsCurrent(int attempt) => attempt == State.Attempt && State.Spec is not null && !State.State.IsFinished();

    private async Task DispatchAsync()
    {
        var request = new TrainingRequest(JobId, State.Attempt + 1, State.Spec!);
        State.Attempt = request.Attempt;
        State.State = JobState.Queued;
        State.Silo = silo.Name;
        // Until the run reports, show where it resumes from against the length it now runs to.
        _progress = State.Progress is { } resumed && request.Spec.Kind == TrainingKind.Prior
            ? resumed with { Total = request.Spec.TotalImages, ImagesPerSecond = null, Eta = null }
            : State.Progress;
        await job.WriteStateAsync();
        runner.Enqueue(request);
        var period = options.Value.JobReminderPeriod;
        await this.RegisterOrUpdateReminder(ReviveReminder, period, period);
        _watchdog ??= this.RegisterGrainTimer(
            CheckWorkerHoldsRunAsync,
            new GrainTimerCreationOptions(options.Value.JobWatchdogInterval, options.Value.JobWatchdogInterval) { KeepAlive = true });
        Changed();
    }

    // A run the worker lost (a report that never arrived, a crashed slot) would leave the job running forever.
    private async Task CheckWorkerHoldsRunAsync(CancellationToken cancellationToken)
    {
        if (State.Spec is not null && !State.State.IsFinished() && !worker.Holds(RunKey, State.Attempt))
        {
            logger.LogWarning("Training job {JobId}: attempt {Attempt} is no longer held by the worker; re-queuing", JobId, State.Attempt);
            await DispatchAsync();
        }
    }

    private async Task FinishAsync(JobState state, TrainingOutcome? outcome, string? error)
    {
        State.State = state;
        State.Outcome = outcome;
        State.Error = error;
        if (_progress is not null)
        {
            State.Progress = _progress;
        }

        await job.WriteStateAsync();
        _watchdog?.Dispose();
        _watchdog = null;
        await ForgetReminderAsync();
        Changed();
        logger.LogInformation("Training job {JobId}: {State} after attempt {Attempt}{Error}", JobId, state, State.Attempt,
            error is null ? "" : $" ({error})");
    }

    private async Task ForgetReminderAsync()
    {
        if (await this.GetReminder(ReviveReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private TrainingJobStatus Status() => new(
        JobId,
        State.Spec?.Kind,
        State.State,
        State.Outcome?.Final ?? _progress ?? State.Progress,
        State.Attempt,
        State.Silo,
        State.Error,
        State.Spec?.OutputFolder,
        State.Outcome);

    private void Changed()
    {
        var changed = _changed;
        _changed = NewChangeSignal();
        changed.TrySetResult();
    }

    private static TaskCompletionSource NewChangeSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Tenancy;

namespace Sair.Grains.Jobs;

/// <summary>
/// The lifecycle every engine job shares, written once: a job lives on an engine silo, hands each attempt to that
/// silo's <see cref="EngineWorker"/> and only records what the run reports, so its turns stay short however long the
/// work takes.
/// <list type="bullet">
/// <item><b>Fencing</b>: every dispatch bumps the attempt; a report of any other attempt (or after the job finished)
/// is refused, which also stops the run that sent it.</item>
/// <item><b>Revive reminder</b>: an unfinished job keeps a durable reminder, whose tick activates it on another engine
/// silo when its silo dies; <see cref="OnActivateAsync"/> then resumes the unfinished work (attempt + 1).</item>
/// <item><b>Watchdog</b>: a timer re-queues an attempt the local worker no longer holds (a lost report, a crashed slot).</item>
/// <item><b>Retry</b>: an attempt cut short by the grid (a silo lost, storage unreachable or full) is tried again from
/// the checkpoint after a backoff that doubles with each interruption in a row; after
/// <see cref="EngineWorkerOptions.MaxAttempts"/> attempts the job fails with the last reason.</item>
/// <item><b>Watch signal</b>: every change wakes the job's watchers (<see cref="FollowAsync{T}"/>).</item>
/// </list>
/// A job kind supplies its state (<typeparamref name="TRecord"/>), its status and what a dispatch and a finish do.
/// </summary>
public abstract class EngineJobGrain<TRecord, TStatus>(
    IPersistentState<TRecord> job,
    EngineWorker worker,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    ILogger logger) : Grain, IRemindable, ITenantOwned
    where TRecord : class, IEngineJobRecord
{
    private const string ReviveReminder = "revive";

    private TaskCompletionSource _changed = NewChangeSignal();
    private IGrainTimer? _watchdog;
    private IGrainTimer? _retry;
    private int _interruptions;
    private string? _lastInterruption;

    /// <summary>The job's grain key.</summary>
    protected string JobId => this.GetPrimaryKeyString();

    /// <summary>The persisted state.</summary>
    protected TRecord Record => job.State;

    /// <inheritdoc />
    public string? Tenant => Record.Tenant;

    /// <summary>
    /// Gives the job to the tenant the current call acts for (a client's, or the album's that starts it), if it has no
    /// owner yet; called when a job is first given its work.
    /// </summary>
    protected void TakeOwner() => Record.Tenant ??= TenantContext.Current;

    /// <summary>True while started work is not finished.</summary>
    protected bool Unfinished => Record.Submitted && !Record.State.IsFinished();

    /// <summary>Which kind of engine run this job's attempts are.</summary>
    protected abstract EngineRunKind Kind { get; }

    /// <summary>The job's name in log lines ("Job", "Training job").</summary>
    protected abstract string Noun { get; }

    /// <summary>Where an unfinished job resumes from, for the log ("checkpoint iteration 120").</summary>
    protected abstract string ResumePoint { get; }

    /// <summary>The error a cancelled job records.</summary>
    protected virtual string CancelledError => "cancelled";

    /// <summary>The job's status as its grain interface returns it.</summary>
    protected abstract TStatus Status();

    /// <summary>Hands attempt <paramref name="attempt"/> (already persisted as queued) to the silo's runner.</summary>
    protected abstract void Enqueue(int attempt);

    /// <summary>Called when a dispatch has bumped the attempt, before the state is persisted.</summary>
    protected virtual void OnDispatching()
    {
    }

    /// <summary>Called when the current attempt reported its start (and it is persisted).</summary>
    protected virtual void OnStarted()
    {
    }

    /// <summary>Called when the job finishes, before its final state is persisted.</summary>
    protected virtual void OnFinishing()
    {
    }

    /// <summary>Called once the final state is persisted and the watchdog is gone, before watchers are woken.</summary>
    protected abstract Task OnFinishedAsync(JobState state);

    /// <summary>
    /// The revive reminder's work on a finished job; true when nothing is left and the reminder may go (false keeps it
    /// for another tick).
    /// </summary>
    protected virtual Task<bool> SweepFinishedAsync() => Task.FromResult(true);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Unfinished work in the state means the silo that ran it is gone (or shut down): resume on this one.
        if (Unfinished)
        {
            logger.LogInformation("{Noun} {JobId}: resuming attempt {Attempt} on {Silo} from {ResumePoint}",
                Noun, JobId, Record.Attempt + 1, silo.Name, ResumePoint);
            await DispatchAsync();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The next activation resumes from the persisted checkpoint; this run must not race it.
        worker.Stop(new EngineRunKey(Kind, JobId));
        return Task.CompletedTask;
    }

    public Task<TStatus> GetStatusAsync() => Task.FromResult(Status());

    public async Task<TStatus> CancelAsync()
    {
        if (!Unfinished)
        {
            return Status();
        }

        worker.Stop(new EngineRunKey(Kind, JobId));
        await FinishAsync(JobState.Cancelled, CancelledError);
        return Status();
    }

    public async Task<bool> ReportStartedAsync(int attempt, string siloName)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        Record.State = JobState.Running;
        Record.Silo = siloName;
        await job.WriteStateAsync();
        Changed();
        OnStarted();
        return true;
    }

    public async Task<bool> ReportFailedAsync(int attempt, string reason)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        await FinishAsync(JobState.Failed, reason);
        return true;
    }

    public async Task<bool> ReportInterruptedAsync(int attempt, string reason)
    {
        if (!IsCurrent(attempt))
        {
            return false;
        }

        _lastInterruption = reason;
        if (Record.Attempt >= options.Value.MaxAttempts)
        {
            await GiveUpAsync();
            return true;
        }

        var delay = options.Value.BackoffAfter(++_interruptions);
        logger.LogWarning("{Noun} {JobId}: attempt {Attempt} cut short by the grid ({Reason}); retrying from {ResumePoint} in {Delay:0.#} s",
            Noun, JobId, attempt, reason, ResumePoint, delay.TotalSeconds);
        // Not persisted: storage may be what failed; the retry's dispatch persists the next attempt.
        Record.State = JobState.Queued;
        Changed();
        _retry?.Dispose();
        _retry = this.RegisterGrainTimer(
            _ => RetryAsync(attempt),
            new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        return true;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Being activated by the tick already resumed an orphaned job (OnActivateAsync); here only the leftovers of a
        // finished one, after which the reminder goes.
        if (!Unfinished)
        {
            if (!Record.Submitted || await SweepFinishedAsync())
            {
                await ForgetReminderAsync();
            }

            return;
        }

        await CheckWorkerHoldsRunAsync(CancellationToken.None);
    }

    /// <summary>True when <paramref name="attempt"/> is the one that may report.</summary>
    protected bool IsCurrent(int attempt) => attempt == Record.Attempt && Unfinished;

    public Task<bool> IsCurrentAsync(int attempt) => Task.FromResult(IsCurrent(attempt));

    /// <summary>Persists the state.</summary>
    protected Task WriteStateAsync() => job.WriteStateAsync();

    /// <summary>
    /// Yields <paramref name="snapshot"/> now and after every change until the job is finished (or was never started).
    /// </summary>
    protected async IAsyncEnumerable<T> FollowAsync<T>(Func<T> snapshot, Func<T, JobState> stateOf,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = _changed.Task;
            var current = snapshot();
            yield return current;
            if (stateOf(current) is var state && (state.IsFinished() || state == JobState.NotStarted))
            {
                yield break;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Starts the next attempt: persisted as queued on this silo, handed to the worker, reminder and watchdog on.</summary>
    protected async Task DispatchAsync()
    {
        Record.Attempt++;
        Record.State = JobState.Queued;
        Record.Silo = silo.Name;
        OnDispatching();
        await job.WriteStateAsync();
        Enqueue(Record.Attempt);
        var period = options.Value.JobReminderPeriod;
        await this.RegisterOrUpdateReminder(ReviveReminder, period, period);
        _watchdog ??= this.RegisterGrainTimer(
            CheckWorkerHoldsRunAsync,
            new GrainTimerCreationOptions(options.Value.JobWatchdogInterval, options.Value.JobWatchdogInterval) { KeepAlive = true });
        Changed();
    }

    /// <summary>Records the end of the job (persisted first; a run still writing is refused from then on).</summary>
    protected async Task FinishAsync(JobState state, string? error)
    {
        Record.State = state;
        Record.Error = error;
        OnFinishing();
        await job.WriteStateAsync();
        _watchdog?.Dispose();
        _watchdog = null;
        _retry?.Dispose();
        _retry = null;
        await OnFinishedAsync(state);
        Changed();
        logger.LogInformation("{Noun} {JobId}: {State} after attempt {Attempt}{Error}", Noun, JobId, state, Record.Attempt,
            error is null ? "" : $" ({error})");
    }

    /// <summary>Unregisters the revive reminder.</summary>
    protected async Task ForgetReminderAsync()
    {
        if (await this.GetReminder(ReviveReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>Wakes every watcher.</summary>
    protected void Changed()
    {
        var changed = _changed;
        _changed = NewChangeSignal();
        changed.TrySetResult();
    }

    private async Task RetryAsync(int attempt)
    {
        _retry?.Dispose();
        _retry = null;
        if (IsCurrent(attempt) && !worker.Holds(new EngineRunKey(Kind, JobId), attempt))
        {
            await DispatchAsync();
        }
    }

    private Task GiveUpAsync() => FinishAsync(JobState.Failed,
        $"gave up after {Record.Attempt} attempts, each cut short by the grid ({EngineWorkerOptions.Section}:{nameof(EngineWorkerOptions.MaxAttempts)}); "
        + (_lastInterruption is { } last ? $"the last: {last}" : "silos lost or storage unreachable: see the silos' logs"));

    // A run the worker lost (a report that never arrived, a crashed slot) would leave the job running forever; a retry
    // waiting out its backoff is not lost.
    private async Task CheckWorkerHoldsRunAsync(CancellationToken cancellationToken)
    {
        if (Unfinished && _retry is null && !worker.Holds(new EngineRunKey(Kind, JobId), Record.Attempt))
        {
            if (Record.Attempt >= options.Value.MaxAttempts)
            {
                logger.LogWarning("{Noun} {JobId}: attempt {Attempt} ended without a report, the last allowed; failing the job", Noun, JobId, Record.Attempt);
                await GiveUpAsync();
                return;
            }

            logger.LogWarning("{Noun} {JobId}: attempt {Attempt} is no longer held by the worker; re-queuing", Noun, JobId, Record.Attempt);
            await DispatchAsync();
        }
    }

    private static TaskCompletionSource NewChangeSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

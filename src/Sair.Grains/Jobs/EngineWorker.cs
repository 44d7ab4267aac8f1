using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Placement;
using Sair.Grains.Telemetry;

namespace Sair.Grains.Jobs;

/// <summary>
/// An engine silo's job slots: runs the work of <see cref="RestorationRunner"/> and <see cref="Training.TrainingRunner"/>
/// off the grain scheduler, at most <see cref="EngineWorkerOptions.MaxConcurrentJobs"/> at a time and the rest queued
/// in arrival order, one run per <see cref="EngineRunKey"/> (a newer attempt stops an older one). Publishes the silo's
/// load (and <see cref="EngineIterationTimes"/>) for <see cref="EnginePlacementDirector"/> and the clients.
/// </summary>
public sealed class EngineWorker(
    EngineIterationTimes times,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    ILogger<EngineWorker> logger) : BackgroundService
{
    private readonly Channel<Run> _queue = Channel.CreateUnbounded<Run>();
    private readonly ConcurrentDictionary<EngineRunKey, Run> _runs = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _loadChanged = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private int _active;

    /// <summary>Jobs optimising now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Jobs waiting for a slot.</summary>
    public int Queued => Math.Max(0, _runs.Count - Active);

    /// <summary>
    /// Queues a job's run, so a silo never runs more than <see cref="EngineWorkerOptions.MaxConcurrentJobs"/> jobs of any
    /// kind; a newer <paramref name="attempt"/> under the same key replaces (stops) an older one. The work gets its run's
    /// cancellation source: cancelling it stops the run (as <see cref="Stop"/> does).
    /// </summary>
    public void Enqueue(EngineRunKey key, int attempt, Func<CancellationTokenSource, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        Run run;
        lock (_gate)
        {
            if (_runs.TryGetValue(key, out var existing))
            {
                if (existing.Attempt >= attempt)
                {
                    return;
                }

                existing.Stop();
            }

            run = new Run(key, attempt, work, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
            _runs[key] = run;
        }

        if (!_queue.Writer.TryWrite(run))
        {
            throw new InvalidOperationException("The engine worker is shut down and takes no more jobs.");
        }

        SignalLoadChanged();
    }

    /// <summary>True while the worker holds (queued or running) this attempt of the job.</summary>
    public bool Holds(EngineRunKey key, int attempt) =>
        _runs.TryGetValue(key, out var run) && run.Attempt == attempt && !run.Cancellation.IsCancellationRequested;

    /// <summary>
    /// Stops the job's run without reporting: the grain already knows why (the job was cancelled, or the grain is
    /// leaving this silo and the next activation will resume it).
    /// </summary>
    public void Stop(EngineRunKey key)
    {
        if (_runs.TryGetValue(key, out var run))
        {
            run.Stop();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stoppingToken.Register(_stopping.Cancel);
        using var gauges = GridMetrics.TrackEngine(silo.Name, () => (Active, Queued));
        var slots = Enumerable.Range(0, Math.Max(1, options.Value.MaxConcurrentJobs)).Select(_ => ConsumeAsync(stoppingToken));
        await Task.WhenAll([.. slots, PublishLoadAsync(stoppingToken)]);
    }

    public override void Dispose()
    {
        _stopping.Dispose();
        _loadChanged.Dispose();
        base.Dispose();
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var run in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                if (run.Cancellation.IsCancellationRequested)
                {
                    Forget(run);
                    continue;
                }

                Interlocked.Increment(ref _active);
                SignalLoadChanged();
                try
                {
                    await run.Work(run.Cancellation);
                }
                finally
                {
                    Interlocked.Decrement(ref _active);
                    Forget(run);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: queued jobs stay queued in their grains' state and resume on another engine silo.
        }
    }

    private void Forget(Run run)
    {
        _runs.TryRemove(new KeyValuePair<EngineRunKey, Run>(run.Key, run));
        run.Dispose();
        SignalLoadChanged();
    }

    private async Task PublishLoadAsync(CancellationToken stoppingToken)
    {
        var board = grains.GetGrain<IEngineLoadBoardGrain>(0);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await board.ReportAsync(new EngineLoad(
                    silo.SiloAddress, Active, Queued, Math.Max(1, options.Value.MaxConcurrentJobs), DateTimeOffset.UtcNow,
                    times.WithIdentity, times.WithoutIdentity));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogDebug(exception, "Could not publish the engine load; retrying");
            }

            try
            {
                await _loadChanged.WaitAsync(options.Value.LoadReportInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void SignalLoadChanged()
    {
        if (_loadChanged.CurrentCount == 0)
        {
            _loadChanged.Release();
        }
    }

    private sealed record Run(EngineRunKey Key, int Attempt, Func<CancellationTokenSource, Task> Work, CancellationTokenSource Cancellation) : IDisposable
    {
        public void Stop()
        {
            try
            {
                Cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run already ended.
            }
        }

        public void Dispose() => Cancellation.Dispose();
    }
}

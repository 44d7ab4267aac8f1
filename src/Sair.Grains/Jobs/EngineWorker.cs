using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Engine;
using Sair.Grains.Placement;
using Sair.Grains.Pools;
using Sair.Grains.Telemetry;

namespace Sair.Grains.Jobs;

/// <summary>What a job grain hands to its silo's engine worker.</summary>
/// <param name="CheckpointPath">The checkpoint to resume from, or null to start fresh.</param>
public sealed record EngineWorkItem(string JobId, int Attempt, JobSpec Spec, string? CheckpointPath, int CheckpointIteration);

/// <summary>
/// Runs restorations (and, for <see cref="Training.TrainingRunner"/>, training jobs) on an engine silo, off the grain
/// scheduler: at most <see cref="EngineWorkerOptions.MaxConcurrentJobs"/> at a time, the rest queued in arrival order.
/// Publishes the silo's load for <see cref="EnginePlacementDirector"/> and reports each restoration back to its job grain.
/// </summary>
public sealed class EngineWorker(
    IRestorationEngine engine,
    IImageStore images,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    ILogger<EngineWorker> logger) : BackgroundService
{
    private readonly Channel<Run> _queue = Channel.CreateUnbounded<Run>();
    private readonly ConcurrentDictionary<string, Run> _runs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _loadChanged = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private int _active;

    private EngineWorkerOptions Options => options.Value;

    /// <summary>Jobs optimising now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Jobs waiting for a slot.</summary>
    public int Queued => Math.Max(0, _runs.Count - Active);

    /// <summary>Queues a restoration; a newer attempt of the same job replaces (stops) an older one.</summary>
    public void Enqueue(EngineWorkItem item)
    {
        // The run starts later on a worker thread: keep the submitting call's trace as its parent.
        var parent = Activity.Current?.Context ?? default;
        Enqueue(item.JobId, item.Attempt, run => RunAsync(item, run, parent));
    }

    /// <summary>
    /// Queues other engine work (a training job) for the same slots, so a silo never runs more than
    /// <see cref="EngineWorkerOptions.MaxConcurrentJobs"/> jobs of any kind. <paramref name="key"/> must not collide
    /// with restoration job ids; a newer <paramref name="attempt"/> under the same key replaces (stops) an older one.
    /// The work gets its run's cancellation source: cancelling it stops the run (as <see cref="Stop"/> does).
    /// </summary>
    public void Enqueue(string key, int attempt, Func<CancellationTokenSource, Task> work)
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

    /// <summary>True while the worker holds (queued or running) this attempt of the job (or other work's key).</summary>
    public bool Holds(string jobId, int attempt) =>
        _runs.TryGetValue(jobId, out var run) && run.Attempt == attempt && !run.Cancellation.IsCancellationRequested;

    /// <summary>
    /// Stops the job's run without reporting: the grain already knows why (the job was cancelled, or the grain is
    /// leaving this silo and the next activation will resume it).
    /// </summary>
    public void Stop(string jobId)
    {
        if (_runs.TryGetValue(jobId, out var run))
        {
            run.Stop();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stoppingToken.Register(_stopping.Cancel);
        using var gauges = GridTelemetry.TrackEngine(silo.Name, () => (Active, Queued));
        var slots = Enumerable.Range(0, Math.Max(1, Options.MaxConcurrentJobs)).Select(_ => ConsumeAsync(stoppingToken));
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
        _runs.TryRemove(new KeyValuePair<string, Run>(run.Key, run));
        run.Dispose();
        SignalLoadChanged();
    }

    private async Task RunAsync(EngineWorkItem item, CancellationTokenSource cancellation, ActivityContext parent)
    {
        var (jobId, attempt, spec, checkpointPath, checkpointIteration) = item;
        var token = cancellation.Token;
        var reports = grains.GetGrain<IRestorationJobReports>(jobId);
        using var span = GridTelemetry.ActivitySource.StartActivity("sair.job.run", ActivityKind.Internal, parent);
        span?.SetTag("sair.job.id", jobId);
        span?.SetTag("sair.job.attempt", attempt);
        span?.SetTag(GridTelemetry.PresetTag, spec.Options.Preset);
        var clock = Stopwatch.StartNew();
        var outcome = "stopped";
        try
        {
            if (!await reports.ReportStartedAsync(attempt, silo.Name))
            {
                return;
            }

            GridTelemetry.JobsStarted.Add(1, GridTelemetry.PresetTags(spec.Options.Preset));

            // An earlier attempt may have written the result and died before reporting it: never write it twice. The
            // result is written last, so its companions are there whenever it is.
            var (croppedPath, photoPath) = (CompanionPath(spec.OutputPath, "cropped_face"), CompanionPath(spec.OutputPath, "restored_img"));
            if (await images.ExistsAsync(spec.OutputPath, token))
            {
                await reports.ReportCompletedAsync(attempt, new JobResult(spec.OutputPath, spec.Options.Iterations, null, null,
                    CroppedFacePath: await images.ExistsAsync(croppedPath, token) ? croppedPath : null,
                    RestoredPhotoPath: await images.ExistsAsync(photoPath, token) ? photoPath : null));
                outcome = "completed";
                return;
            }

            var input = await images.GetAsync(spec.InputPath, token);
            if (ImageCompleteness.Problem(input) is { } cutShort)
            {
                throw new InvalidDataException($"The input photo {spec.InputPath} is refused: {cutShort}.");
            }

            var (references, note) = await ResolveReferencesAsync(spec, input, token);
            var resume = checkpointPath is null ? null : await LoadCheckpointAsync(jobId, attempt, checkpointPath, checkpointIteration, token);
            var slot = 0;

            // The grain owns a checkpoint once it accepts the report (it deletes the one before, and all of them when
            // the job finishes; a refused one it deletes itself). Until then the blob is this run's to clean up.
            async Task PersistCheckpointAsync(RestorationCheckpoint checkpoint, CancellationToken cancellationToken)
            {
                // A stopped run writes nothing more: its job may already be finished and its checkpoints deleted.
                token.ThrowIfCancellationRequested();
                var path = JobCheckpoints.Path(jobId, attempt, slot);
                bool accepted;
                try
                {
                    await images.PutAsync(path, checkpoint.State, cancellationToken);
                    accepted = await reports.ReportCheckpointAsync(attempt, checkpoint.Iteration, path);
                }
                catch
                {
                    await TryDeleteAsync(path);
                    throw;
                }

                if (!accepted)
                {
                    await cancellation.CancelAsync();
                    cancellationToken.ThrowIfCancellationRequested();
                }

                slot = 1 - slot;
            }

            if (resume is not null)
            {
                logger.LogInformation("Job {JobId} attempt {Attempt}: resuming from iteration {Iteration}", jobId, attempt, resume.Iteration);
            }

            var request = new RestorationRequest(jobId, input, references, spec.Options, resume, PersistCheckpointAsync, spec.Framing, spec.Face);
            var progress = new IterationCounter(
                new ProgressThrottle<RestorationProgress>(
                    value => reports.ReportProgressAsync(attempt, value), cancellation, Options.ProgressReportInterval, logger),
                spec.Options.Preset, references.Count > 0 ? _withIdentity : _withoutIdentity);
            var restored = await engine.RestoreAsync(request, progress, token);
            token.ThrowIfCancellationRequested();

            var cropped = await PutCompanionAsync(croppedPath, restored.CroppedFacePng, token);
            var photo = await PutCompanionAsync(photoPath, restored.RestoredPhotoPng, token);
            await images.PutAsync(spec.OutputPath, restored.ImagePng, token);
            await CacheReferenceLatentAsync(spec, references, restored);
            if (restored.IdentitySimilarity is { } similarity)
            {
                GridTelemetry.IdentitySimilarity.Record(similarity, GridTelemetry.PresetTags(spec.Options.Preset));
            }

            await reports.ReportCompletedAsync(attempt, new JobResult(
                spec.OutputPath, restored.Iterations, restored.FinalLoss, restored.IdentitySimilarity,
                restored.Note is { } engineNote ? (note is null ? engineNote : $"{note} {engineNote}") : note, cropped, photo,
                restored.IdentityNet, restored.LossHistory));
            outcome = "completed";
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            logger.LogInformation("Job {JobId} attempt {Attempt}: stopped on silo {Silo}", jobId, attempt, silo.Name);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Job {JobId} attempt {Attempt} failed", jobId, attempt);
            outcome = "failed";
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            await ReportFailureAsync(reports, attempt, exception);
        }
        finally
        {
            GridTelemetry.JobDuration.Record(clock.Elapsed.TotalSeconds, GridTelemetry.OutcomeTags(spec.Options.Preset, outcome));
            span?.SetTag(GridTelemetry.OutcomeTag, outcome);
        }
    }

    /// <summary>
    /// Where a result's companion image goes: beside the result, its kind before the extension
    /// (<c>results/0001-ada.png</c> → <c>results/0001-ada.restored_img.png</c>).
    /// </summary>
    public static string CompanionPath(string outputPath, string kind)
    {
        var slash = outputPath.LastIndexOf('/');
        var dot = outputPath.LastIndexOf('.');
        var stem = dot > slash ? outputPath[..dot] : outputPath;
        return $"{stem}.{kind}.png";
    }

    /// <summary>
    /// The checkpoint to resume from, or null to start over when it is gone: a run whose report was lost deletes its
    /// unacknowledged checkpoint (it cannot tell whether the grain took it), which costs the work done, not the job.
    /// </summary>
    private async Task<RestorationCheckpoint?> LoadCheckpointAsync(
        string jobId, int attempt, string path, int iteration, CancellationToken token)
    {
        try
        {
            return new RestorationCheckpoint(iteration, await images.GetAsync(path, token));
        }
        catch (FileNotFoundException)
        {
            logger.LogWarning("Job {JobId} attempt {Attempt}: checkpoint {Path} is gone; starting from the beginning",
                jobId, attempt, path);
            return null;
        }
    }

    private async Task TryDeleteAsync(string path)
    {
        try
        {
            await images.DeleteAsync(path, CancellationToken.None);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not delete checkpoint {Path}", path);
        }
    }

    private async Task<string?> PutCompanionAsync(string path, byte[]? content, CancellationToken token)
    {
        if (content is null)
        {
            return null;
        }

        await images.PutAsync(path, content, token);
        return path;
    }

    private async Task ReportFailureAsync(IRestorationJobReports reports, int attempt, Exception exception)
    {
        try
        {
            await reports.ReportFailedAsync(attempt, $"{exception.GetType().Name}: {exception.Message}");
        }
        catch (Exception reportException)
        {
            // The grain's watchdog re-queues a run it no longer finds here, so an unreported failure is retried.
            logger.LogWarning(reportException, "Could not report the failure of attempt {Attempt}", attempt);
        }
    }

    /// <summary>
    /// Attaches the reference inversion the engine computed to its pool reference, so one reference is inverted once
    /// and reused by every job of that person. A failure here costs only a later projection, never the job.
    /// </summary>
    private async Task CacheReferenceLatentAsync(JobSpec spec, IReadOnlyList<ReferenceFace> references, RestorationOutcome restored)
    {
        if (restored.ReferenceLatent is not { } latent || spec.References.PoolName is not { } poolName
            || references.Count == 0 || references[0].Latent is not null)
        {
            return;
        }

        try
        {
            await grains.GetGrain<IReferencePoolGrain>(poolName).AttachLatentAsync(references[0].ReferenceId, latent);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Could not cache the inversion of reference {ReferenceId} in pool {Pool}",
                references[0].ReferenceId, poolName);
        }
    }

    /// <summary>The job's reference faces, and a note for the result when the pool's best match was not good enough.</summary>
    private async Task<(IReadOnlyList<ReferenceFace> Faces, string? Note)> ResolveReferencesAsync(JobSpec spec, byte[] input, CancellationToken token)
    {
        var selection = spec.References;
        if (selection.WithoutIdentity)
        {
            return ([], ReferenceSelection.NoReferenceNote);
        }

        if (!selection.ReferencePaths.IsDefaultOrEmpty)
        {
            var explicitFaces = new List<ReferenceFace>();
            foreach (var path in selection.ReferencePaths.Take(selection.MaxReferences))
            {
                explicitFaces.Add(new ReferenceFace(path, await images.GetAsync(path, token), null));
            }

            return (explicitFaces, null);
        }

        var poolName = selection.PoolName!;
        var pool = grains.GetGrain<IReferencePoolGrain>(poolName);
        var person = selection.Person;
        if (person is null)
        {
            var matches = await AcrossFailoverAsync(() => pool.MatchPhotoAsync(input, 1, spec.Framing, spec.Options.Face), token);
            if (matches.IsDefaultOrEmpty)
            {
                throw new InvalidOperationException(
                    $"Pool '{poolName}' has no references to match the face in '{spec.InputPath}': enroll the person first or name them.");
            }

            if (matches[0].Similarity < selection.MatchThreshold)
            {
                var unmatched = $"no one in pool '{poolName}' matches above {selection.MatchThreshold:0.00} " +
                    $"(best: {matches[0].Person} at {matches[0].Similarity:0.00})";
                return selection.SkipUnmatched
                    ? throw new InvalidOperationException($"{unmatched}: skipped, as the album asked. Enroll the person or lower the threshold.")
                    : ([], $"{unmatched}: restored without the identity term");
            }

            person = matches[0].Person;
        }

        var references = await AcrossFailoverAsync(() => pool.ListAsync(person), token);
        if (references.IsDefaultOrEmpty)
        {
            throw new InvalidOperationException($"Pool '{poolName}' has no references for '{person}': enroll some first.");
        }

        var faces = new List<ReferenceFace>();
        foreach (var reference in references.Take(selection.MaxReferences))
        {
            var latent = reference.LatentPath is null ? null : await images.GetAsync(reference.LatentPath, token);
            faces.Add(new ReferenceFace(
                reference.ReferenceId, await images.GetAsync(reference.AlignedFacePath, token), reference.Embedding, latent));
        }

        return (faces, null);
    }

    /// <summary>
    /// Calls a grain on another silo, retrying for a few seconds while a silo failure settles: until the cluster has
    /// declared the silo dead, calls may be forwarded to its activations and rejected, which must not fail the job.
    /// </summary>
    private static async Task<T> AcrossFailoverAsync<T>(Func<Task<T>> call, CancellationToken token)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await call();
            }
            catch (Exception exception) when (tries < 5 && exception is OrleansMessageRejectionException or SiloUnavailableException)
            {
                await Task.Delay(TimeSpan.FromSeconds(tries), token);
            }
        }
    }

    private async Task PublishLoadAsync(CancellationToken stoppingToken)
    {
        var board = grains.GetGrain<IEngineLoadBoardGrain>(0);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await board.ReportAsync(new EngineLoad(
                    silo.SiloAddress, Active, Queued, Math.Max(1, Options.MaxConcurrentJobs), DateTimeOffset.UtcNow,
                    _withIdentity.Seconds, _withoutIdentity.Seconds));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogDebug(exception, "Could not publish the engine load; retrying");
            }

            try
            {
                await _loadChanged.WaitAsync(Options.LoadReportInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Moving averages of seconds per iteration, with and without the identity term (0: not measured yet).</summary>
    private readonly IterationTimes _withIdentity = new();
    private readonly IterationTimes _withoutIdentity = new();

    private void SignalLoadChanged()
    {
        if (_loadChanged.CurrentCount == 0)
        {
            _loadChanged.Release();
        }
    }

    /// <summary>
    /// Counts every iteration the engine ran once in the grid's telemetry, before the throttle drops any report; the
    /// first report of a resumed run stands for one iteration past its checkpoint.
    /// </summary>
    private sealed class IterationCounter(IProgress<RestorationProgress> inner, string preset, IterationTimes times) : IProgress<RestorationProgress>
    {
        private int _lastIteration = -1;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _lastAt;

        public void Report(RestorationProgress value)
        {
            var previous = Interlocked.Exchange(ref _lastIteration, value.Iteration);
            var ran = previous < 0 ? 1 : value.Iteration - previous;
            if (ran > 0)
            {
                GridTelemetry.Iterations.Add(ran, GridTelemetry.PresetTags(preset));
                // Timed between reports only: the first report also carries the run's set-up (decoding, alignment,
                // a reference's inversion), which is not per iteration.
                var now = _clock.Elapsed;
                if (previous >= 0)
                {
                    times.Add((now - _lastAt).TotalSeconds / ran);
                }

                _lastAt = now;
            }

            inner.Report(value);
        }
    }

    /// <summary>A moving average of seconds per iteration over a silo's runs (thread-safe; slots report concurrently).</summary>
    private sealed class IterationTimes
    {
        private readonly Lock _gate = new();
        private double _seconds;

        public double? Seconds
        {
            get
            {
                lock (_gate)
                {
                    return _seconds > 0 ? _seconds : null;
                }
            }
        }

        public void Add(double seconds)
        {
            if (!double.IsFinite(seconds) || seconds <= 0)
            {
                return;
            }

            lock (_gate)
            {
                // About the last 200 iterations weigh in.
                _seconds = _seconds == 0 ? seconds : _seconds + (seconds - _seconds) / 200;
            }
        }
    }

    private sealed record Run(string Key, int Attempt, Func<CancellationTokenSource, Task> Work, CancellationTokenSource Cancellation) : IDisposable
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

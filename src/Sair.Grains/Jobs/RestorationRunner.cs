using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Ports;
using Sair.Grains.Telemetry;

namespace Sair.Grains.Jobs;

/// <summary>What a restoration job grain hands to its silo's <see cref="RestorationRunner"/>.</summary>
/// <param name="CheckpointPath">The checkpoint to resume from, or null to start fresh.</param>
public sealed record EngineWorkItem(string JobId, int Attempt, JobSpec Spec, string? CheckpointPath, int CheckpointIteration);

/// <summary>
/// Runs restoration attempts on an engine silo in the <see cref="EngineWorker"/>'s slots (off the grain scheduler),
/// beside <see cref="Training.TrainingRunner"/>: loads the input, resolves the references
/// (<see cref="ReferenceResolver"/>), runs the <see cref="IRestorationEngine"/>, writes checkpoints and the result to
/// the image store, and reports each step back to the job grain through <see cref="IRestorationJobReports"/>.
/// </summary>
public sealed class RestorationRunner(
    EngineWorker worker,
    IRestorationEngine engine,
    IImageStore images,
    ReferenceResolver references,
    EngineIterationTimes times,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    ILogger<RestorationRunner> logger)
{
    /// <summary>Queues an attempt in the engine worker; a newer attempt of the same job replaces (stops) an older one.</summary>
    public void Enqueue(EngineWorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        // The run starts later on a worker thread: keep the submitting call's trace as its parent.
        var parent = Activity.Current?.Context ?? default;
        worker.Enqueue(new EngineRunKey(EngineRunKind.Restoration, item.JobId), item.Attempt, run => RunAsync(item, run, parent));
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

            GridMetrics.JobsStarted.Add(1, GridMetrics.PresetTags(spec.Options.Preset));

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

            var (faces, note) = await references.ResolveAsync(spec, input, token);
            var resume = checkpointPath is null ? null : await LoadCheckpointAsync(jobId, attempt, checkpointPath, checkpointIteration, token);
            var slot = 0;

            // The grain owns a checkpoint once it accepts the report (it deletes the one before, and all of them when
            // the job finishes; a refused one it deletes itself). Until then the blob is this run's to clean up.
            async Task PersistCheckpointAsync(CheckpointBlob checkpoint, CancellationToken cancellationToken)
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

            var request = new RestorationRequest(jobId, input, faces, spec.Options, resume, PersistCheckpointAsync, spec.Framing, spec.Face);
            var progress = new IterationCounter(
                new ProgressThrottle<RestorationProgress>(
                    value => reports.ReportProgressAsync(attempt, value), cancellation, options.Value.ProgressReportInterval, logger),
                spec.Options.Preset, times, withIdentity: faces.Count > 0);
            var restored = await engine.RestoreAsync(request, progress, token);
            token.ThrowIfCancellationRequested();

            var cropped = await PutCompanionAsync(croppedPath, restored.CroppedFacePng, token);
            var photo = await PutCompanionAsync(photoPath, restored.RestoredPhotoPng, token);

            // The last fence: a run whose job moved on (a newer attempt elsewhere) writes no result beside it.
            if (!await reports.IsCurrentAsync(attempt))
            {
                logger.LogInformation("Job {JobId} attempt {Attempt}: superseded before writing its result; stopping", jobId, attempt);
                outcome = "superseded";
                return;
            }

            await images.PutAsync(spec.OutputPath, restored.ImagePng, token);
            logger.LogInformation("Job {JobId} attempt {Attempt}: result written to {Path} on silo {Silo}", jobId, attempt, spec.OutputPath, silo.Name);
            await references.CacheLatentAsync(spec, faces, restored);
            if (restored.IdentitySimilarity is { } similarity)
            {
                GridMetrics.IdentitySimilarity.Record(similarity, GridMetrics.PresetTags(spec.Options.Preset));
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
        catch (Exception exception) when (Transience.IsTransient(exception))
        {
            // The grid's failure, not the photo's: the job tries again from its checkpoint after a backoff (its watchdog
            // does, should this report be lost too).
            logger.LogWarning(exception, "Job {JobId} attempt {Attempt} cut short by a transient failure; its job retries it", jobId, attempt);
            outcome = "interrupted";
            await reports.TryReportInterruptedAsync(attempt, exception, logger);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Job {JobId} attempt {Attempt} failed", jobId, attempt);
            outcome = "failed";
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            await reports.TryReportFailedAsync(attempt, $"{exception.GetType().Name}: {exception.Message}", logger);
        }
        finally
        {
            GridMetrics.JobDuration.Record(clock.Elapsed.TotalSeconds, GridMetrics.OutcomeTags(spec.Options.Preset, outcome));
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
    private async Task<CheckpointBlob?> LoadCheckpointAsync(
        string jobId, int attempt, string path, int iteration, CancellationToken token)
    {
        try
        {
            return new CheckpointBlob(iteration, await images.GetAsync(path, token));
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


    /// <summary>
    /// Counts every iteration the engine ran once in the grid's telemetry, before the throttle drops any report; the
    /// first report of a resumed run stands for one iteration past its checkpoint.
    /// </summary>
    private sealed class IterationCounter(IProgress<RestorationProgress> inner, string preset, EngineIterationTimes times, bool withIdentity) : IProgress<RestorationProgress>
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
                GridMetrics.Iterations.Add(ran, GridMetrics.PresetTags(preset));
                // Timed between reports only: the first report also carries the run's set-up (decoding, alignment,
                // a reference's inversion), which is not per iteration.
                var now = _clock.Elapsed;
                if (previous >= 0)
                {
                    times.Add(withIdentity, (now - _lastAt).TotalSeconds / ran);
                }

                _lastAt = now;
            }

            inner.Report(value);
        }
    }
}

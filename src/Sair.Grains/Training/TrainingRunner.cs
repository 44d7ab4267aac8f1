using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Jobs;
using Sair.Grains.Telemetry;

namespace Sair.Grains.Training;

/// <summary>
/// Runs training jobs on an engine silo in the engine worker's slots (off the grain scheduler) and reports each run
/// back to its job grain. Checks the job's paths where they will be read, so a path that only exists on the client's
/// machine fails the job with a message instead of an engine stack trace.
/// </summary>
public sealed class TrainingRunner(
    EngineWorker worker,
    IServiceProvider services,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<EngineWorkerOptions> options,
    ILogger<TrainingRunner> logger)
{
    // A cancelled run still saves its checkpoint while the job may already be started again: one run per folder.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _folders = new(StringComparer.Ordinal);

    /// <summary>Queues a run in the engine worker; a newer attempt of the same job replaces (stops) an older one.</summary>
    public void Enqueue(TrainingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parent = Activity.Current?.Context ?? default;
        worker.Enqueue(new EngineRunKey(EngineRunKind.Training, request.JobId), request.Attempt, run => RunAsync(request, run, parent));
    }

    private async Task RunAsync(TrainingRequest request, CancellationTokenSource run, ActivityContext parent)
    {
        var (jobId, attempt, spec, _) = request;
        var token = run.Token;
        var reports = grains.GetGrain<ITrainingJobReports>(jobId);
        using var span = GridTelemetry.ActivitySource.StartActivity("sair.training.run", ActivityKind.Internal, parent);
        span?.SetTag("sair.job.id", jobId);
        span?.SetTag("sair.job.attempt", attempt);
        span?.SetTag("sair.training.kind", spec.Kind.ToString());
        try
        {
            if (!await reports.ReportStartedAsync(attempt, silo.Name))
            {
                return;
            }

            var engine = services.GetService<ITrainingEngine>() ?? throw new InvalidOperationException(
                $"Engine silo {silo.Name} has no training engine: run training on engine silos of Sair.Silo (Sair:Silo:Role=engine).");
            CheckPaths(spec);
            var folder = _folders.GetOrAdd(spec.OutputFolder, _ => new SemaphoreSlim(1, 1));
            await folder.WaitAsync(token);
            try
            {
                var progress = new TrainingMetrics(new ProgressThrottle<TrainingProgress>(
                    value => reports.ReportProgressAsync(attempt, value), run, options.Value.ProgressReportInterval, logger), silo.Name);
                logger.LogInformation("Training job {JobId} attempt {Attempt}: {Kind} into {Folder}", jobId, attempt, spec.Kind, spec.OutputFolder);
                var outcome = spec.Kind == TrainingKind.Prior
                    ? await engine.TrainPriorAsync(request, progress, token)
                    : await engine.FitEmotionsAsync(request, progress, token);
                await reports.ReportCompletedAsync(attempt, outcome);
            }
            finally
            {
                folder.Release();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            logger.LogInformation("Training job {JobId} attempt {Attempt}: stopped on silo {Silo}", jobId, attempt, silo.Name);
        }
        catch (Exception exception) when (Transience.IsTransient(exception) && exception is not IOException { InnerException: null })
        {
            // The grid's failure (a call lost, storage unreachable), not the data's (a plain IOException here is the
            // data folder's): the job tries again from its checkpoint after a backoff.
            logger.LogWarning(exception, "Training job {JobId} attempt {Attempt} cut short by a transient failure; its job retries it", jobId, attempt);
            await reports.TryReportInterruptedAsync(attempt, exception, logger);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Training job {JobId} attempt {Attempt} failed", jobId, attempt);
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            await reports.TryReportFailedAsync(attempt, exception is InvalidOperationException or DirectoryNotFoundException or FileNotFoundException
                ? exception.Message
                : $"{exception.GetType().Name}: {exception.Message}", logger);
        }
    }

    private void CheckPaths(TrainingJobSpec spec)
    {
        const string where = "paths are read where the engine silos run: this machine for the local silo, a volume every engine silo mounts in a cluster";
        if (spec.Kind == TrainingKind.Prior && !Directory.Exists(spec.DataFolder))
        {
            throw new DirectoryNotFoundException(
                $"The data folder '{spec.DataFolder}' does not exist on engine silo {silo.Name} ({where}): give a folder of aligned face images there.");
        }

        if (spec.GeneratorPath is { } generator && !File.Exists(generator))
        {
            throw new FileNotFoundException(
                $"The generator '{generator}' does not exist on engine silo {silo.Name} ({where}): give a StyleGAN2 checkpoint there, or leave it out to use the silo's own.");
        }
    }

    /// <summary>
    /// Counts every image a prior run shows in the grid's telemetry (before the throttle drops any report), and records
    /// each new FFD measurement; passes every report on.
    /// </summary>
    private sealed class TrainingMetrics(IProgress<TrainingProgress> inner, string siloName) : IProgress<TrainingProgress>
    {
        private long _images = -1;
        private long? _ffdStep;

        public void Report(TrainingProgress value)
        {
            var previous = Interlocked.Exchange(ref _images, value.ImagesSeen);
            // A fresh run's first report (step 1) counts its images; a resumed run's first report only sets the base
            // (its earlier images were counted by the attempt that showed them).
            var shown = previous >= 0 ? value.ImagesSeen - previous : value.Step <= 1 ? value.ImagesSeen : 0;
            if (shown > 0)
            {
                GridMetrics.TrainingImages.Add(shown);
            }

            if (value is { Ffd: { } ffd, FfdStep: { } step } && step != _ffdStep)
            {
                _ffdStep = step;
                GridMetrics.TrainingFfd(siloName, ffd);
            }

            inner.Report(value);
        }
    }
}

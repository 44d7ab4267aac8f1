using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Jobs;

namespace Sair.Grains.Albums;

/// <summary>Album settings (section "Sair:Albums").</summary>
public sealed class AlbumOptions
{
    public const string Section = "Sair:Albums";

    /// <summary>
    /// How often an album with unfinished photos asks their jobs for status. Asking is also what revives a job whose
    /// silo died: the call activates it on another engine silo, where it resumes from its checkpoint.
    /// </summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);
}

[GenerateSerializer, Alias("sair.AlbumState")]
public sealed class AlbumState
{
    [Id(0)] public AlbumSpec? Spec { get; set; }
    [Id(1)] public List<PhotoResult> Photos { get; set; } = [];
}

public sealed class AlbumGrain(
    [PersistentState("album", GridStorage.Albums)] IPersistentState<AlbumState> album,
    IOptions<AlbumOptions> options,
    ILogger<AlbumGrain> logger) : Grain, IAlbumGrain, IAlbumJobSink
{
    private TaskCompletionSource _changed = NewChangeSignal();
    private IGrainTimer? _reconciler;

    private string AlbumId => this.GetPrimaryKeyString();

    private List<PhotoResult> Photos => album.State.Photos;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Photos.Any(p => !p.State.IsFinished()))
        {
            EnsureReconciler();
        }

        return Task.CompletedTask;
    }

    public async Task<AlbumProgress> SubmitAsync(AlbumSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (album.State.Spec is { } existing)
        {
            if (!existing.PhotoPaths.SequenceEqual(spec.PhotoPaths, StringComparer.Ordinal))
            {
                throw new InvalidOperationException(
                    $"Album '{AlbumId}' was submitted with other photos: use a new album id for a different album.");
            }
        }
        else
        {
            album.State.Spec = spec;
            album.State.Photos = [.. spec.PhotoPaths.Select((path, index) =>
                new PhotoResult(index, path, JobId(index), JobState.NotStarted, null, null, null))];
            await album.WriteStateAsync();
        }

        // Job starts are idempotent, so a resubmission after a crash mid-fan-out only starts the photos left out.
        await StartNotStartedAsync();
        EnsureReconciler();
        return Progress();
    }

    public Task<AlbumProgress> GetProgressAsync() => Task.FromResult(Progress());

    public Task<ImmutableArray<PhotoResult>> ListResultsAsync() => Task.FromResult(Photos.ToImmutableArray());

    public async IAsyncEnumerable<PhotoResult> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reported = new HashSet<int>();
        while (album.State.Spec is not null)
        {
            var changed = _changed.Task;
            foreach (var photo in Photos.Where(p => p.State.IsFinished() && reported.Add(p.Index)).ToList())
            {
                yield return photo;
            }

            if (reported.Count == Photos.Count)
            {
                yield break;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    public async Task<AlbumProgress> CancelAsync()
    {
        var unfinished = Photos.Where(p => !p.State.IsFinished()).ToList();
        var statuses = await Task.WhenAll(unfinished.Select(async photo =>
            photo.State == JobState.NotStarted
                ? null
                : await GrainFactory.GetGrain<IRestorationJobGrain>(photo.JobId).CancelAsync()));
        for (var i = 0; i < unfinished.Count; i++)
        {
            var photo = unfinished[i];
            Photos[photo.Index] = statuses[i] is { } status
                ? With(photo, status)
                : photo with { State = JobState.Cancelled, Error = "cancelled" };
        }

        await SaveAndSignalAsync();
        return Progress();
    }

    public async Task OnJobFinishedAsync(JobStatus status)
    {
        if (status.Album is not { } owner || owner.AlbumId != AlbumId || owner.Index >= Photos.Count)
        {
            logger.LogWarning("Album {AlbumId}: ignoring a report for job {JobId} that is not one of its photos", AlbumId, status.JobId);
            return;
        }

        var photo = Photos[owner.Index];
        if (!photo.State.IsFinished())
        {
            Photos[owner.Index] = With(photo, status);
            await SaveAndSignalAsync();
        }
    }

    private async Task StartNotStartedAsync()
    {
        var spec = album.State.Spec!;
        var pending = Photos.Where(p => p.State == JobState.NotStarted).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        // All starts in flight at once; each photo's failure is its own.
        var starts = pending.Select(photo => (Photo: photo, Task: GrainFactory.GetGrain<IRestorationJobGrain>(photo.JobId).StartAsync(
            new JobSpec(photo.PhotoPath, OutputPath(spec, photo), spec.References, spec.Options, new AlbumPhoto(AlbumId, photo.Index), spec.Framing))))
            .ToList();
        foreach (var (photo, task) in starts)
        {
            try
            {
                Photos[photo.Index] = With(photo, await task);
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
            {
                logger.LogWarning(exception, "Album {AlbumId}: photo {Index} ({Path}) refused", AlbumId, photo.Index, photo.PhotoPath);
                Photos[photo.Index] = photo with { State = JobState.Failed, Error = exception.Message };
            }
            catch (Exception exception)
            {
                // Transient (no engine silo yet, a silo going away): the reconciler starts it again.
                logger.LogWarning(exception, "Album {AlbumId}: photo {Index} could not be started yet", AlbumId, photo.Index);
            }
        }

        await SaveAndSignalAsync();
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        await StartNotStartedAsync();
        var unfinished = Photos.Where(p => p.State is not JobState.NotStarted && !p.State.IsFinished()).ToList();
        var polls = unfinished.Select(photo => (Photo: photo, Task: GrainFactory.GetGrain<IRestorationJobGrain>(photo.JobId).GetStatusAsync())).ToList();
        var changed = false;
        foreach (var (photo, task) in polls)
        {
            try
            {
                var status = await task;
                if (status.State != photo.State)
                {
                    Photos[photo.Index] = With(photo, status);
                    changed = true;
                }
            }
            catch (Exception exception)
            {
                logger.LogInformation(exception, "Album {AlbumId}: job {JobId} did not answer; asking again next round", AlbumId, photo.JobId);
            }
        }

        if (changed)
        {
            await SaveAndSignalAsync();
        }
    }

    private async Task SaveAndSignalAsync()
    {
        await album.WriteStateAsync();
        var changed = _changed;
        _changed = NewChangeSignal();
        changed.TrySetResult();
        if (Progress().IsFinished)
        {
            _reconciler?.Dispose();
            _reconciler = null;
            logger.LogInformation("Album {AlbumId}: finished ({Progress})", AlbumId, Progress());
        }
    }

    private void EnsureReconciler()
    {
        if (_reconciler is null && !Progress().IsFinished)
        {
            var interval = options.Value.ReconcileInterval;
            _reconciler = this.RegisterGrainTimer(ReconcileAsync, new GrainTimerCreationOptions(interval, interval) { KeepAlive = true });
        }
    }

    private AlbumProgress Progress() => new(
        AlbumId,
        Photos.Count,
        Photos.Count(p => p.State is JobState.NotStarted or JobState.Queued),
        Photos.Count(p => p.State == JobState.Running),
        Photos.Count(p => p.State == JobState.Completed),
        Photos.Count(p => p.State == JobState.Failed),
        Photos.Count(p => p.State == JobState.Cancelled));

    private string JobId(int index) => $"{AlbumId}/{index:D4}";

    private static string OutputPath(AlbumSpec spec, PhotoResult photo) =>
        $"{spec.OutputFolder.TrimEnd('/')}/{photo.Index:D4}-{Path.GetFileNameWithoutExtension(photo.PhotoPath)}.png";

    private static PhotoResult With(PhotoResult photo, JobStatus status) =>
        photo with
        {
            State = status.State, ResultPath = status.ResultPath, Error = status.Error, IdentitySimilarity = status.IdentitySimilarity,
            Note = status.Note, CroppedFacePath = status.CroppedFacePath, RestoredPhotoPath = status.RestoredPhotoPath,
        };

    private static TaskCompletionSource NewChangeSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

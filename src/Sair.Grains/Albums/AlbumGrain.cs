using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Faces;
using Sair.Grains.Jobs;
using Sair.Grains.Tenancy;

namespace Sair.Grains.Albums;

/// <summary>Album settings (section "Sair:Albums").</summary>
public sealed class AlbumOptions
{
    public const string Section = SettingKeys.Albums;

    /// <summary>
    /// How often an album with unfinished photos asks their jobs for status. Asking is also what revives a job whose
    /// silo died: the call activates it on another engine silo, where it resumes from its checkpoint.
    /// </summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);
}

[GenerateSerializer, Alias("sair.AlbumState")]
public sealed class AlbumState : IOwnedState
{
    [Id(0)] public AlbumSpec? Spec { get; set; }
    [Id(1)] public List<PhotoResult> Photos { get; set; } = [];

    /// <summary>Group photos whose restored faces were put back together (or could not be: see the faces' notes).</summary>
    [Id(2)] public List<int> ComposedPhotos { get; set; } = [];

    /// <summary>The tenant the album belongs to (null on a grid without tenants).</summary>
    [Id(3)] public string? Tenant { get; set; }
}

public sealed class AlbumGrain(
    [PersistentState("album", GridStorage.Albums)] IPersistentState<AlbumState> album,
    IOptions<AlbumOptions> options,
    IOptions<GridLimits> limits,
    ILogger<AlbumGrain> logger) : Grain, IAlbumGrain, IAlbumJobSink, IAlbumOwnership, ITenantOwned
{
    private TaskCompletionSource _changed = NewChangeSignal();

    /// <summary>The latest progress of each running face (not persisted: it is refreshed every second while jobs run).</summary>
    private readonly Dictionary<int, AlbumJobProgress> _running = [];

    /// <summary>How long <see cref="FollowAsync"/> gathers changes before sending an update.</summary>
    private static readonly TimeSpan FollowCoalescing = TimeSpan.FromMilliseconds(200);
    private IGrainTimer? _reconciler;

    private string AlbumId => this.GetPrimaryKeyString();

    private List<PhotoResult> Photos => album.State.Photos;

    public string? Tenant => album.State.Tenant;

    public Task<bool> ClaimAsync(string tenant) => Ownership.ClaimAsync(album, tenant);

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
        limits.Value.Check(spec);
        if ((album.State.Tenant ?? TenantContext.Current) is { } tenant)
        {
            await CheckTenantSpecAsync(spec, tenant);
            album.State.Tenant ??= tenant;
        }

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
            album.State.Photos = [.. spec.Jobs().Select((face, index) =>
                new PhotoResult(index, spec.PhotoPaths[face.Photo], JobId(index), JobState.NotStarted, null, null, null,
                    PhotoIndex: face.Photo, FaceIndex: face.Face?.Index ?? 0))];
            await album.WriteStateAsync();
        }

        // Job starts are idempotent, so a resubmission after a crash mid-fan-out only starts the photos left out; it
        // also gives the failed ones another try.
        return await RetryFailedAsync();
    }

    public async Task<AlbumProgress> RetryFailedAsync()
    {
        if (album.State.Spec is null)
        {
            throw new InvalidOperationException($"Album '{AlbumId}' was never submitted: there is nothing to retry.");
        }

        var failed = Photos.Where(p => p.State == JobState.Failed).ToList();
        foreach (var photo in failed)
        {
            Photos[photo.Index] = photo with { JobId = RetryJobId(photo), State = JobState.NotStarted, Error = null, Note = null };
        }

        if (failed.Count > 0)
        {
            logger.LogInformation("Album {AlbumId}: retrying {Count} failed photo(s)", AlbumId, failed.Count);
            await album.WriteStateAsync();
        }

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

    public async IAsyncEnumerable<AlbumUpdate> FollowAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reported = new HashSet<int>();
        while (album.State.Spec is not null)
        {
            var changed = _changed.Task;
            var finished = Photos.Where(p => p.State.IsFinished() && reported.Add(p.Index)).ToImmutableArray();
            var running = _running.Where(r => !Photos[r.Key].State.IsFinished()).Select(r => r.Value).OrderBy(r => r.Index).ToImmutableArray();
            yield return new AlbumUpdate(Progress(), finished, running);
            if (reported.Count == Photos.Count)
            {
                yield break;
            }

            await changed.WaitAsync(cancellationToken);
            await Task.Delay(FollowCoalescing, cancellationToken);
        }
    }

    public Task OnJobProgressAsync(int index, JobProgress progress)
    {
        if (index < 0 || index >= Photos.Count || Photos[index].JobId != progress.JobId || Photos[index].State.IsFinished() || progress.State.IsFinished())
        {
            return Task.CompletedTask;
        }

        _running[index] = new AlbumJobProgress(index, progress.Iteration, progress.TotalIterations, progress.Loss);
        if (progress.State == JobState.Running && Photos[index].State is JobState.NotStarted or JobState.Queued)
        {
            // Shown at once; persisted with the next change (the reconciler would learn it too).
            Photos[index] = Photos[index] with { State = JobState.Running };
        }

        Signal();
        return Task.CompletedTask;
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
            ReleaseTenantJob(photo.JobId);
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
        if (status.JobId != photo.JobId)
        {
            // A photo's earlier (retried) job, or a job that is not this album's: its report changes nothing.
            logger.LogInformation("Album {AlbumId}: ignoring a report of job {JobId}, not photo {Index}'s current job {Current}",
                AlbumId, status.JobId, owner.Index, photo.JobId);
            return;
        }

        if (!photo.State.IsFinished())
        {
            Photos[owner.Index] = With(photo, status);
            await SaveAndSignalAsync();
        }

        if (status.State.IsFinished())
        {
            ReleaseTenantJob(status.JobId);
        }
    }

    private ITenantJobsGrain JobsOf(string tenant) => GrainFactory.GetGrain<ITenantJobsGrain>(tenant);

    /// <summary>Gives a finished (or refused, or cancelled) face's place back to the album's tenant.</summary>
    private void ReleaseTenantJob(string jobId)
    {
        if (album.State.Tenant is { } tenant)
        {
            JobsOf(tenant).ReleaseAsync(TenantJobs.Restoration(jobId)).Ignore();
        }
    }

    /// <summary>
    /// On a grid with tenants an album reads and writes only its own folder (<c>albums/&lt;id&gt;/</c>, which the
    /// image store's doors give to its tenant alone) and restores only towards its tenant's pools.
    /// </summary>
    private async Task CheckTenantSpecAsync(AlbumSpec spec, string tenant)
    {
        var folder = $"albums/{AlbumId}/";
        if (AlbumId.Contains('/', StringComparison.Ordinal))
        {
            throw new GridAccessDeniedException($"'{AlbumId}' is not an album id on a grid with tenants: album ids hold no '/'.");
        }

        var selections = spec.Jobs().Select(face => face.References).Append(spec.References).ToList();
        var paths = spec.PhotoPaths.Concat(selections.SelectMany(s => s.ReferencePaths.IsDefault ? [] : s.ReferencePaths)).Append(spec.OutputFolder);
        if (paths.FirstOrDefault(path => !path.StartsWith(folder, StringComparison.Ordinal) || path.Split('/').Contains("..")) is { } outside)
        {
            throw new GridAccessDeniedException(
                $"'{outside}' is outside the album's folder {folder}: on a grid with tenants an album's photos, references and results stay in it.");
        }

        foreach (var pool in selections.Select(s => s.PoolName).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (!await GrainFactory.GetGrain<IPoolOwnership>(pool).ClaimAsync(tenant))
            {
                throw new GridAccessDeniedException($"Pool '{pool}' belongs to another tenant: an album restores only towards its own tenant's pools.");
            }
        }
    }

    private async Task StartNotStartedAsync()
    {
        var spec = album.State.Spec!;

        // The jobs belong to the album's tenant, whoever's call (or timer) starts them.
        TenantContext.ActFor(album.State.Tenant);
        var pending = Photos.Where(p => p.State == JobState.NotStarted).ToList();
        if (pending.Count > 0 && album.State.Tenant is { } tenant)
        {
            // A tenant runs at most Sair:Limits:MaxTenantJobs jobs at once; the faces left wait for the reconciler.
            var granted = (await JobsOf(tenant).AcquireAsync([.. pending.Select(p => TenantJobs.Restoration(p.JobId))])).ToHashSet();
            pending = [.. pending.Where(p => granted.Contains(TenantJobs.Restoration(p.JobId)))];
        }

        if (pending.Count == 0)
        {
            return;
        }

        // All starts in flight at once; each face's failure is its own.
        var jobs = spec.Jobs();
        var starts = pending.Select(photo => (Photo: photo, Task: GrainFactory.GetGrain<IRestorationJobGrain>(photo.JobId).StartAsync(
            new JobSpec(photo.PhotoPath, OutputPath(spec, photo), jobs[photo.Index].References, spec.Options,
                new AlbumPhoto(AlbumId, photo.Index), spec.Framing, jobs[photo.Index].Face))))
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
                ReleaseTenantJob(photo.JobId);
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
        await ComposeFinishedGroupPhotosAsync();
        await album.WriteStateAsync();
        foreach (var finished in _running.Keys.Where(i => Photos[i].State.IsFinished()).ToList())
        {
            _running.Remove(finished);
        }

        Signal();
        if (Progress().IsFinished)
        {
            _reconciler?.Dispose();
            _reconciler = null;
            logger.LogInformation("Album {AlbumId}: finished ({Progress})", AlbumId, Progress());
        }
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = NewChangeSignal();
        changed.TrySetResult();
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

    /// <summary>
    /// Puts the restored faces of every group photo whose faces all finished back into that photo, once, before the
    /// album tells anyone: whoever sees the last face of a photo finished sees the composed photo too. A photo whose
    /// composition fails keeps each face's own paste-back, and its faces say why.
    /// </summary>
    private async Task ComposeFinishedGroupPhotosAsync()
    {
        var spec = album.State.Spec!;
        if (spec.Faces.IsDefaultOrEmpty || spec.Framing != Ports.FaceFraming.Unaligned)
        {
            return;
        }

        var jobs = spec.Jobs();
        foreach (var photo in Photos.GroupBy(p => p.PhotoIndex).Where(g => g.Count() > 1 && !album.State.ComposedPhotos.Contains(g.Key)))
        {
            var faces = photo.ToList();
            if (!faces.All(f => f.State.IsFinished()))
            {
                continue;
            }

            album.State.ComposedPhotos.Add(photo.Key);
            var restored = faces.Where(f => f is { State: JobState.Completed, ResultPath: not null }).ToList();
            if (restored.Count < 2)
            {
                // One face restored: its own job's paste-back is the photo.
                continue;
            }

            var path = $"{spec.OutputFolder.TrimEnd('/')}/photo-{photo.Key:D4}-{Path.GetFileNameWithoutExtension(spec.PhotoPaths[photo.Key])}.restored_img.png";
            string? composed = null;
            string? failure = null;
            try
            {
                composed = await GrainFactory.GetGrain<IPhotoComposerGrain>($"{AlbumId}/photo-{photo.Key:D4}").ComposeAsync(new ComposeSpec(
                    spec.PhotoPaths[photo.Key],
                    [.. restored.Select(f => new ComposedFace(jobs[f.Index].Face!, f.ResultPath!))],
                    spec.Options.Upscale,
                    path));
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Album {AlbumId}: the faces of photo {Photo} could not be put back together", AlbumId, photo.Key);
                failure = $"the photo's {restored.Count} restored faces could not be pasted into one photo ({exception.Message}); restored_imgs/ holds this face only";
            }

            foreach (var face in restored)
            {
                Photos[face.Index] = composed is not null
                    ? face with { RestoredPhotoPath = composed }
                    : face with { Note = face.Note is null ? failure : $"{face.Note} {failure}" };
            }
        }
    }

    private string JobId(int index) => $"{AlbumId}/{index:D4}";

    /// <summary>The job of a photo's next try: {album}/{index}-r1, -r2, … (a finished job grain never runs again).</summary>
    private string RetryJobId(PhotoResult photo)
    {
        var first = JobId(photo.Index);
        var retries = photo.JobId.StartsWith(first + "-r", StringComparison.Ordinal)
            && int.TryParse(photo.JobId[(first.Length + 2)..], System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
        return $"{first}-r{retries + 1}";
    }

    private static string OutputPath(AlbumSpec spec, PhotoResult photo)
    {
        var stem = Path.GetFileNameWithoutExtension(photo.PhotoPath);
        return spec.Faces.IsDefaultOrEmpty
            ? $"{spec.OutputFolder.TrimEnd('/')}/{photo.Index:D4}-{stem}.png"
            : $"{spec.OutputFolder.TrimEnd('/')}/{photo.Index:D4}-{stem}_{photo.FaceIndex:D2}.png";
    }

    private static PhotoResult With(PhotoResult photo, JobStatus status) =>
        photo with
        {
            State = status.State, ResultPath = status.ResultPath, Error = status.Error, IdentitySimilarity = status.IdentitySimilarity,
            Note = status.Note, CroppedFacePath = status.CroppedFacePath, RestoredPhotoPath = status.RestoredPhotoPath,
            IdentityNet = status.IdentityNet, LossHistory = status.LossHistory,
        };

    private static TaskCompletionSource NewChangeSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using System.Collections.Immutable;
using Orleans.Concurrency;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;

namespace Sair.Grains.Albums;

/// <summary>
/// A whole album (keyed by album id) fanned out as one restoration job per face (<see cref="AlbumSpec.Faces"/>; one per
/// photo for specs without faces). A face that fails is reported with its reason and never stops the others; the faces
/// of a group photo are pasted back into one photo once all of them finished.
/// </summary>
[Alias("sair.IAlbumGrain")]
public interface IAlbumGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts every photo's job. Submitting the same album again (same photos) starts nothing new and returns the
    /// current progress; a different photo list under the same id is refused.
    /// </summary>
    [Alias("Submit")]
    Task<AlbumProgress> SubmitAsync(AlbumSpec spec);

    [Alias("GetProgress")]
    Task<AlbumProgress> GetProgressAsync();

    /// <summary>Each photo's result as it finishes (those already finished first); ends when the album is done.</summary>
    [Alias("Watch")]
    IAsyncEnumerable<PhotoResult> WatchAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The whole album through one stream: an update whenever faces finish or running faces progress (coalesced, a few a
    /// second at most), each with the album's counts, the faces finished since the last update (those already finished
    /// first) and the running faces' progress. Ends after the update in which the last face finished.
    /// </summary>
    [Alias("Follow")]
    IAsyncEnumerable<AlbumUpdate> FollowAsync(CancellationToken cancellationToken = default);

    /// <summary>Every photo's current outcome, in album order.</summary>
    [Alias("ListResults")]
    Task<ImmutableArray<PhotoResult>> ListResultsAsync();

    /// <summary>Cancels every unfinished photo; finished ones keep their results.</summary>
    [Alias("Cancel")]
    Task<AlbumProgress> CancelAsync();

    /// <summary>
    /// Starts every failed photo again, each as a new job (the failed job's record stays, its late reports are
    /// ignored); completed and cancelled photos keep theirs. A resubmission of the same album does the same.
    /// </summary>
    [Alias("RetryFailed")]
    Task<AlbumProgress> RetryFailedAsync();
}

/// <summary>How restoration jobs tell their album they finished (one-way: a lost message is caught by the album's watchdog).</summary>
[Alias("sair.IAlbumJobSink")]
public interface IAlbumJobSink : IGrainWithStringKey
{
    [OneWay, Alias("OnJobFinished")]
    Task OnJobFinishedAsync(JobStatus status);

    /// <summary>A running job's progress (one-way, throttled by the job): what <see cref="IAlbumGrain.FollowAsync"/> streams.</summary>
    [OneWay, Alias("OnJobProgress")]
    Task OnJobProgressAsync(int index, JobProgress progress);
}

/// <summary>One step of an album as <see cref="IAlbumGrain.FollowAsync"/> streams it.</summary>
/// <param name="Finished">Faces finished since the previous update.</param>
/// <param name="Running">The progress of every face running now.</param>
[GenerateSerializer, Immutable, Alias("sair.AlbumUpdate")]
public sealed record AlbumUpdate(
    [property: Id(0)] AlbumProgress Progress,
    [property: Id(1)] ImmutableArray<PhotoResult> Finished,
    [property: Id(2)] ImmutableArray<AlbumJobProgress> Running);

/// <summary>A running face's progress within its album.</summary>
[GenerateSerializer, Immutable, Alias("sair.AlbumJobProgress")]
public sealed record AlbumJobProgress(
    [property: Id(0)] int Index,
    [property: Id(1)] int Iteration,
    [property: Id(2)] int TotalIterations,
    [property: Id(3)] double? Loss);

/// <summary>An album to restore.</summary>
/// <param name="PhotoPaths">Image-store paths of the photos, in album order.</param>
/// <param name="References">Where every photo's identity references come from.</param>
/// <param name="Options">Optimisation options for every photo.</param>
/// <param name="OutputFolder">Image-store folder the results are written into.</param>
/// <param name="Framing">How the photos frame their faces; every photo's job is given it.</param>
/// <param name="Faces">
/// The faces to restore, each its own job with its own references (the album's match, made once, where it fans out:
/// the engine does not match again); empty: one job per photo with <paramref name="References"/>.
/// </param>
[GenerateSerializer, Immutable, Alias("sair.AlbumSpec")]
public sealed record AlbumSpec(
    [property: Id(0)] ImmutableArray<string> PhotoPaths,
    [property: Id(1)] ReferenceSelection References,
    [property: Id(2)] RestorationOptions Options,
    [property: Id(3)] string OutputFolder,
    [property: Id(4)] FaceFraming Framing = FaceFraming.Unaligned,
    [property: Id(5)] ImmutableArray<AlbumFace> Faces = default)
{
    /// <summary>The jobs this album runs: its faces, or one per photo with the album's references.</summary>
    public IReadOnlyList<AlbumFace> Jobs() => Faces.IsDefaultOrEmpty
        ? [.. PhotoPaths.Select((_, index) => new AlbumFace(index, null, References))]
        : Faces;

    public void Validate()
    {
        if (PhotoPaths.IsDefaultOrEmpty)
        {
            throw new ArgumentException("AlbumSpec.PhotoPaths is empty: list the image-store paths of the album's photos.");
        }

        if (PhotoPaths.Distinct(StringComparer.Ordinal).Count() != PhotoPaths.Length)
        {
            throw new ArgumentException("AlbumSpec.PhotoPaths lists a photo twice: each photo is restored once per album.");
        }

        if (string.IsNullOrWhiteSpace(OutputFolder))
        {
            throw new ArgumentException("AlbumSpec.OutputFolder is empty: name the image-store folder for the results.");
        }

        References.Validate();
        Options.Validate();
        FramingCheck.Validate(Framing, nameof(AlbumSpec));
        if (!Faces.IsDefaultOrEmpty)
        {
            foreach (var face in Faces)
            {
                face.Validate(PhotoPaths.Length, Framing);
            }

            var located = Faces.Where(f => f.Face is not null).Select(f => (f.Photo, f.Face!.Index)).ToList();
            if (located.Distinct().Count() != located.Count)
            {
                throw new ArgumentException("AlbumSpec.Faces lists a face twice: each face is restored once per album.");
            }
        }
    }
}

/// <summary>One face of an album: which photo, where in it, and towards whom.</summary>
/// <param name="Photo">Index of the photo in <see cref="AlbumSpec.PhotoPaths"/>.</param>
/// <param name="Face">Where the face is in an ordinary photo; null for an aligned photo (its own face).</param>
/// <param name="References">This face's references: the person it was matched to, or none.</param>
[GenerateSerializer, Immutable, Alias("sair.AlbumFace")]
public sealed record AlbumFace(
    [property: Id(0)] int Photo,
    [property: Id(1)] FaceLocation? Face,
    [property: Id(2)] ReferenceSelection References)
{
    public void Validate(int photos, FaceFraming framing)
    {
        if (Photo < 0 || Photo >= photos)
        {
            throw new ArgumentException($"AlbumFace names photo {Photo}, but the album has {photos} photo(s).");
        }

        if (Face is not null)
        {
            if (framing != FaceFraming.Unaligned)
            {
                throw new ArgumentException("AlbumFace.Face locates a face in an ordinary photo; an aligned photo is its own face.");
            }

            Face.Validate();
        }

        ArgumentNullException.ThrowIfNull(References);
        References.Validate();
    }
}

/// <summary>Counts of the album's photos by state.</summary>
[GenerateSerializer, Immutable, Alias("sair.AlbumProgress")]
public sealed record AlbumProgress(
    [property: Id(0)] string AlbumId,
    [property: Id(1)] int Total,
    [property: Id(2)] int Pending,
    [property: Id(3)] int Running,
    [property: Id(4)] int Completed,
    [property: Id(5)] int Failed,
    [property: Id(6)] int Cancelled)
{
    public bool IsFinished => Total > 0 && Completed + Failed + Cancelled == Total;
}

/// <summary>One photo's outcome.</summary>
/// <param name="State">The photo's job state (<see cref="JobState.NotStarted"/> until its job accepted it).</param>
/// <param name="ResultPath">Where the restored aligned face is, once completed.</param>
/// <param name="Error">Why the photo failed.</param>
/// <param name="Note">What a user should know about a completed photo, e.g. that no pool match passed the threshold.</param>
/// <param name="CroppedFacePath">The aligned face cut from an unaligned photo; null for aligned photos (their own crop).</param>
/// <param name="RestoredPhotoPath">
/// The whole photo with the restored face pasted back — with every restored face of a group photo, once all its faces
/// finished; null for aligned photos.
/// </param>
/// <param name="PhotoIndex">The photo this face belongs to (index in <see cref="AlbumSpec.PhotoPaths"/>).</param>
/// <param name="FaceIndex">The face's place in its photo (left to right), 0 for aligned photos.</param>
/// <param name="IdentityNet">The net that measured <paramref name="IdentitySimilarity"/>.</param>
/// <param name="LossHistory">The objective along the run (at most 200 points), once completed.</param>
[GenerateSerializer, Immutable, Alias("sair.PhotoResult")]
public sealed record PhotoResult(
    [property: Id(0)] int Index,
    [property: Id(1)] string PhotoPath,
    [property: Id(2)] string JobId,
    [property: Id(3)] JobState State,
    [property: Id(4)] string? ResultPath,
    [property: Id(5)] string? Error,
    [property: Id(6)] double? IdentitySimilarity,
    [property: Id(7)] string? Note = null,
    [property: Id(8)] string? CroppedFacePath = null,
    [property: Id(9)] string? RestoredPhotoPath = null,
    [property: Id(10)] int PhotoIndex = 0,
    [property: Id(11)] int FaceIndex = 0,
    [property: Id(12)] string? IdentityNet = null,
    [property: Id(13)] float[]? LossHistory = null);

using System.Collections.Immutable;
using Orleans.Concurrency;
using Sair.Grains.Engine;
using Sair.Grains.Jobs;

namespace Sair.Grains.Albums;

/// <summary>
/// A whole album (keyed by album id) fanned out as one restoration job per photo. A photo that fails is reported with
/// its reason and never stops the others.
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

    /// <summary>Every photo's current outcome, in album order.</summary>
    [Alias("ListResults")]
    Task<ImmutableArray<PhotoResult>> ListResultsAsync();

    /// <summary>Cancels every unfinished photo; finished ones keep their results.</summary>
    [Alias("Cancel")]
    Task<AlbumProgress> CancelAsync();
}

/// <summary>How restoration jobs tell their album they finished (one-way: a lost message is caught by the album's watchdog).</summary>
[Alias("sair.IAlbumJobSink")]
public interface IAlbumJobSink : IGrainWithStringKey
{
    [OneWay, Alias("OnJobFinished")]
    Task OnJobFinishedAsync(JobStatus status);
}

/// <summary>An album to restore.</summary>
/// <param name="PhotoPaths">Image-store paths of the photos, in album order.</param>
/// <param name="References">Where every photo's identity references come from.</param>
/// <param name="Options">Optimisation options for every photo.</param>
/// <param name="OutputFolder">Image-store folder the results are written into.</param>
/// <param name="Framing">How the photos frame their faces; every photo's job is given it.</param>
[GenerateSerializer, Immutable, Alias("sair.AlbumSpec")]
public sealed record AlbumSpec(
    [property: Id(0)] ImmutableArray<string> PhotoPaths,
    [property: Id(1)] ReferenceSelection References,
    [property: Id(2)] RestorationOptions Options,
    [property: Id(3)] string OutputFolder,
    [property: Id(4)] FaceFraming Framing = FaceFraming.Unaligned)
{
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
/// <param name="RestoredPhotoPath">The whole photo with the restored face pasted back; null for aligned photos.</param>
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
    [property: Id(9)] string? RestoredPhotoPath = null);

using System.Globalization;
using System.Text.RegularExpressions;
using Sair.Client.Grid;
using Sair.Client.Photos;
using Sair.Grains.Albums;
using Sair.Grains.Engine;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;
using Sair.Grains.Telemetry;

namespace Sair.Client.Restoration;

/// <summary>Where the identity references of an album come from.</summary>
/// <param name="Pool">A reference pool; with <paramref name="Person"/> null each photo gets its best match.</param>
/// <param name="ReferencePhotos">Explicit reference photos (already checked), used instead of a pool.</param>
public sealed record ReferenceChoice(
    string? Pool, string? Person, IReadOnlyList<AcceptedPhoto> ReferencePhotos, double MatchThreshold = 0, bool SkipUnmatched = false,
    bool NoIdentity = false, bool ReferencesAligned = false)
{
    /// <summary>The person the reference photos of an album are enrolled as, in the album's own pool.</summary>
    public const string ReferencePerson = "reference";

    /// <summary>The pool that holds an album's --reference photos: <c>refs-&lt;album id&gt;</c>.</summary>
    public static string AlbumPool(string albumId) => $"refs-{albumId}";

    /// <summary>No reference at all: restored without the identity term (--no-identity).</summary>
    public static ReferenceChoice None { get; } = new(null, null, [], NoIdentity: true);

    public string Describe() => NoIdentity ? "no identity (--no-identity)"
        : Pool is null
        ? $"{ReferencePhotos.Count} reference photo(s)"
        : Person is null ? $"pool '{Pool}' (best match per photo)" : $"pool '{Pool}', person '{Person}'";
}

/// <summary>
/// Uploads an album's photos, matches them against the pool, submits the album grain and stores the manifest. The
/// photos' framing goes with them: aligned faces are matched whole, without face detection.
/// </summary>
public static partial class AlbumSubmitter
{
    /// <summary>A fresh album id: the kind, UTC time and a short random suffix (sortable, safe in store paths).</summary>
    public static string NewAlbumId(string kind) =>
        string.Create(CultureInfo.InvariantCulture, $"{kind}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x10000):x4}");

    public static bool IsValidAlbumId(string id) => AlbumIdPattern().IsMatch(id);

    public static async Task<AlbumManifest> SubmitAsync(
        IGridConnection grid,
        string albumId,
        IntakeResult photos,
        ReferenceChoice references,
        RestorationOptions options,
        FaceFraming framing,
        CancellationToken cancellationToken)
    {
        // The root of the album's trace: the album grain and every job it starts continue it (Orleans propagates it).
        using var activity = GridTelemetry.ActivitySource.StartActivity("sair submit album");
        activity?.SetTag("sair.album", albumId);
        var selection = await ResolveReferencesAsync(grid, albumId, references, cancellationToken);
        var manifestPhotos = new List<ManifestPhoto>();
        var submitted = new List<string>();
        foreach (var photo in photos.Accepted)
        {
            string? person = references.Person;
            double? similarity = null;
            if (references is { Pool: { } pool, Person: null })
            {
                try
                {
                    var matches = await grid.Grains.GetGrain<IReferencePoolGrain>(pool).MatchPhotoAsync(photo.Png, 1, framing, options.Face);
                    if (matches.IsDefaultOrEmpty)
                    {
                        throw new CommandFailedException($"Pool '{pool}' is empty: enroll references first ('sair pool enroll {pool} <person> <photo>').");
                    }

                    (person, similarity) = (matches[0].Person, matches[0].Similarity);
                }
                catch (FaceNotFoundException exception)
                {
                    manifestPhotos.Add(new ManifestPhoto(-1, photo.Source, photo.Name, null, photo.Width, photo.Height, null, null, photo.Note,
                        $"no face found ({exception.Message})"));
                    continue;
                }
            }

            var index = submitted.Count;
            var path = ImageStorePlan.Input(albumId, index, photo.Name);
            await grid.Images.PutAsync(path, photo.Png, cancellationToken);
            submitted.Add(path);
            manifestPhotos.Add(new ManifestPhoto(index, photo.Source, photo.Name, path, photo.Width, photo.Height, person, similarity, photo.Note, null));
        }

        manifestPhotos.AddRange(photos.Rejected.Select(r => new ManifestPhoto(-1, r.Source, null, null, 0, 0, null, null, null, r.Reason)));
        var manifest = new AlbumManifest(albumId, DateTimeOffset.UtcNow, references.Describe(), options, manifestPhotos);
        // The manifest goes first: an album that exists on the grid can always be explained by 'album results'.
        await grid.Images.PutAsync(AlbumManifest.StorePath(albumId), manifest.ToJson(), cancellationToken);
        if (submitted.Count > 0)
        {
            try
            {
                await grid.Grains.GetGrain<IAlbumGrain>(albumId).SubmitAsync(
                    new AlbumSpec([.. submitted], selection, options, ImageStorePlan.Results(albumId), framing));
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
            {
                throw new CommandFailedException($"The grid refused album '{albumId}': {exception.Message}", exception);
            }
        }

        return manifest;
    }

    private static async Task<ReferenceSelection> ResolveReferencesAsync(
        IGridConnection grid, string albumId, ReferenceChoice references, CancellationToken cancellationToken)
    {
        if (references.NoIdentity)
        {
            return ReferenceSelection.None();
        }

        if (references.Pool is { } pool)
        {
            if (references.Person is { } person)
            {
                var enrolled = await grid.Grains.GetGrain<IReferencePoolGrain>(pool).ListAsync(person);
                if (enrolled.IsDefaultOrEmpty)
                {
                    throw new CommandFailedException(
                        $"Pool '{pool}' has no references for '{person}': enroll some ('sair pool enroll {pool} \"{person}\" <photo>') or drop --person.");
                }
            }

            return ReferenceSelection.FromPool(pool, references.Person) with
            {
                MatchThreshold = references.MatchThreshold,
                SkipUnmatched = references.SkipUnmatched,
            };
        }

        // --reference photos are enrolled exactly as 'sair pool enroll' does (face detected and aligned to the
        // generator's template, or taken whole with --aligned-reference), into a pool of the album's own.
        var albumPool = grid.Grains.GetGrain<IReferencePoolGrain>(ReferenceChoice.AlbumPool(albumId));
        foreach (var reference in references.ReferencePhotos)
        {
            try
            {
                await albumPool.EnrollAsync(ReferenceChoice.ReferencePerson, reference.Png,
                    references.ReferencesAligned ? FaceFraming.Ffhq : FaceFraming.Unaligned);
            }
            catch (FaceNotFoundException exception)
            {
                throw new CommandFailedException(
                    $"reference {reference.Source}: no usable face ({exception.Message}). Give a photo in which the face is visible" +
                    (references.ReferencesAligned ? "." : ", or --aligned-reference if it is already an aligned face crop."), exception);
            }
        }

        return ReferenceSelection.FromPool(ReferenceChoice.AlbumPool(albumId), ReferenceChoice.ReferencePerson) with
        {
            MaxReferences = Math.Max(1, references.ReferencePhotos.Count),
        };
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")]
    private static partial Regex AlbumIdPattern();
}

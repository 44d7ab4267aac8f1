using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Sair.Client.Grid;
using Sair.Client.Photos;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Faces;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;
using Sair.Grains.Telemetry;

namespace Sair.Client.Restoration;

/// <summary>Where the identity references of an album come from.</summary>
/// <param name="Pool">A reference pool; with <paramref name="Person"/> null each face gets its best match.</param>
/// <param name="ReferencePhotos">Explicit reference photos (already checked), used instead of a pool.</param>
/// <param name="MatchThreshold">The lowest match that lends a face its identity; null: the identity net's calibrated one (<see cref="MatchThresholds"/>).</param>
public sealed record ReferenceChoice(
    string? Pool, string? Person, IReadOnlyList<AcceptedPhoto> ReferencePhotos, double? MatchThreshold = null, bool SkipUnmatched = false,
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
        : Person is null
            ? MatchThreshold is { } threshold
                ? string.Create(CultureInfo.InvariantCulture, $"pool '{Pool}' (best match per face, threshold {threshold:0.00})")
                : $"pool '{Pool}' (best match per face, the identity net's calibrated threshold)"
            : $"pool '{Pool}', person '{Person}'";
}

/// <summary>Which faces of a photo are restored.</summary>
public enum FacesToRestore
{
    /// <summary>Every face at least <see cref="FacePolicy.MinFaceSize"/> wide (GFPGAN's default).</summary>
    All = 0,

    /// <summary>Only the face with the largest box (<c>--largest-face</c>).</summary>
    Largest = 1,

    /// <summary>Only the face nearest the photo's centre (<c>--only-center-face</c>).</summary>
    Center = 2,
}

/// <summary>Which faces of each ordinary photo an album restores.</summary>
/// <param name="MinFaceSize">Faces whose detected box is narrower than this (input pixels) are left as they are.</param>
public sealed record FacePolicy(FacesToRestore Which = FacesToRestore.All, int MinFaceSize = FacePolicy.DefaultMinFaceSize)
{
    /// <summary>
    /// 16 px: the smallest face SAIR's ×4 setting restores to 64 px; smaller detections in a group photo are mostly
    /// background faces a restoration cannot recover.
    /// </summary>
    public const int DefaultMinFaceSize = 16;

    public static FacePolicy Default { get; } = new();
}

/// <summary>
/// Uploads an album's photos, finds every face of each ordinary photo, matches each face to the pool (once: the job
/// carries the match, the engine does not match again), submits the album grain with one job per face and stores the
/// manifest. Aligned photos are one face each, matched whole, without face detection.
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
        CancellationToken cancellationToken,
        FacePolicy? faces = null)
    {
        faces ??= FacePolicy.Default;
        // The root of the album's trace: the album grain and every job it starts continue it (Orleans propagates it).
        using var activity = GridTelemetry.ActivitySource.StartActivity("sair submit album");
        activity?.SetTag("sair.album", albumId);
        var selection = await ResolveReferencesAsync(grid, albumId, references, cancellationToken);
        var matcher = new FaceMatcher(grid, references, selection);
        var manifestPhotos = new List<ManifestPhoto>();
        var photoPaths = new List<string>();
        var jobs = new List<AlbumFace>();
        foreach (var photo in photos.Accepted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IReadOnlyList<(FaceLocation? Location, float[]? Embedding, string? Net)> found;
            if (framing == FaceFraming.Unaligned)
            {
                var detected = await grid.Grains.GetGrain<IFaceFinderGrain>(0).FindAsync(photo.Png);
                var large = detected.IsDefaultOrEmpty ? [] : detected.Where(f => f.Location.Width >= faces.MinFaceSize).ToList();
                if (large.Count == 0)
                {
                    manifestPhotos.Add(new ManifestPhoto(-1, photo.Source, photo.Name, null, photo.Width, photo.Height, photo.Note,
                        NoFaceReason(detected, faces, photo)));
                    continue;
                }

                found = [.. Selected(large, faces, photo).Select(f => ((FaceLocation?)f.Location, (float[]?)f.Embedding, f.Net))];
            }
            else
            {
                // An aligned input is its own face: matched whole (MatchPhotoAsync embeds it without detection).
                found = [(null, null, null)];
            }

            var photoIndex = photoPaths.Count;
            var manifestFaces = new List<ManifestFace>();
            var photoJobs = new List<AlbumFace>();
            foreach (var (location, embedding, net) in found)
            {
                var faceIndex = location?.Index ?? 0;
                var box = location is null ? null : new FaceBox(location.X, location.Y, location.Width, location.Height);
                var match = await matcher.MatchAsync(photo, embedding, net, framing);
                if (match.Skipped is { } skipped)
                {
                    manifestFaces.Add(new ManifestFace(-1, faceIndex, box, null, match.Similarity, match.Net, null, null, skipped));
                    continue;
                }

                manifestFaces.Add(new ManifestFace(jobs.Count + photoJobs.Count, faceIndex, box, match.Person, match.Similarity, match.Net,
                    match.ReferencePath, match.Note, null));
                photoJobs.Add(new AlbumFace(photoIndex, location, match.Selection!));
            }

            if (photoJobs.Count == 0)
            {
                manifestPhotos.Add(new ManifestPhoto(-1, photo.Source, photo.Name, null, photo.Width, photo.Height, photo.Note,
                    "every face was skipped (--skip-unmatched): no one in the pool matched above the threshold", manifestFaces));
                continue;
            }

            var path = ImageStorePlan.Input(albumId, photoIndex, photo.Name);
            await grid.Images.PutAsync(path, photo.Png, cancellationToken);
            photoPaths.Add(path);
            jobs.AddRange(photoJobs);
            manifestPhotos.Add(new ManifestPhoto(photoIndex, photo.Source, photo.Name, path, photo.Width, photo.Height, photo.Note, null, manifestFaces));
        }

        manifestPhotos.AddRange(photos.Rejected.Select(r => new ManifestPhoto(-1, r.Source, null, null, 0, 0, null, r.Reason)));
        var manifest = new AlbumManifest(albumId, DateTimeOffset.UtcNow, references.Describe(), options, manifestPhotos);
        // The manifest goes first: an album that exists on the grid can always be explained by 'album results'.
        await grid.Images.PutAsync(AlbumManifest.StorePath(albumId), manifest.ToJson(), cancellationToken);
        if (photoPaths.Count > 0)
        {
            try
            {
                await grid.Grains.GetGrain<IAlbumGrain>(albumId).SubmitAsync(
                    new AlbumSpec([.. photoPaths], selection, options, ImageStorePlan.Results(albumId), framing, [.. jobs]));
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
            {
                throw new CommandFailedException($"The grid refused album '{albumId}': {exception.Message}", exception);
            }
        }

        return manifest;
    }

    /// <summary>Why none of a photo's faces can be restored: none found, or all narrower than the minimum.</summary>
    private static string NoFaceReason(ImmutableArray<PhotoFace> detected, FacePolicy policy, AcceptedPhoto photo) =>
        detected.IsDefaultOrEmpty
            ? $"no face found in the {photo.Width}×{photo.Height} photo: use a photo showing faces from the front, at least about " +
                "40 pixels wide; or, if it is an aligned face crop, restore it with --aligned"
            : string.Create(CultureInfo.InvariantCulture,
                $"{detected.Length} face(s) found, all narrower than --min-face-size {policy.MinFaceSize} px (the widest is {detected.Max(f => f.Location.Width):0} px): lower --min-face-size to restore them");

    /// <summary>The faces <paramref name="policy"/> keeps of those large enough, left to right (one face by the engine's own rule).</summary>
    private static IReadOnlyList<PhotoFace> Selected(List<PhotoFace> large, FacePolicy policy, AcceptedPhoto photo) => policy.Which switch
    {
        FacesToRestore.Largest => [FaceChoices.Pick(large, Box, FaceChoice.Largest, photo.Width, photo.Height)],
        FacesToRestore.Center => [FaceChoices.Pick(large, Box, FaceChoice.Center, photo.Width, photo.Height)],
        _ => large,
    };

    private static (double X, double Y, double Width, double Height) Box(PhotoFace face) =>
        (face.Location.X, face.Location.Y, face.Location.Width, face.Location.Height);

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
                MatchThreshold = references.MatchThreshold ?? 0,
                SkipUnmatched = references.SkipUnmatched,
            };
        }

        // --reference photos are enrolled exactly as 'sair pool enroll' does (face detected and aligned to the
        // generator's template, or taken whole with --aligned-reference), into a pool of the album's own.
        var albumPool = grid.Grains.GetGrain<IReferencePoolGrain>(ReferenceChoice.AlbumPool(albumId));
        foreach (var reference in references.ReferencePhotos)
        {
            cancellationToken.ThrowIfCancellationRequested();
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

    /// <summary>
    /// Decides each face's references: the album's choice as given (--no-identity, --reference photos, --person), or
    /// the pool's best match, which lends its identity only at or above the threshold. Remembers each person's first
    /// aligned reference (the one the engine starts from) for the comparison images.
    /// </summary>
    private sealed class FaceMatcher(IGridConnection grid, ReferenceChoice references, ReferenceSelection selection)
    {
        private readonly Dictionary<(string Pool, string Person), string?> _referencePaths = [];

        private string? _netOfPool;

        /// <summary>
        /// The threshold asked for, else the calibrated one of the net that made the embeddings for this kind of probe
        /// (a tiny aligned input or a face in a photo; 0 for a net not calibrated).
        /// </summary>
        private async Task<(double Value, string Source)> ThresholdAsync(string? net, bool tiny)
        {
            if (references.MatchThreshold is { } asked)
            {
                return (asked, "--match-threshold");
            }

            net ??= _netOfPool ??= await grid.Grains.GetGrain<IFaceFinderGrain>(0).GetIdentityNetAsync();
            var kind = tiny ? $"for inputs of at most {MatchThresholds.TinySide} px" : "for faces in photos";
            return MatchThresholds.For(net, tiny) is { } calibrated
                ? (calibrated, $"{net}'s calibrated threshold {kind}")
                : (0, $"{net} has no calibrated threshold");
        }

        public async Task<FaceMatch> MatchAsync(AcceptedPhoto photo, float[]? embedding, string? net, FaceFraming framing)
        {
            if (selection.WithoutIdentity)
            {
                return new FaceMatch(ReferenceSelection.None(), null, null, null, null, "restored without the identity term (--no-identity)", null);
            }

            var poolName = selection.PoolName!;
            var pool = grid.Grains.GetGrain<IReferencePoolGrain>(poolName);
            if (selection.Person is { } person)
            {
                // A named person (or the album's --reference photos) for every face; the match is shown, not used.
                double? toPerson = null;
                if (embedding is not null)
                {
                    var all = await pool.MatchAsync(embedding, int.MaxValue);
                    toPerson = all.FirstOrDefault(m => m.Person == person)?.Similarity;
                }

                return new FaceMatch(selection, person, toPerson, embedding is null ? null : net, await ReferencePathAsync(poolName, person), null, null);
            }

            ImmutableArray<PoolMatch> matches;
            try
            {
                matches = embedding is not null ? await pool.MatchAsync(embedding, 1) : await pool.MatchPhotoAsync(photo.Png, 1, framing);
            }
            catch (FaceNotFoundException exception)
            {
                return new FaceMatch(null, null, null, null, null, null, $"could not be matched ({exception.Message})");
            }

            if (matches.IsDefaultOrEmpty)
            {
                throw new CommandFailedException($"Pool '{poolName}' is empty: enroll references first ('sair pool enroll {poolName} <person> <photo>').");
            }

            var best = matches[0];
            var tiny = framing != FaceFraming.Unaligned && Math.Max(photo.Width, photo.Height) <= MatchThresholds.TinySide;
            var (threshold, source) = await ThresholdAsync(net, tiny);
            net ??= _netOfPool ??= await grid.Grains.GetGrain<IFaceFinderGrain>(0).GetIdentityNetAsync();
            if (best.Similarity < threshold)
            {
                var unmatched = string.Create(CultureInfo.InvariantCulture,
                    $"no one in pool '{poolName}' matches at {threshold:0.00} or above ({source}; closest: {best.Person} at {best.Similarity:0.000})");
                return references.SkipUnmatched
                    ? new FaceMatch(null, null, best.Similarity, net, null, null, $"{unmatched}: skipped (--skip-unmatched)")
                    : new FaceMatch(ReferenceSelection.None(), null, best.Similarity, net, null, $"{unmatched}: restored without the identity term", null);
            }

            return new FaceMatch(ReferenceSelection.FromPool(poolName, best.Person) with { MaxReferences = selection.MaxReferences },
                best.Person, best.Similarity, net, await ReferencePathAsync(poolName, best.Person), null, null);
        }

        private async Task<string?> ReferencePathAsync(string poolName, string person)
        {
            if (!_referencePaths.TryGetValue((poolName, person), out var path))
            {
                var enrolled = await grid.Grains.GetGrain<IReferencePoolGrain>(poolName).ListAsync(person);
                path = enrolled.IsDefaultOrEmpty ? null : enrolled[0].AlignedFacePath;
                _referencePaths[(poolName, person)] = path;
            }

            return path;
        }
    }

    /// <param name="Selection">The face's references for its job; null when the face is skipped.</param>
    private sealed record FaceMatch(
        ReferenceSelection? Selection, string? Person, double? Similarity, string? Net, string? ReferencePath, string? Note, string? Skipped);
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Sair.Grains.Ports;

namespace Sair.Client.Restoration;

/// <summary>
/// What the client knows about an album beyond the grain's state: where each photo came from, its safe output name,
/// who the pool matched, and the inputs refused before submission. Kept in the image store beside the album's inputs
/// (<c>albums/&lt;id&gt;/manifest.json</c>), so <c>album watch</c> and <c>album results</c> work from any machine.
/// </summary>
public sealed record AlbumManifest(
    string AlbumId,
    DateTimeOffset SubmittedAt,
    string References,
    RestorationOptions Options,
    IReadOnlyList<ManifestPhoto> Photos)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Enum options by name ("face": "center"); numbers written by older clients still read.
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string StorePath(string albumId) => $"{ImageStorePlan.AlbumFolder(albumId)}/manifest.json";

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static AlbumManifest FromJson(byte[] json) =>
        JsonSerializer.Deserialize<AlbumManifest>(json, Json) ?? throw new InvalidDataException("The album manifest is empty.");

    /// <summary>Loads the manifest of <paramref name="albumId"/>; explains when the album was not submitted by sair.</summary>
    public static async Task<AlbumManifest> LoadAsync(IImageStore images, string albumId, CancellationToken cancellationToken)
    {
        try
        {
            return FromJson(await images.GetAsync(StorePath(albumId), cancellationToken));
        }
        catch (FileNotFoundException)
        {
            throw new CommandFailedException(
                $"Album '{albumId}' is unknown to this grid (no {StorePath(albumId)}): check the id with 'sair jobs', " +
                "and that --cluster points where it was submitted.");
        }
    }
}

/// <summary>One input of an album.</summary>
/// <param name="Index">Position in the album's photo list, or -1 when the photo was not submitted (see <paramref name="Error"/>).</param>
/// <param name="StorePath">Image-store path of the normalised input; null when it was refused before upload.</param>
/// <param name="Faces">The photo's faces, each restored by its own job (or skipped, saying why).</param>
public sealed record ManifestPhoto(
    int Index,
    string Source,
    string? Name,
    string? StorePath,
    int Width,
    int Height,
    string? Note,
    string? Error,
    IReadOnlyList<ManifestFace>? Faces = null)
{
    /// <summary>
    /// The photo's faces; a manifest written before faces were listed (one job per photo, its index the photo's)
    /// reads as one face.
    /// </summary>
    public IReadOnlyList<ManifestFace> AllFaces => Faces ?? (Index >= 0 ? [new ManifestFace(Index, 0, null, null, null, null, null, null, null)] : []);
}

/// <summary>One face of an album photo, as the album matched it (once, at submission: the engine does not match again).</summary>
/// <param name="Job">The face's job in the album grain, or -1 when it was not submitted (see <paramref name="Skipped"/>).</param>
/// <param name="Face">Its place in the photo, left to right from 0 (the <c>_00</c> of its output names).</param>
/// <param name="Box">The detected box in input pixels; null for an aligned input (the whole image is the face).</param>
/// <param name="Person">Who it is restored towards; null when restored without identity.</param>
/// <param name="MatchSimilarity">Cosine of the face to <paramref name="Person"/>'s closest pool reference, by <paramref name="MatchNet"/>.</param>
/// <param name="MatchNet">The identity net the pool matched with.</param>
/// <param name="ReferencePath">Image-store path of the aligned reference face the engine starts from.</param>
/// <param name="Note">What the user should know, e.g. that no one matched above the threshold.</param>
/// <param name="Skipped">Why the face was not restored (e.g. --skip-unmatched).</param>
public sealed record ManifestFace(
    int Job,
    int Face,
    FaceBox? Box,
    string? Person,
    double? MatchSimilarity,
    string? MatchNet,
    string? ReferencePath,
    string? Note,
    string? Skipped);

/// <summary>A face's box in input pixels.</summary>
public sealed record FaceBox(double X, double Y, double Width, double Height);

/// <summary>
/// How the client lays its files out in the image store (the grains only ever see these paths):
/// <list type="bullet">
/// <item><c>albums/&lt;id&gt;/inputs/&lt;index&gt;-&lt;name&gt;.png</c>: each input, checked and re-encoded as RGB PNG by the client;</item>
/// <item><c>albums/&lt;id&gt;/references/&lt;name&gt;.png</c>: explicit <c>--reference</c> photos;</item>
/// <item><c>albums/&lt;id&gt;/results/</c>: the album grain's output folder, written by the engine silos;</item>
/// <item><c>albums/&lt;id&gt;/manifest.json</c>: the <see cref="AlbumManifest"/>.</item>
/// </list>
/// Pool photos are stored by the pool grain itself. Output files on the user's disk are written by the client from
/// these blobs, never by a silo.
/// </summary>
public static class ImageStorePlan
{
    public static string AlbumFolder(string albumId) => $"albums/{albumId}";

    public static string Input(string albumId, int index, string name) => $"{AlbumFolder(albumId)}/inputs/{index:D4}-{name}.png";

    public static string Results(string albumId) => $"{AlbumFolder(albumId)}/results";
}

/// <summary>The command cannot do what was asked; the message says why and what to do. Exit code 2.</summary>
public sealed class CommandFailedException(string message, Exception? inner = null) : Exception(message, inner);

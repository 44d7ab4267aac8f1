using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Sair.Grains.Ports;

namespace Sair.Testing;

/// <summary>
/// Test photos are text "face:PERSON:anything"; the embedding is a fixed vector per person (with a small per-photo
/// perturbation), so matching has a known answer. "chip:PERSON:anything" is a tiny aligned face: detection finds
/// nothing in it, but <see cref="EmbedAlignedAsync"/> embeds it like a face. "group:ANN,BOB:anything" is a photo of
/// several people, left to right. "broken:anything" fails with an exception of a type no client loads. Anything else
/// holds no face.
/// </summary>
public sealed class FakeFaceAnalyzer : IFaceAnalyzer
{
    public const int Dimensions = 16;

    public string IdentityNet => "fake-identity";

    /// <summary>Every aligned embedding asked for: the photo's text and its framing.</summary>
    public ConcurrentQueue<(string Photo, FaceFraming Framing)> AlignedCalls { get; } = new();

    /// <summary>Every detection asked for: the photo's text and which face was to be picked.</summary>
    public ConcurrentQueue<(string Photo, FaceChoice Choice)> DetectCalls { get; } = new();

    private int _rejections;

    /// <summary>The next this many detections fail as a call to an activation on a silo just gone does, until the cluster settles.</summary>
    public void RejectNextAnalyses(int count) => Volatile.Write(ref _rejections, count);

    public Task<FaceAnalysis> AnalyzeAsync(byte[] photo, FaceChoice choice, CancellationToken cancellationToken)
    {
        if (Interlocked.Decrement(ref _rejections) >= 0)
        {
            throw new SiloUnavailableException("fake analyzer: the silo of this activation is gone");
        }

        DetectCalls.Enqueue((Encoding.UTF8.GetString(photo), choice));
        var parts = Encoding.UTF8.GetString(photo).Split(':');
        if (parts[0] == "broken")
        {
            throw new FakeBackendException("fake analyzer: the backend behind it failed");
        }

        if (parts.Length < 3 || parts[0] != "face")
        {
            throw new FaceNotFoundException("fake analyzer: no face in the photo");
        }

        return Task.FromResult(new FaceAnalysis(Embed(parts), Encoding.UTF8.GetBytes($"aligned:{parts[1]}")));
    }

    public Task<float[]> EmbedAlignedAsync(byte[] photo, FaceFraming framing, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetString(photo);
        AlignedCalls.Enqueue((text, framing));
        var parts = text.Split(':');
        return parts.Length < 3 || parts[0] is not ("chip" or "face")
            ? throw new FaceNotFoundException("fake analyzer: not an aligned face")
            : Task.FromResult(Embed(parts));
    }

    public Task<ImmutableArray<PhotoFace>> FindFacesAsync(byte[] photo, CancellationToken cancellationToken)
    {
        var parts = Encoding.UTF8.GetString(photo).Split(':');
        string[] people = parts.Length < 3 ? [] : parts[0] switch
        {
            "face" => [parts[1]],
            "group" => parts[1].Split(','),
            _ => [],
        };
        return Task.FromResult(people.Select((person, index) => new PhotoFace(Location(index), Embed(["face", person, parts[2]]))).ToImmutableArray());
    }

    /// <summary>Where the fake puts face <paramref name="index"/> of a photo: 40 px boxes side by side.</summary>
    public static FaceLocation Location(int index) =>
        new(index, 10 + 50 * index, 10, 40, 40, [.. Enumerable.Range(0, FaceLocation.LandmarkValues).Select(i => (float)(50 * index + i % 40))]);

    private static float[] Embed(string[] parts)
    {
        var embedding = PersonEmbedding(parts[1]);
        var perturbation = PersonEmbedding(parts[2]);
        for (var i = 0; i < Dimensions; i++)
        {
            embedding[i] += 0.05f * perturbation[i];
        }

        return embedding;
    }

    public static float[] PersonEmbedding(string person)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(person));
        return [.. hash.Take(Dimensions).Select(b => (b - 127.5f) / 127.5f)];
    }
}

/// <summary>A failure of a type outside the grid's contract, as a storage SDK or the engine throws.</summary>
public sealed class FakeBackendException(string message) : Exception(message);

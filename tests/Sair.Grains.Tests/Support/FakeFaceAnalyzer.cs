using System.Security.Cryptography;
using System.Text;
using Sair.Grains.Engine;

namespace Sair.Grains.Tests.Support;

/// <summary>
/// Test photos are text "face:PERSON:anything"; the embedding is a fixed vector per person (with a small per-photo
/// perturbation), so matching has a known answer. Anything else holds no face.
/// </summary>
public sealed class FakeFaceAnalyzer : IFaceAnalyzer
{
    public const int Dimensions = 16;

    public Task<FaceAnalysis> AnalyzeAsync(byte[] photo, CancellationToken cancellationToken)
    {
        var parts = Encoding.UTF8.GetString(photo).Split(':');
        if (parts.Length < 3 || parts[0] != "face")
        {
            throw new FaceNotFoundException("fake analyzer: no face in the photo");
        }

        var embedding = PersonEmbedding(parts[1]);
        var perturbation = PersonEmbedding(parts[2]);
        for (var i = 0; i < Dimensions; i++)
        {
            embedding[i] += 0.05f * perturbation[i];
        }

        return Task.FromResult(new FaceAnalysis(embedding, Encoding.UTF8.GetBytes($"aligned:{parts[1]}")));
    }

    public static float[] PersonEmbedding(string person)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(person));
        return [.. hash.Take(Dimensions).Select(b => (b - 127.5f) / 127.5f)];
    }
}

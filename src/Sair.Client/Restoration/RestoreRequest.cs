using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sair.Client.Grid;
using Sair.Client.Photos;
using Sair.Grains.Ports;

namespace Sair.Client.Restoration;

/// <summary>
/// What one <c>sair restore</c> asks of the grid, as one hash: the photos (their normalised pixels, in order), the
/// references, the job options, the face policy and the grid. A rerun of the same command — after Ctrl-C, a crash of
/// the client or of the local silo — finds the album its first run submitted in the history by this fingerprint and
/// picks it up instead of computing it again.
/// </summary>
public static class RestoreRequest
{
    public static string Fingerprint(
        IntakeResult photos, ReferenceChoice references, RestorationOptions options, FaceFraming framing, FacePolicy faces, GridTarget target)
    {
        ArgumentNullException.ThrowIfNull(photos);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(target);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string? text)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(text ?? "\u2205"));
            hash.AppendData([0]);
        }

        void AddPhotos(IEnumerable<AcceptedPhoto> accepted)
        {
            foreach (var photo in accepted)
            {
                Add(photo.Name);
                Add(Convert.ToHexString(SHA256.HashData(photo.Png)));
            }
        }

        Add("restore/1");
        Add(target.Gateways is { } gateways ? string.Join(",", gateways) : "local");
        Add(target.ClusterId);
        Add(target.Engine?.Generator is { } generator ? Path.GetFullPath(generator) : null);
        Add(target.Engine?.IdentityNet);
        Add(JsonSerializer.Serialize(options));
        Add(framing.ToString());
        Add(JsonSerializer.Serialize(faces));
        Add(JsonSerializer.Serialize(references with { ReferencePhotos = [] }));
        AddPhotos(references.ReferencePhotos);
        Add("photos");
        AddPhotos(photos.Accepted);
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}

using System.Text;
using Sair.Client.Restoration;

namespace Sair.Client.Tests.Restoration;

public sealed class AlbumManifestTests
{
    [Fact]
    public void A_manifest_written_before_faces_were_listed_reads_each_submitted_photo_as_one_face()
    {
        // What a client of the previous version stored: one job per photo, its index the photo's, no faces.
        const string old = """
            {
              "albumId": "album-old",
              "submittedAt": "2026-12-05T10:00:00+00:00",
              "references": "pool 'family' (best match per photo)",
              "options": { "preset": "paper", "iterations": 3, "emotionStrength": 0, "seed": 0, "checkpointEvery": 3 },
              "photos": [
                { "index": 0, "source": "/in/a.jpg", "name": "a", "storePath": "albums/album-old/inputs/0000-a.png", "width": 32, "height": 32, "person": "ada", "matchSimilarity": 0.9 },
                { "index": -1, "source": "/in/b.txt", "width": 0, "height": 0, "error": "not an image" }
              ]
            }
            """;

        var manifest = AlbumManifest.FromJson(Encoding.UTF8.GetBytes(old));

        var face = Assert.Single(manifest.Photos[0].AllFaces);
        Assert.Equal((0, 0), (face.Job, face.Face));
        Assert.Empty(manifest.Photos[1].AllFaces);
    }
}

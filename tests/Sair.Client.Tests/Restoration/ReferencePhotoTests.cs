using System.Text.Json;
using Sair.Client.Restoration;
using Sair.Client.Tests.Support;
using Sair.Grains.Ports;
using Sair.Grains.Pools;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// <c>--reference</c> takes ordinary photos: each is enrolled into the album's own pool exactly as <c>sair pool
/// enroll</c> enrols a photo (face detected and aligned by the grid's analyzer), or taken whole with
/// <c>--aligned-reference</c>; a reference without a face is a clear error before anything is restored.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class ReferencePhotoTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-reference-photo-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_reference_photo_is_enrolled_as_a_pool_enrols_it_and_restores_the_album(bool aligned)
    {
        // Not square: an ordinary photo with the face in it (the sample reference set in a wider frame).
        var reference = Path.Combine(_work, "grandpa.png");
        using (var face = Image.Load<Rgb24>(TestImages.SampleReference("John_Simm.jpg")))
        using (var photo = new Image<Rgb24>(face.Width * 2, face.Height, new Rgb24(90, 120, 60)))
        {
            photo.Mutate(p => p.DrawImage(face, new Point(face.Width / 2, 0), 1f));
            if (aligned)
            {
                face.SaveAsPng(reference);
            }
            else
            {
                photo.SaveAsPng(reference);
            }
        }
        var output = Path.Combine(_work, "out");
        using var cli = new Support.Cli(grid.Connector);
        string[] flag = aligned ? ["--aligned-reference"] : [];

        var exit = await cli.RunAsync(["restore", "-i", TestImages.SamplePhoto("John_Simm-1.jpg"), "-o", output, "--reference", reference,
            "--iterations", "4", .. flag]);

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Success, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var albumId = report.RootElement.GetProperty("album").GetString()!;
        var enrolled = await grid.Grains.GetGrain<IReferencePoolGrain>(ReferenceChoice.AlbumPool(albumId)).ListAsync(ReferenceChoice.ReferencePerson);
        Assert.Single(enrolled);
        var bytes = await File.ReadAllBytesAsync(reference);
        var who = grid.Faces.PersonIn(bytes) ?? KnownFaces.PixelHash(bytes);
        var embedded = aligned
            ? grid.Analyzer.AlignedCalls.Contains((who, FaceFraming.Ffhq))
            : grid.Analyzer.DetectCalls.Any(c => c.Person == who);
        Assert.True(embedded, "the reference did not go through the analyzer the way pool enrolment sends it");
    }

    [Fact]
    public async Task A_reference_without_a_face_stops_the_command_with_what_to_do()
    {
        var reference = Path.Combine(_work, "wall.png");
        await File.WriteAllBytesAsync(reference, TestImages.Flat(64, 128));
        using var cli = new Support.Cli(grid.Connector);

        var exit = await cli.RunAsync("restore", "-i", TestImages.SamplePhoto("John_Simm-1.jpg"), "-o", Path.Combine(_work, "out"),
            "--reference", reference, "--iterations", "4");

        Assert.NotEqual(ExitCodes.Success, exit);
        Assert.Contains("no usable face", cli.Output, StringComparison.Ordinal);
        Assert.Contains("--aligned-reference", cli.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", cli.Output, StringComparison.Ordinal);
    }
}

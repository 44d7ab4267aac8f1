using System.Text.Json;
using Sair.Client.Tests.Support;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// What the engine returns beside the restored face reaches the output folder: the aligned crop in cropped_faces/ and
/// the whole photo with the face pasted back in restored_imgs/; for aligned inputs, the input and the restored face.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class WholePhotoTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-whole-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task The_face_is_found_and_matched_once_the_upscale_reaches_the_grid_and_its_crop_and_pasted_photo_are_written()
    {
        var reference = TestImages.SampleReference("John_Salley.jpg");
        var photo = TestImages.SamplePhoto("John_Salley-1.jpg");
        grid.Faces.Add(reference, "salley-whole");
        grid.Faces.Add(photo, "salley-whole");
        using var cli = new Support.Cli(grid.Connector);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "enroll", "whole", "salley-whole", reference));
        var output = Path.Combine(_work, "out");
        var detectionsBefore = grid.Analyzer.DetectCalls.Count(c => c.Person == "salley-whole");

        var exit = await cli.RunAsync("restore", "-i", photo, "-o", output, "--pool", "whole", "--only-center-face", "--upscale", "3",
            "--iterations", "3", "--ext", "png");

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Success, exit);
        // The album found the photo's faces once and matched each; the job was told where its face is and whom it
        // shows, so nothing detected or matched the photo again.
        Assert.Equal(1, grid.Analyzer.FindCalls.Count(c => c == "salley-whole"));
        Assert.Equal(detectionsBefore, grid.Analyzer.DetectCalls.Count(c => c.Person == "salley-whole"));
        var cropped = await File.ReadAllBytesAsync(Path.Combine(output, "cropped_faces", "John_Salley-1_00.png"));
        var uploaded = ImageRestorationEngine.ExpectedCrop(cropped);
        Assert.Equal(ImageRestorationEngine.ExpectedPhoto(uploaded, 3), await File.ReadAllBytesAsync(Path.Combine(output, "restored_imgs", "John_Salley-1.png")));
        Assert.Equal(ImageRestorationEngine.Expected(uploaded), await File.ReadAllBytesAsync(Path.Combine(output, "restored_faces", "John_Salley-1_00.png")));
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var options = report.RootElement.GetProperty("options");
        Assert.Equal("center", options.GetProperty("face").GetString());
        Assert.Equal(3, options.GetProperty("upscale").GetDouble());

        // Written again at another scale, the pasted photo is resized from the grid's.
        var albumId = Assert.Single(Sair.Client.Restoration.History.Recent(cli.Home, 1)).AlbumId;
        var again = Path.Combine(_work, "again");
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("album", "results", albumId, "-o", again, "--upscale", "1", "--ext", "png"));
        var resized = SixLabors.ImageSharp.Image.Identify(Path.Combine(again, "restored_imgs", "John_Salley-1.png"));
        Assert.Equal((32, 32), (resized.Width, resized.Height));
    }

    [Fact]
    public async Task An_aligned_input_is_its_own_crop_and_its_restored_face_is_the_restored_image()
    {
        var photo = TestImages.SamplePhoto("John_Simm-1.jpg");
        using var cli = new Support.Cli(grid.Connector);
        var output = Path.Combine(_work, "out");

        var exit = await cli.RunAsync("restore", "-i", photo, "-o", output, "--reference", TestImages.SampleReference("John_Simm.jpg"),
            "--aligned", "--iterations", "3", "--ext", "png");

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Success, exit);
        var cropped = await File.ReadAllBytesAsync(Path.Combine(output, "cropped_faces", "John_Simm-1_00.png"));
        Assert.Equal(KnownFaces.PixelHash(await File.ReadAllBytesAsync(photo)), KnownFaces.PixelHash(cropped));
        var restored = await File.ReadAllBytesAsync(Path.Combine(output, "restored_faces", "John_Simm-1_00.png"));
        Assert.Equal(ImageRestorationEngine.Expected(cropped), restored);
        Assert.Equal(restored, await File.ReadAllBytesAsync(Path.Combine(output, "restored_imgs", "John_Simm-1.png")));
    }

    [Theory]
    [InlineData(new string[0], "John_Simm-1_00.png", "John_Simm-1.jpg")]
    [InlineData(new[] { "--ext", "png", "--suffix", "v2" }, "John_Simm-1_00_v2.png", "John_Simm-1_v2.png")]
    [InlineData(new[] { "--ext", "jpg" }, "John_Simm-1_00.png", "John_Simm-1.jpg")]
    public async Task Ext_and_suffix_name_and_encode_the_outputs_as_gfpgan_does(string[] flags, string restoredFace, string restoredImage)
    {
        var photo = TestImages.SamplePhoto("John_Simm-1.jpg");
        using var cli = new Support.Cli(grid.Connector);
        var output = Path.Combine(_work, "named");

        var exit = await cli.RunAsync(["restore", "-i", photo, "-o", output, "--reference", TestImages.SampleReference("John_Simm.jpg"),
            "--aligned", "--iterations", "3", .. flags]);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal([restoredFace], Directory.GetFiles(Path.Combine(output, "restored_faces")).Select(Path.GetFileName));
        var image = Assert.Single(Directory.GetFiles(Path.Combine(output, "restored_imgs")));
        Assert.Equal(restoredImage, Path.GetFileName(image));
        var format = SixLabors.ImageSharp.Image.DetectFormat(image);
        Assert.Equal(restoredImage.EndsWith(".jpg", StringComparison.Ordinal) ? "JPEG" : "PNG", format.Name);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        Assert.Equal($"restored_imgs/{restoredImage}", report.RootElement.GetProperty("faces")[0].GetProperty("outputs").GetProperty("restored_img").GetString());
    }
}

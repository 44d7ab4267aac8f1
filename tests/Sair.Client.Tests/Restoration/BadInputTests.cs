using System.Text.Json;
using Sair.Client.Tests.Support;
using Xunit.Abstractions;
using SixLabors.ImageSharp;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// A folder mixing good photos with every kind of bad input: the good ones are restored, each bad one is reported
/// with its reason, the exit code says "partial", and the output folder holds exactly the expected files.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class BadInputTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-bad-input-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Good_photos_are_restored_and_each_bad_one_is_reported_without_stray_files()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        var output = Path.Combine(_work, "out");
        File.Copy(TestImages.SamplePhoto("John_Simm-1.jpg"), Path.Combine(input, "good.jpg"));
        await File.WriteAllBytesAsync(Path.Combine(input, "gray.png"), TestImages.Grayscale(TestImages.SamplePhoto("John_Salley-1.jpg")));
        await File.WriteAllBytesAsync(Path.Combine(input, "corrupt.jpg"), TestImages.CorruptJpeg(TestImages.SamplePhoto("John_Simm-2.jpg")));
        await File.WriteAllTextAsync(Path.Combine(input, "notes.png"), "this is a text file, not a picture");
        await File.WriteAllBytesAsync(Path.Combine(input, "huge.png"), TestPngs.HeaderOnly(20000, 20000));
        await File.WriteAllBytesAsync(Path.Combine(input, "noface.png"), TestImages.Flat(64, 128));
        // A legal file name on Linux that means "two folders up" to Windows paths and to naive string joins.
        File.Copy(TestImages.SamplePhoto("John_Salley-2.jpg"), Path.Combine(input, @"..\..\x.png"));
        using var cli = new Support.Cli(grid.Connector);

        var exit = await cli.RunAsync("restore", "-i", input, "-o", output, "--reference", TestImages.SampleReference("John_Simm.jpg"), "--iterations", "6",
            "--ext", "png");

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Partial, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var photos = report.RootElement.GetProperty("faces").EnumerateArray()
            .ToDictionary(p => Path.GetFileName(p.GetProperty("input").GetString()!), p => p);
        Assert.Equal(7, photos.Count);
        Assert.Equal("restored", Status(photos["good.jpg"]));
        Assert.Equal("restored", Status(photos["gray.png"]));
        Assert.Contains("grayscale", photos["gray.png"].GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Equal("rejected", Status(photos["corrupt.jpg"]));
        Assert.Equal("rejected", Status(photos["notes.png"]));
        Assert.Contains("not an image", Reason(photos["notes.png"]), StringComparison.Ordinal);
        Assert.Equal("rejected", Status(photos["huge.png"]));
        Assert.Contains("20000×20000", Reason(photos["huge.png"]), StringComparison.Ordinal);
        // Found to hold no face when the album looks for faces, before any job is started.
        Assert.Equal("rejected", Status(photos["noface.png"]));
        Assert.Contains("no face", Reason(photos["noface.png"]), StringComparison.Ordinal);
        Assert.Equal("rejected", Status(photos[@"..\..\x.png"]));
        Assert.Contains("unsafe file name", Reason(photos[@"..\..\x.png"]), StringComparison.Ordinal);
        Assert.Equal(2, report.RootElement.GetProperty("restored").GetInt32());
        Assert.Equal(ExitCodes.Partial, report.RootElement.GetProperty("exitCode").GetInt32());

        // The summary names every refusal too.
        var summary = cli.Output.ReplaceLineEndings(" ");
        Assert.Contains("2 of 7 restored", summary, StringComparison.Ordinal);
        Assert.Contains("huge", summary, StringComparison.Ordinal);

        // Exactly these files: no half-written leftovers, nothing named after the unsafe input.
        string[] expected =
        [
            "cmp/good_00.png", "cmp/gray_00.png", "cropped_faces/good_00.png", "cropped_faces/gray_00.png", "index.html", "report.json",
            "restored_faces/good_00.png", "restored_faces/gray_00.png", "restored_imgs/good.png", "restored_imgs/gray.png",
        ];
        // The reference the faces were restored towards is shown beside them, once, under its pool id.
        var reference = Assert.Single(Tree(output), f => f.StartsWith("references/", StringComparison.Ordinal));
        Assert.Equal(expected, Tree(output).Where(f => f != reference));
        Assert.Equal(["in", "out"], Directory.EnumerateFileSystemEntries(_work).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(Path.GetFullPath(Path.Combine(output, "..", "..", "x.png"))));

        // Each file is the grid's output for the photo as the client uploaded it: the engine's crop of it (the fake
        // mirrors it, so mirroring back gives the upload), the restored face, and the whole photo pasted back at the
        // default upscale (2: the 32 px input comes back at 64 px).
        var uploaded = ImageRestorationEngine.ExpectedCrop(await File.ReadAllBytesAsync(Path.Combine(output, "cropped_faces", "good_00.png")));
        Assert.Equal(ImageRestorationEngine.Expected(uploaded), await File.ReadAllBytesAsync(Path.Combine(output, "restored_faces", "good_00.png")));
        Assert.Equal(ImageRestorationEngine.ExpectedPhoto(uploaded, 2), await File.ReadAllBytesAsync(Path.Combine(output, "restored_imgs", "good.png")));
        var pasted = Image.Identify(Path.Combine(output, "restored_imgs", "good.png"));
        Assert.Equal((64, 64), (pasted.Width, pasted.Height));
        var comparison = Image.Identify(Path.Combine(output, "cmp", "good_00.png"));
        // Input | restored | reference, each panel at least 256 px: big enough to judge the identity by eye.
        Assert.Equal((3 * 256, 256), (comparison.Width, comparison.Height));
    }

    [Fact]
    public async Task Only_bad_inputs_fail_without_starting_the_grid_and_still_write_the_report()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        var output = Path.Combine(_work, "out");
        await File.WriteAllTextAsync(Path.Combine(input, "notes.png"), "text");
        var noGrid = new NoGridConnector();
        using var cli = new Support.Cli(noGrid);

        var exit = await cli.RunAsync("restore", "-i", input, "-o", output, "--pool", "family");

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Equal(0, noGrid.Calls);
        Assert.Equal(["index.html", "report.json"], Tree(output));
    }

    private static string Status(JsonElement photo) => photo.GetProperty("status").GetString()!;

    private static string Reason(JsonElement photo) => photo.GetProperty("reason").GetString()!;

    private static string[] Tree(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)];
}

using System.Text.Json;
using Sair.Client.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// A group photo of two enrolled people and a stranger: every face is its own job matched to its own person (the
/// stranger, below the threshold, without identity), all pasted back into one restored photo, one report entry per face.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class GroupPhotoTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-group-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string GroupPhoto(string name, params string?[] people)
    {
        // Three sample photos side by side: a real, non-flat image the fake analyzer is told holds these people.
        var parts = new[] { "John_Salley-1.jpg", "John_Simm-1.jpg", "John_Salley-2.jpg" }
            .Select(p => Image.Load<Rgb24>(TestImages.SamplePhoto(p))).ToList();
        using var group = new Image<Rgb24>(parts.Sum(p => p.Width), parts.Max(p => p.Height));
        var x = 0;
        foreach (var part in parts)
        {
            var at = x;
            group.Mutate(c => c.DrawImage(part, new Point(at, 0), 1f));
            x += part.Width;
            part.Dispose();
        }

        var path = Path.Combine(_work, name);
        group.SaveAsPng(path);
        grid.Faces.AddGroup(path, people);
        return path;
    }

    [Fact]
    public async Task Every_face_is_matched_to_its_own_person_restored_and_pasted_back_into_one_photo()
    {
        var photo = GroupPhoto("party.png", "group-ann", "group-bob", null);
        var ann = TestImages.SampleReference("John_Salley.jpg");
        var bob = TestImages.SampleReference("John_Simm.jpg");
        grid.Faces.Add(ann, "group-ann");
        grid.Faces.Add(bob, "group-bob");
        using var cli = new Support.Cli(grid.Connector);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "enroll", "group", "group-ann", ann));
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("pool", "enroll", "group", "group-bob", bob));
        var composedBefore = grid.Composer.Calls.Count;
        var output = Path.Combine(_work, "out");

        var exit = await cli.RunAsync("restore", "-i", photo, "-o", output, "--pool", "group", "--match-threshold", "0.5",
            "--iterations", "3", "--upscale", "1");

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Success, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var faces = report.RootElement.GetProperty("faces").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], faces.Select(f => f.GetProperty("face").GetInt32()));
        Assert.All(faces, f => Assert.Equal("restored", f.GetProperty("status").GetString()));
        Assert.Equal(["group-ann", "group-bob", null], faces.Select(f => f.TryGetProperty("person", out var p) ? p.GetString() : null));
        // Matched faces show their match and the result's similarity with the net that scored it; the stranger shows neither.
        Assert.All(faces.Take(2), f =>
        {
            Assert.True(f.GetProperty("matchSimilarity").GetDouble() > 0.9);
            Assert.Equal(ImageRestorationEngine.IdentityNet, f.GetProperty("similarityNet").GetString());
            Assert.Equal(3, f.GetProperty("loss").GetArrayLength());
        });
        Assert.False(faces[2].TryGetProperty("similarity", out _));
        Assert.Contains("restored without the identity term", faces[2].GetProperty("note").GetString());
        Assert.All(faces, f => Assert.True(f.GetProperty("box").GetProperty("width").GetDouble() > 0));

        // One job per face; the three faces went back into one photo, written once.
        Assert.Equal([3], grid.Composer.Calls.Skip(composedBefore));
        Assert.Equal(["party.png"], Directory.GetFiles(Path.Combine(output, "restored_imgs")).Select(Path.GetFileName));
        Assert.Equal(
            ImageRestorationEngine.ExpectedComposed(await File.ReadAllBytesAsync(photo), 1),
            await File.ReadAllBytesAsync(Path.Combine(output, "restored_imgs", "party.png")));
        Assert.All(faces, f => Assert.Equal("restored_imgs/party.png", f.GetProperty("outputs").GetProperty("restored_img").GetString()));
        Assert.Equal(["party_00.png", "party_01.png", "party_02.png"],
            Directory.GetFiles(Path.Combine(output, "restored_faces")).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // cmp/ is input | restored | reference at 256 px a panel for a matched face, input | restored for the stranger.
        var matched = Image.Identify(Path.Combine(output, "cmp", "party_00.png"));
        Assert.Equal((3 * 256, 256), (matched.Width, matched.Height));
        var stranger = Image.Identify(Path.Combine(output, "cmp", "party_02.png"));
        Assert.Equal((2 * 256, 256), (stranger.Width, stranger.Height));
        Assert.True(File.Exists(Path.Combine(output, "index.html")));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "references")).Length);
    }

    [Theory]
    [InlineData("--largest-face")]
    [InlineData("--only-center-face")]
    public async Task One_face_flags_keep_a_single_face(string flag)
    {
        var photo = GroupPhoto($"one{flag}.png", null, null, null);
        using var cli = new Support.Cli(grid.Connector);
        var output = Path.Combine(_work, "one");

        var exit = await cli.RunAsync("restore", "-i", photo, "-o", output, "--no-identity", "--iterations", "2", flag);

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Success, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var face = Assert.Single(report.RootElement.GetProperty("faces").EnumerateArray());
        // The fake's boxes are equal, side by side: the largest is the first; the centre one is the middle face.
        Assert.Equal(flag == "--largest-face" ? 0 : 1, face.GetProperty("face").GetInt32());
        Assert.False(face.TryGetProperty("person", out _));
    }

    [Fact]
    public async Task Faces_below_the_minimum_size_are_left_alone_and_said_so()
    {
        var photo = GroupPhoto("tiny.png", null, null, null);
        using var cli = new Support.Cli(grid.Connector);
        var output = Path.Combine(_work, "tiny");

        var exit = await cli.RunAsync("restore", "-i", photo, "-o", output, "--no-identity", "--iterations", "2", "--min-face-size", "50");

        Assert.Equal(ExitCodes.Failure, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var line = Assert.Single(report.RootElement.GetProperty("faces").EnumerateArray());
        Assert.Contains("narrower than --min-face-size 50 px", line.GetProperty("reason").GetString());
    }
}

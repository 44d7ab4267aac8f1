using System.Text.Json;
using Sair.Client.Tests.Support;
using Xunit.Abstractions;
using Sair.Grains.Ports;
using Sair.Grains.Pools;

namespace Sair.Client.Tests.Restoration;

/// <summary>'sair demo' end to end against an in-process grid with the fake engine: enrol, match, restore, write.</summary>
[Collection(ClientGridCollection.Name)]
public sealed class DemoTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-demo-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task The_demo_matches_each_sample_photo_to_its_person_and_writes_every_result()
    {
        foreach (var file in Directory.EnumerateFiles(TestImages.SampleAlbum, "*.jpg", SearchOption.AllDirectories))
        {
            grid.Faces.Add(file, Path.GetFileNameWithoutExtension(file).Split('-')[0]);
        }

        var output = Path.Combine(_work, "out");
        using var cli = new Support.Cli(grid.Connector);

        var exit = await cli.RunAsync("demo", "-o", output, "--iterations", "8", "--samples", TestImages.SampleAlbum);

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Success, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var photos = report.RootElement.GetProperty("faces").EnumerateArray().ToList();
        Assert.Equal(4, photos.Count);
        foreach (var photo in photos)
        {
            var name = photo.GetProperty("name").GetString()!;
            Assert.Equal("restored", photo.GetProperty("status").GetString());
            Assert.Equal(name.Split('-')[0], photo.GetProperty("person").GetString());
            Assert.True(File.Exists(Path.Combine(output, "restored_faces", $"{name}_00.png")));
            Assert.True(File.Exists(Path.Combine(output, "cmp", $"{name}_00.png")));
        }

        Assert.Contains("4 of 4 restored", cli.Output, StringComparison.Ordinal);
        // The shipped album says its photos were saved at JPEG quality 30: D includes that stage.
        Assert.Equal(30, report.RootElement.GetProperty("options").GetProperty("jpegQuality").GetInt32());
        Assert.Contains("restoring with --jpeg-quality 30", System.Text.RegularExpressions.Regex.Replace(cli.Output, @"\s+", " "), StringComparison.Ordinal);
        // The 32 px sample photos are matched as the dlib chips they are, once each, where the album fans out: the jobs
        // carry the match and do not match again.
        var chipMatches = grid.Analyzer.AlignedCalls.Where(c => c.Framing == FaceFraming.DlibChip).Select(c => c.Person).ToList();
        foreach (var person in photos.GroupBy(p => p.GetProperty("name").GetString()!.Split('-')[0]))
        {
            Assert.True(chipMatches.Count(p => p == person.Key) == person.Count(),
                $"{person.Key}'s photos were embedded as chips {chipMatches.Count(p => p == person.Key)} times; expected one match each");
        }

        // A second run replaces the demo references instead of adding copies.
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("demo", "-o", Path.Combine(_work, "again"), "--iterations", "2", "--samples", TestImages.SampleAlbum));
        var references = await grid.Grains.GetGrain<IReferencePoolGrain>("demo").ListAsync();
        Assert.Equal(["John_Salley", "John_Simm"], references.Select(r => r.Person).Order(StringComparer.Ordinal));

        // Both runs are in the history that 'sair jobs' lists, with their progress from the grid.
        var history = Sair.Client.Restoration.History.Recent(cli.Home, 10);
        Assert.Equal(2, history.Count);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("jobs"));
        Assert.All(history, entry => Assert.Contains(entry.AlbumId, cli.Output, StringComparison.Ordinal));
    }
}

using Sair.Client.Restoration;
using Sair.Client.Tests.Support;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// A rerun of the same 'sair restore' (after Ctrl-C, or a crash of the client or the silo) picks up the album its first
/// run submitted instead of computing it again; a changed request or --fresh starts a new album.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class RestorePickUpTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-pickup-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task The_same_command_again_writes_the_first_runs_album_and_a_changed_one_or_fresh_submits_anew()
    {
        var photo = TestImages.SamplePhoto("John_Simm-1.jpg");
        using var cli = new Support.Cli(grid.Connector);
        string[] command = ["restore", "-i", photo, "--aligned", "--no-identity", "--iterations", "2"];

        Assert.Equal(ExitCodes.Success, await cli.RunAsync([.. command, "-o", Path.Combine(_work, "first")]));
        var first = Assert.Single(History.Recent(cli.Home, 10));
        var again = Path.Combine(_work, "again");

        var exit = await cli.RunAsync([.. command, "-o", again]);

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains($"Picking up album {first.AlbumId}", cli.Output, StringComparison.Ordinal);
        Assert.Single(History.Recent(cli.Home, 10));
        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(_work, "first", "restored_faces", "John_Simm-1_00.png")),
            await File.ReadAllBytesAsync(Path.Combine(again, "restored_faces", "John_Simm-1_00.png")));

        Assert.Equal(ExitCodes.Success, await cli.RunAsync([.. command, "-o", Path.Combine(_work, "fresh"), "--fresh"]));
        Assert.Equal(ExitCodes.Success, await cli.RunAsync(["restore", "-i", photo, "--aligned", "--no-identity", "--iterations", "3", "-o", Path.Combine(_work, "other")]));

        var albums = History.Recent(cli.Home, 10);
        Assert.Equal(3, albums.Count);
        Assert.Equal(3, albums.Select(a => a.AlbumId).Distinct().Count());
    }
}

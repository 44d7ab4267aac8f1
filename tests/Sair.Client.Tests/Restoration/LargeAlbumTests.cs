using Sair.Client.Restoration;
using Sair.Client.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// A 1,000-photo album on the fake engine, followed as 'album watch' follows it: through the album's one stream, with an
/// album bar and only as many face bars as faces ran at once (the fixture's engine runs 2), never one per photo.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class LargeAlbumTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private const int Photos = 1000;

    private readonly string _work = Directory.CreateTempSubdirectory("sair-large-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact(Timeout = 300_000)]
    public async Task A_thousand_photo_album_is_followed_through_one_stream_with_a_bar_per_running_face()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        var random = new Random(5);
        for (var index = 0; index < Photos; index++)
        {
            using var image = new Image<Rgb24>(8, 8);
            for (var y = 0; y < 8; y++)
            {
                for (var x = 0; x < 8; x++)
                {
                    image[x, y] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                }
            }

            await image.SaveAsPngAsync(Path.Combine(input, $"photo-{index:D4}.png"));
        }

        using var cli = new Support.Cli(grid.Connector);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("album", "submit", "-i", input, "--aligned", "--no-identity", "--iterations", "1"));
        var albumId = Assert.Single(History.Recent(cli.Home, 1)).AlbumId;
        var manifest = await AlbumManifest.LoadAsync(grid.Images, albumId, default);
        using var watcher = new Support.Cli(grid.Connector, width: 120, interactive: true);

        var watched = await AlbumWatcher.FollowAsync(watcher.Console, grid.Grains, manifest, new CancellationTokenSource(TimeSpan.FromMinutes(4)).Token);

        log.WriteLine($"face bars: {watched.FaceBars}, faces timed: {watched.Durations.Count}");
        Assert.Equal(Photos, watched.Durations.Count);
        // The engine runs 2 faces at once. A face's end and its successor's start reach the album from two grains, in
        // either order, so the album may briefly count one more face running than the engine has slots: at most 2 × 2.
        Assert.InRange(watched.FaceBars, 1, 4);
        Assert.Contains($"{Photos}/{Photos} faces", watcher.Output, StringComparison.Ordinal);
    }
}

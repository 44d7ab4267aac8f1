using Sair.Client.Tests.Support;
using Sair.Grains.Albums;
using Sair.Grains.Jobs;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>'sair album retry' starts an album's failed photos again, each as a new job, and says when there is nothing to retry.</summary>
[Collection(ClientGridCollection.Name)]
public sealed class AlbumRetryTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-retry-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_failed_photo_is_started_again_as_a_new_job_and_a_finished_album_has_nothing_to_retry()
    {
        // A flat aligned face: the engine fails on it as on a photo without a face.
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(input, "blank.png"), TestImages.Flat(32, 128));
        using var cli = new Support.Cli(grid.Connector);
        var albumId = $"retry-{Guid.NewGuid():N}";
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("album", "submit", "-i", input, "--aligned", "--no-identity", "--iterations", "1", "--album-id", albumId));
        var album = grid.Grains.GetGrain<IAlbumGrain>(albumId);
        await Eventually.WaitAsync(album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(20), "the album to finish");
        var first = Assert.Single(await album.ListResultsAsync());
        Assert.Equal(JobState.Failed, first.State);

        var exit = await cli.RunAsync("album", "retry", albumId);

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("retrying 1 failed photo(s)", cli.Output, StringComparison.Ordinal);
        await Eventually.WaitAsync(album.ListResultsAsync, r => r[0].JobId != first.JobId && r[0].State.IsFinished(), TimeSpan.FromSeconds(20), "the retry to finish");
        Assert.Equal($"{first.JobId}-r1", (await album.ListResultsAsync())[0].JobId);

        Assert.Equal(ExitCodes.Failure, await cli.RunAsync("album", "retry", $"never-{Guid.NewGuid():N}"));
        Assert.Contains("was never submitted", cli.Output, StringComparison.Ordinal);
    }
}

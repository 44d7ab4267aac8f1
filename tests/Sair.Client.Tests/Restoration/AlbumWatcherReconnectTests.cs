using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Sair.Client.Restoration;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;

namespace Sair.Client.Tests.Restoration;

/// <summary>Watching an album survives its stream breaking (the album's silo died): it reconnects, counting each face once.</summary>
public sealed class AlbumWatcherReconnectTests
{
    private static readonly AlbumManifest Manifest = new("reconnect", DateTimeOffset.UnixEpoch, "none",
        new RestorationOptions(RestorationPresets.Default, 10, null, 0, 0, 10),
        [.. Enumerable.Range(0, 3).Select(i => new ManifestPhoto(i, $"p{i}.png", $"p{i}", $"in/p{i}.png", 8, 8, null, null))]);

    [Fact]
    public async Task A_broken_stream_is_opened_again_and_faces_it_repeats_are_counted_once()
    {
        var streams = 0;
        async IAsyncEnumerable<AlbumUpdate> Follow([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            switch (++streams)
            {
                case 1:
                    yield return Update(finished: [0]);
                    throw new SiloUnavailableException("the album's silo died");
                case 2:
                    throw new TimeoutException("no gateway answers yet");
                default:
                    // A new stream starts with every face finished so far.
                    yield return Update(finished: [0, 1]);
                    yield return Update(finished: [2]);
                    yield break;
            }
        }

        using var cli = new Support.Cli(new Support.NoGridConnector(), interactive: false);

        var watched = await AlbumWatcher.FollowAsync(cli.Console, Follow, Manifest, CancellationToken.None, TimeSpan.FromMilliseconds(10));

        Assert.Equal(3, streams);
        Assert.Equal([0, 1, 2], watched.Durations.Keys.Order());
        Assert.Contains("[3/3]", cli.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[4/3]", cli.Output, StringComparison.Ordinal);
        Assert.Contains("lost the grid (SiloUnavailableException); reconnecting", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_that_is_not_the_grid_going_away_ends_watching_at_once()
    {
        var streams = 0;
        async IAsyncEnumerable<AlbumUpdate> Follow([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            streams++;
            yield return Update(finished: [0]);
            throw new InvalidOperationException("a bug");
        }

        using var cli = new Support.Cli(new Support.NoGridConnector(), interactive: false);

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AlbumWatcher.FollowAsync(cli.Console, Follow, Manifest, CancellationToken.None, TimeSpan.FromMilliseconds(10)));
        Assert.Equal(1, streams);
    }

    private static AlbumUpdate Update(int[] finished) => new(
        new AlbumProgress("reconnect", 3, 0, 0, finished.Length, 0, 0),
        [.. finished.Select(i => new PhotoResult(i, $"in/p{i}.png", $"job-{i}", JobState.Completed, $"out/p{i}.png", null, null))],
        ImmutableArray<AlbumJobProgress>.Empty);
}

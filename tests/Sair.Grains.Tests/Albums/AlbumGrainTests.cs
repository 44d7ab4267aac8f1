using System.Collections.Immutable;
using System.Text;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;

namespace Sair.Grains.Tests.Albums;

public sealed class AlbumGrainTests
{
    private static readonly RestorationOptions Options = new("paper", Iterations: 30, null, 0, Seed: 7, CheckpointEvery: 5);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_album_survives_an_engine_silo_stopping_mid_way_and_writes_each_result_once(bool crash)
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(10));
        var pool = grid.Client.GetGrain<IReferencePoolGrain>("family");
        await pool.EnrollAsync("ada", Encoding.UTF8.GetBytes("face:ada:ref-1"));
        await pool.EnrollAsync("ada", Encoding.UTF8.GetBytes("face:ada:ref-2"));
        await pool.EnrollAsync("bob", Encoding.UTF8.GetBytes("face:bob:ref-1"));
        var photos = await PutPhotosAsync(grid, "failover", 30, index => $"face:ada:photo-{index}");
        var album = grid.Client.GetGrain<IAlbumGrain>("failover");

        // Long enough runs (90 iterations of 10 ms) that a checkpointed one is still running when Silo_2 goes, even
        // on a machine busy with other test assemblies.
        var options = Options with { Iterations = 90 };
        // On a loaded machine a run seen part-way could otherwise finish before the stop reaches it.
        grid.Recorder.LimitFinishes("Silo_2", 1);
        await album.SubmitAsync(new AlbumSpec(photos, ReferenceSelection.FromPool("family"), options, "results/failover"));
        // Stop Silo_2 once it has finished a photo and is part-way through another (a checkpoint is stored).
        await Eventually.WaitAsync(
            () => Task.FromResult(CheckpointedRunsOn(grid, "Silo_2")),
            running => running > 0 && grid.Recorder.Finishes.Any(f => f.Silo == "Silo_2"),
            TimeSpan.FromSeconds(30), "Silo_2 to finish a photo and checkpoint another");
        if (crash)
        {
            await grid.Cluster.KillSiloAsync(grid.Silo("Silo_2"));
        }
        else
        {
            await grid.Cluster.StopSiloAsync(grid.Silo("Silo_2"));
        }

        var progress = await Eventually.WaitAsync(
            album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(120), "the album to finish after the failover");

        var results = await album.ListResultsAsync();
        Assert.True(progress.Completed == 30, "not completed: " + string.Join("; ",
            results.Where(r => r.State != JobState.Completed).Select(r => $"{r.Index} {r.State} {r.Error}")));
        for (var index = 0; index < photos.Length; index++)
        {
            var photo = results[index];
            Assert.Equal(JobState.Completed, photo.State);
            Assert.Equal(1, grid.Images.Puts[photo.ResultPath!]);
            // Two references: the pool matched the photo to ada, not bob.
            var expected = FakeRestorationEngine.ExpectedResult(Encoding.UTF8.GetBytes($"face:ada:photo-{index}"), 2, options.Iterations);
            Assert.Equal(expected, await grid.Images.GetAsync(photo.ResultPath!, default));
        }

        // The jobs cut off on Silo_2 resumed elsewhere from their last checkpoint, not from scratch.
        var resumed = grid.Recorder.Runs.Where(r => r.FromIteration > 0).ToList();
        Assert.True(resumed.Count > 0, "no run resumed from a checkpoint; runs: " +
            string.Join(", ", grid.Recorder.Runs.Select(r => $"{r.JobId}@{r.Silo}:{r.FromIteration}")));
        Assert.All(resumed, r => Assert.Equal("Silo_1", r.Silo));
        Assert.DoesNotContain(grid.Images.Paths, p => p.Contains("checkpoint", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Resubmitting_an_album_adds_no_work_to_finished_photos_and_retries_the_failed_ones()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(2));
        await grid.Images.PutAsync("refs/ada.png", Encoding.UTF8.GetBytes("aligned:ada"), default);
        var photos = await PutPhotosAsync(grid, "resubmit", 6, index => index == 3 ? "FAIL: scanner noise" : $"face:ada:photo-{index}");
        var spec = new AlbumSpec(photos, ReferenceSelection.FromPaths("refs/ada.png"), Options with { Iterations = 10 }, "results/resubmit");
        var album = grid.Client.GetGrain<IAlbumGrain>("resubmit");

        await album.SubmitAsync(spec);
        var watched = await FinishedAsync(album);

        var progress = await album.GetProgressAsync();
        Assert.Equal((5, 1), (progress.Completed, progress.Failed));
        Assert.Equal([0, 1, 2, 3, 4, 5], watched.Select(p => p.Index).Order());
        var failed = Assert.Single(watched, p => p.State == JobState.Failed);
        Assert.Equal(3, failed.Index);
        Assert.Contains("no face to restore", failed.Error);
        Assert.Equal(5, grid.Recorder.Runs.Count);
        Assert.Equal(1, (await grid.Client.GetGrain<IRestorationJobGrain>(failed.JobId).GetStatusAsync()).Attempt);

        // A resubmission of the finished album tries the failed photo again, as a new job; the completed ones stay done.
        await album.SubmitAsync(spec);
        var again = Assert.Single(await FinishedAsync(album), p => p.Index == 3);
        Assert.Equal((JobState.Failed, "resubmit/0003-r1"), (again.State, again.JobId));
        Assert.Equal(5, grid.Recorder.Runs.Count(r => !r.JobId.StartsWith("resubmit/0003", StringComparison.Ordinal)));

        // The cause gone (a transient failure), 'album retry' finishes the album; a late report of an old job changes nothing.
        await grid.Images.PutAsync(photos[3], Encoding.UTF8.GetBytes("face:ada:photo-3"), default);
        await album.RetryFailedAsync();
        var done = Assert.Single(await FinishedAsync(album), p => p.Index == 3);
        Assert.Equal((JobState.Completed, "resubmit/0003-r2"), (done.State, done.JobId));
        await grid.Client.GetGrain<IAlbumJobSink>("resubmit").OnJobFinishedAsync(
            (await grid.Client.GetGrain<IRestorationJobGrain>(failed.JobId).GetStatusAsync()));
        Assert.Equal((6, 0), ((await album.GetProgressAsync()).Completed, (await album.GetProgressAsync()).Failed));
        Assert.All((await album.ListResultsAsync()).Where(p => p.State == JobState.Completed),
            p => Assert.Equal(1, grid.Images.Puts[p.ResultPath!]));

        var other = spec with { PhotoPaths = spec.PhotoPaths.RemoveAt(0) };
        await Assert.ThrowsAsync<InvalidOperationException>(() => album.SubmitAsync(other));
        await Assert.ThrowsAsync<InvalidOperationException>(() => grid.Client.GetGrain<IAlbumGrain>("never-submitted").RetryFailedAsync());
    }

    private static async Task<List<PhotoResult>> FinishedAsync(IAlbumGrain album)
    {
        await Eventually.WaitAsync(album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(20), "the album to finish");
        return [.. await album.ListResultsAsync()];
    }

    [Fact]
    public async Task Cancelling_an_album_cancels_its_unfinished_photos()
    {
        await using var grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(5));
        await grid.Images.PutAsync("refs/ada.png", Encoding.UTF8.GetBytes("aligned:ada"), default);
        var photos = await PutPhotosAsync(grid, "cancel", 5, index => $"face:ada:photo-{index}");
        var album = grid.Client.GetGrain<IAlbumGrain>("cancel");
        await album.SubmitAsync(new AlbumSpec(
            photos, ReferenceSelection.FromPaths("refs/ada.png"), Options with { Iterations = 5000 }, "results/cancel"));
        await Eventually.WaitAsync(album.GetProgressAsync, p => p.Running > 0, TimeSpan.FromSeconds(10), "a photo to run");

        var progress = await album.CancelAsync();

        Assert.True(progress.IsFinished);
        Assert.Equal(5, progress.Cancelled);
        Assert.All(await album.ListResultsAsync(), p => Assert.Equal(JobState.Cancelled, p.State));
        Assert.Empty(grid.Recorder.Finishes);
        Assert.DoesNotContain(grid.Images.Paths, p => p.StartsWith("results/cancel/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_group_photo_runs_one_job_per_face_with_its_own_match_and_comes_back_as_one_photo()
    {
        await using var grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(5));
        var pool = grid.Client.GetGrain<IReferencePoolGrain>("group");
        await pool.EnrollAsync("ada", Encoding.UTF8.GetBytes("face:ada:ref-1"));
        await pool.EnrollAsync("bob", Encoding.UTF8.GetBytes("face:bob:ref-1"));
        var photos = await PutPhotosAsync(grid, "group", 2, index => index == 0 ? "group:ada,bob,eve:party" : "face:ada:alone");
        // The album's faces as a client makes them: each located, each with its own references (eve: none).
        ImmutableArray<AlbumFace> faces =
        [
            new(0, FakeFaceAnalyzer.Location(0), ReferenceSelection.FromPool("group", "ada")),
            new(0, FakeFaceAnalyzer.Location(1), ReferenceSelection.FromPool("group", "bob")),
            new(0, FakeFaceAnalyzer.Location(2), ReferenceSelection.None()),
            new(1, FakeFaceAnalyzer.Location(0), ReferenceSelection.FromPool("group", "ada")),
        ];
        var album = grid.Client.GetGrain<IAlbumGrain>("group");
        var detectionsBefore = grid.Analyzer.DetectCalls.Count;
        await album.SubmitAsync(new AlbumSpec(photos, ReferenceSelection.FromPool("group"), Options, "results/group", FaceFraming.Unaligned, faces));

        var updates = new List<AlbumUpdate>();
        await foreach (var update in album.FollowAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token))
        {
            updates.Add(update);
        }

        // One stream told every face's end exactly once, and showed faces running on the way.
        Assert.Equal([0, 1, 2, 3], updates.SelectMany(u => u.Finished).Select(f => f.Index).Order());
        Assert.Contains(updates, u => !u.Running.IsEmpty);
        Assert.True(updates[^1].Progress.IsFinished);
        var results = await album.ListResultsAsync();
        Assert.All(results, r => Assert.Equal(JobState.Completed, r.State));
        Assert.Equal([(0, 0), (0, 1), (0, 2), (1, 0)], results.Select(r => (r.PhotoIndex, r.FaceIndex)));

        // Each job restored the face it was told of, towards the person the album matched; nothing matched again.
        Assert.Equal(detectionsBefore, grid.Analyzer.DetectCalls.Count);
        for (var index = 0; index < faces.Length; index++)
        {
            Assert.Equal(faces[index].Face!.Index, grid.Recorder.Faces[results[index].JobId]!.Index);
        }

        Assert.Equal([1, 1, 0, 1], results.Select(r => grid.Recorder.References[r.JobId].Count));

        // The group photo's three faces went back into it together; the lone face's photo is its job's own.
        var composed = results[0].RestoredPhotoPath!;
        Assert.All(results.Take(3), r => Assert.Equal(composed, r.RestoredPhotoPath));
        var text = Encoding.UTF8.GetString(await grid.Images.GetAsync(composed, default));
        Assert.StartsWith("composed:group:ada,bob,eve:party:0=", text, StringComparison.Ordinal);
        Assert.Contains(",1=", text, StringComparison.Ordinal);
        Assert.Contains(",2=", text, StringComparison.Ordinal);
        Assert.NotEqual(composed, results[3].RestoredPhotoPath);
        Assert.DoesNotContain("composed:", Encoding.UTF8.GetString(await grid.Images.GetAsync(results[3].RestoredPhotoPath!, default)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spec_with_a_face_of_a_missing_photo_or_twice_the_same_face_is_refused()
    {
        await using var grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(5));
        var photos = await PutPhotosAsync(grid, "bad-faces", 1, _ => "face:ada:x");
        var album = grid.Client.GetGrain<IAlbumGrain>("bad-faces");
        var none = ReferenceSelection.None();

        await Assert.ThrowsAsync<ArgumentException>(() => album.SubmitAsync(new AlbumSpec(photos, none, Options, "r", FaceFraming.Unaligned,
            [new AlbumFace(1, FakeFaceAnalyzer.Location(0), none)])));
        await Assert.ThrowsAsync<ArgumentException>(() => album.SubmitAsync(new AlbumSpec(photos, none, Options, "r", FaceFraming.Unaligned,
            [new AlbumFace(0, FakeFaceAnalyzer.Location(0), none), new AlbumFace(0, FakeFaceAnalyzer.Location(0), none)])));
        await Assert.ThrowsAsync<ArgumentException>(() => album.SubmitAsync(new AlbumSpec(photos, none, Options, "r", FaceFraming.Unaligned,
            [new AlbumFace(0, FakeFaceAnalyzer.Location(0) with { Landmarks = [1, 2, 3] }, none)])));
    }

    private static int CheckpointedRunsOn(GridCluster grid, string silo)
    {
        var finished = grid.Recorder.Finishes.Select(f => f.JobId).ToHashSet();
        var checkpoints = grid.Images.Paths.Where(p => p.Contains("/checkpoint-", StringComparison.Ordinal)).ToList();
        return grid.Recorder.Runs.Count(r => r.Silo == silo && !finished.Contains(r.JobId)
            && checkpoints.Any(p => p.StartsWith($"jobs/{r.JobId}/", StringComparison.Ordinal)));
    }

    private static async Task<ImmutableArray<string>> PutPhotosAsync(GridCluster grid, string album, int count, Func<int, string> content)
    {
        var paths = ImmutableArray.CreateBuilder<string>(count);
        for (var index = 0; index < count; index++)
        {
            var path = $"albums/{album}/IMG_{index:D3}.jpg";
            await grid.Images.PutAsync(path, Encoding.UTF8.GetBytes(content(index)), default);
            paths.Add(path);
        }

        return paths.MoveToImmutable();
    }
}

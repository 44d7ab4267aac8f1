using System.Text;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;

namespace Sair.Grains.Tests.Pools;

public sealed class ReferencePoolGrainTests(SingleEngineGridFixture fixture) : IClassFixture<SingleEngineGridFixture>
{
    private GridCluster Grid => fixture.Grid;

    [Fact]
    public async Task Enrolled_people_are_listed_matched_by_similarity_and_removed_with_their_photos()
    {
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("pool-match");
        var ada1 = await pool.EnrollAsync("ada", Photo("face:ada:1"));
        await pool.EnrollAsync("ada", Photo("face:ada:2"));
        await pool.EnrollAsync("bob", Photo("face:bob:1"));
        await pool.EnrollAsync("cyd", Photo("face:cyd:1"));

        Assert.Equal(4, (await pool.ListAsync()).Length);
        Assert.Equal(2, (await pool.ListAsync("ada")).Length);
        Assert.Equal("aligned:ada"u8.ToArray(), await Grid.Images.GetAsync(ada1.AlignedFacePath, default));

        var byPhoto = await pool.MatchPhotoAsync(Photo("face:bob:new"), k: 2);
        Assert.Equal(2, byPhoto.Length);
        Assert.Equal("bob", byPhoto[0].Person);
        Assert.True(byPhoto[0].Similarity > 0.99 && byPhoto[1].Similarity < byPhoto[0].Similarity);
        var byEmbedding = await pool.MatchAsync(FakeFaceAnalyzer.PersonEmbedding("cyd"), k: 1);
        Assert.Equal("cyd", Assert.Single(byEmbedding).Person);

        Assert.Equal(1, await pool.RemoveAsync(ada1.ReferenceId));
        Assert.False(await Grid.Images.ExistsAsync(ada1.PhotoPath, default));
        Assert.Equal(1, await pool.RemoveAsync("ada"));
        Assert.Equal(0, await pool.RemoveAsync("ada"));
        Assert.Equal(["bob", "cyd"], (await pool.ListAsync()).Select(r => r.Person).Order());
    }

    [Fact]
    public async Task A_job_from_a_pool_gets_the_matched_persons_faces_and_attached_latents()
    {
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("pool-latents");
        var withLatent = await pool.EnrollAsync("ada", Photo("face:ada:1"));
        var without = await pool.EnrollAsync("ada", Photo("face:ada:2"));
        await pool.EnrollAsync("bob", Photo("face:bob:1"));
        await pool.AttachLatentAsync(withLatent.ReferenceId, [1, 2, 3, 4]);
        await Grid.Images.PutAsync("in/pool-latents.png", Photo("face:ada:degraded"), default);
        var job = Grid.Client.GetGrain<IRestorationJobGrain>("pool-latents");

        await job.StartAsync(new JobSpec("in/pool-latents.png", "out/pool-latents.png", ReferenceSelection.FromPool("pool-latents"),
            new RestorationOptions("paper", 5, null, 0, 1, 5)));
        await Eventually.WaitAsync(job.GetStatusAsync, s => s.State == JobState.Completed, TimeSpan.FromSeconds(10), "the job");

        var references = Grid.Recorder.References["pool-latents"].ToDictionary(r => r.ReferenceId);
        // Only ada's two references: the pool matched the degraded face to ada, not bob.
        Assert.Equal(new[] { withLatent.ReferenceId, without.ReferenceId }.Order(), references.Keys.Order());
        Assert.Equal([1, 2, 3, 4], references[withLatent.ReferenceId].Latent);
        Assert.Null(references[without.ReferenceId].Latent);
        Assert.Equal("aligned:ada"u8.ToArray(), references[without.ReferenceId].AlignedFacePng);
        await Assert.ThrowsAsync<ArgumentException>(() => pool.AttachLatentAsync("no-such-reference", [1]));
    }

    [Fact]
    public async Task A_reference_is_inverted_once_and_every_later_job_of_that_person_reuses_the_inversion()
    {
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("pool-invert-once");
        var reference = await pool.EnrollAsync("dee", Photo("face:dee:1"));
        await Grid.Images.PutAsync("in/invert-once.png", Photo("face:dee:degraded"), default);
        var options = new RestorationOptions("paper", 3, null, 0, 1, 3);

        var first = Grid.Client.GetGrain<IRestorationJobGrain>("invert-once-1");
        await first.StartAsync(new JobSpec("in/invert-once.png", "out/invert-once-1.png", ReferenceSelection.FromPool("pool-invert-once"), options));
        await Eventually.WaitAsync(first.GetStatusAsync, s => s.State == JobState.Completed, TimeSpan.FromSeconds(10), "the first job");
        Assert.Null(Grid.Recorder.References["invert-once-1"][0].Latent);
        var cached = Assert.Single(await pool.ListAsync("dee"));
        Assert.NotNull(cached.LatentPath);
        Assert.Equal(FakeRestorationEngine.InversionOf(reference.ReferenceId), await Grid.Images.GetAsync(cached.LatentPath!, default));

        var second = Grid.Client.GetGrain<IRestorationJobGrain>("invert-once-2");
        await second.StartAsync(new JobSpec("in/invert-once.png", "out/invert-once-2.png", ReferenceSelection.FromPool("pool-invert-once"), options));
        await Eventually.WaitAsync(second.GetStatusAsync, s => s.State == JobState.Completed, TimeSpan.FromSeconds(10), "the second job");
        Assert.Equal(FakeRestorationEngine.InversionOf(reference.ReferenceId), Grid.Recorder.References["invert-once-2"][0].Latent);
    }

    [Fact]
    public async Task An_aligned_input_is_matched_without_detection_in_its_album_and_its_job()
    {
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("pool-aligned");
        await pool.EnrollAsync("ada", Photo("face:ada:1"));
        var bob = await pool.EnrollAsync("bob", Photo("face:bob:1"));
        await Grid.Images.PutAsync("in/pool-aligned/chip.png", Photo("chip:bob:degraded"), default);
        var options = new RestorationOptions("paper", 3, null, 0, 1, 3);

        // Detection finds no face in a tiny chip: that is what the framing is for.
        await Assert.ThrowsAsync<FaceNotFoundException>(() => pool.MatchPhotoAsync(Photo("chip:bob:degraded"), 1));
        Assert.Equal("bob", Assert.Single(await pool.MatchPhotoAsync(Photo("chip:bob:degraded"), 1, FaceFraming.DlibChip)).Person);

        var album = Grid.Client.GetGrain<IAlbumGrain>("album-aligned");
        await album.SubmitAsync(new AlbumSpec(["in/pool-aligned/chip.png"], ReferenceSelection.FromPool("pool-aligned"), options,
            "out/album-aligned", FaceFraming.DlibChip));
        await Eventually.WaitAsync(album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(10), "the album");

        var result = Assert.Single(await album.ListResultsAsync());
        Assert.Equal(JobState.Completed, result.State);
        Assert.Equal(bob.ReferenceId, Assert.Single(Grid.Recorder.References[result.JobId]).ReferenceId);
        Assert.Contains(("chip:bob:degraded", FaceFraming.DlibChip), Grid.Analyzer.AlignedCalls);
        // An aligned input is its own crop and has no photo around it to paste into.
        Assert.Null(result.CroppedFacePath);
        Assert.Null(result.RestoredPhotoPath);

        // The same input as a lone job without the framing fails at the match, as the demo's photos used to.
        var unaligned = Grid.Client.GetGrain<IRestorationJobGrain>("pool-aligned-unaligned");
        await unaligned.StartAsync(new JobSpec("in/pool-aligned/chip.png", "out/pool-aligned-unaligned.png",
            ReferenceSelection.FromPool("pool-aligned"), options));
        var failed = await Eventually.WaitAsync(unaligned.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(10), "the unaligned job");
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("no face", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spec_with_an_unknown_framing_is_refused()
    {
        var job = Grid.Client.GetGrain<IRestorationJobGrain>("pool-framing-unknown");

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(new JobSpec("in/x.png", "out/x.png",
            ReferenceSelection.FromPool("p"), new RestorationOptions("paper", 3, null, 0, 1, 3), Framing: (FaceFraming)7)));

        Assert.Contains("Framing", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_best_match_below_the_threshold_is_not_used_and_the_outcome_says_so(bool skip)
    {
        var poolName = $"pool-threshold-{skip}";
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>(poolName);
        var ada = await pool.EnrollAsync("ada", Photo("face:ada:1"));
        await pool.EnrollAsync("bob", Photo("face:bob:1"));
        await Grid.Images.PutAsync($"in/{poolName}/ada.png", Photo("face:ada:degraded"), default);
        await Grid.Images.PutAsync($"in/{poolName}/stranger.png", Photo("face:cyd:degraded"), default);
        var selection = ReferenceSelection.FromPool(poolName) with { MatchThreshold = 0.9, SkipUnmatched = skip };

        var album = Grid.Client.GetGrain<IAlbumGrain>($"album-threshold-{skip}");
        await album.SubmitAsync(new AlbumSpec([$"in/{poolName}/ada.png", $"in/{poolName}/stranger.png"], selection,
            new RestorationOptions("paper", 3, null, 0, 1, 3), $"out/album-threshold-{skip}"));
        await Eventually.WaitAsync(album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(10), "the album");

        var results = (await album.ListResultsAsync()).OrderBy(r => r.Index).ToList();
        Assert.Equal(JobState.Completed, results[0].State);
        Assert.Null(results[0].Note);
        Assert.Equal(ada.ReferenceId, Assert.Single(Grid.Recorder.References[results[0].JobId]).ReferenceId);
        if (skip)
        {
            Assert.Equal(JobState.Failed, results[1].State);
            Assert.Contains("skipped", results[1].Error, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(JobState.Completed, results[1].State);
            Assert.Contains("without the identity term", results[1].Note, StringComparison.Ordinal);
            Assert.Empty(Grid.Recorder.References[results[1].JobId]);
        }
    }

    [Fact]
    public async Task An_album_without_identity_hands_the_engine_no_reference_and_says_so()
    {
        await Grid.Images.PutAsync("in/no-identity/a.png", Photo("face:ada:degraded"), default);
        var album = Grid.Client.GetGrain<IAlbumGrain>("album-no-identity");

        await album.SubmitAsync(new AlbumSpec(["in/no-identity/a.png"], ReferenceSelection.None(),
            new RestorationOptions("paper", 3, null, 0, 1, 3), "out/album-no-identity"));
        await Eventually.WaitAsync(album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(10), "the album");

        var result = Assert.Single(await album.ListResultsAsync());
        Assert.Equal(JobState.Completed, result.State);
        Assert.Contains("without the identity term", result.Note, StringComparison.Ordinal);
        Assert.Empty(Grid.Recorder.References[result.JobId]);
    }

    [Theory]
    [InlineData("p", null)]
    [InlineData(null, "refs/a.png")]
    public void A_selection_without_identity_takes_no_pool_or_paths(string? pool, string? path)
    {
        var selection = ReferenceSelection.None() with { PoolName = pool, ReferencePaths = path is null ? [] : [path] };

        var refused = Assert.Throws<ArgumentException>(selection.Validate);

        Assert.Contains("without identity", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_photo_without_a_face_is_refused_and_nothing_is_stored()
    {
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("pool-noface");

        await Assert.ThrowsAsync<FaceNotFoundException>(() => pool.EnrollAsync("ada", Photo("a landscape")));

        Assert.Empty(await pool.ListAsync());
        Assert.DoesNotContain(Grid.Images.Paths, p => p.StartsWith("pools/pool-noface/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_whole_photos_crop_and_pasted_back_photo_arrive_beside_its_result_each_written_once()
    {
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("pool-whole");
        await pool.EnrollAsync("ada", Photo("face:ada:1"));
        var input = Photo("face:ada:group-photo");
        await Grid.Images.PutAsync("in/pool-whole/group.png", input, default);
        var options = new RestorationOptions("paper", 3, null, 0, 1, 3, Face: FaceChoice.Center, Upscale: 2);

        var album = Grid.Client.GetGrain<IAlbumGrain>("album-whole");
        await album.SubmitAsync(new AlbumSpec(["in/pool-whole/group.png"], ReferenceSelection.FromPool("pool-whole"), options, "out/album-whole"));
        await Eventually.WaitAsync(album.GetProgressAsync, p => p.IsFinished, TimeSpan.FromSeconds(10), "the album");

        var result = Assert.Single(await album.ListResultsAsync());
        Assert.Equal(JobState.Completed, result.State);
        Assert.Equal("out/album-whole/0000-group.cropped_face.png", result.CroppedFacePath);
        Assert.Equal("out/album-whole/0000-group.restored_img.png", result.RestoredPhotoPath);
        Assert.Equal(FakeRestorationEngine.ExpectedCrop(input), await Grid.Images.GetAsync(result.CroppedFacePath!, default));
        Assert.Equal(FakeRestorationEngine.ExpectedPhoto(input, 2), await Grid.Images.GetAsync(result.RestoredPhotoPath!, default));
        Assert.All([result.ResultPath!, result.CroppedFacePath!, result.RestoredPhotoPath!], path => Assert.Equal(1, Grid.Images.Puts[path]));
        var status = await Grid.Client.GetGrain<IRestorationJobGrain>(result.JobId).GetStatusAsync();
        Assert.Equal((result.CroppedFacePath, result.RestoredPhotoPath), (status.CroppedFacePath, status.RestoredPhotoPath));
        // The pool match looked for the same face the engine restores.
        Assert.Contains(("face:ada:group-photo", FaceChoice.Center), Grid.Analyzer.DetectCalls);
    }

    [Fact]
    public async Task An_aligned_reference_is_enrolled_without_detection_and_is_its_own_aligned_face()
    {
        var pool = Grid.Client.GetGrain<IReferencePoolGrain>("pool-enrol-aligned");
        var chip = Photo("chip:bob:aligned-reference");

        // Detection finds no face in the aligned chip; its framing says none is needed.
        await Assert.ThrowsAsync<FaceNotFoundException>(() => pool.EnrollAsync("bob", chip));
        var reference = await pool.EnrollAsync("bob", chip, FaceFraming.Ffhq);

        Assert.Contains(("chip:bob:aligned-reference", FaceFraming.Ffhq), Grid.Analyzer.AlignedCalls);
        Assert.Equal(chip, await Grid.Images.GetAsync(reference.AlignedFacePath, default));
        Assert.Equal("bob", Assert.Single(await pool.MatchPhotoAsync(Photo("face:bob:other"), 1)).Person);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => pool.EnrollAsync("bob", chip, FaceFraming.DlibChip));
        Assert.Contains("FFHQ", refused.Message, StringComparison.Ordinal);
        Assert.Single(await pool.ListAsync("bob"));
    }

    private static byte[] Photo(string content) => Encoding.UTF8.GetBytes(content);
}

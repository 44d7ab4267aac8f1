using System.Collections.Immutable;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Training;

namespace Sair.Grains.Tests;

/// <summary>
/// The grid's limits hold for a client that calls the grains directly (no CLI in between): refused before anything
/// is stored or started, with the limit and its setting named.
/// </summary>
public sealed class GridLimitsTests(SingleEngineGridFixture fixture) : IClassFixture<SingleEngineGridFixture>
{
    private static readonly RestorationOptions Options = new("paper", Iterations: 10, null, 0, Seed: 1, CheckpointEvery: 5);

    private GridCluster Grid => fixture.Grid;

    [Fact]
    public async Task A_lone_job_of_two_billion_iterations_is_refused_and_holds_no_engine_slot()
    {
        var job = Grid.Client.GetGrain<IRestorationJobGrain>($"limits-{Guid.NewGuid():N}");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(
            new JobSpec("in/x.png", "out/x.png", ReferenceSelection.FromPaths("refs/x.png"), Options with { Iterations = 2_000_000_000 })));

        Assert.Contains($"at most {GridLimits.DefaultMaxIterations} (Sair:Limits:MaxIterations)", error.Message, StringComparison.Ordinal);
        Assert.Equal(JobState.NotStarted, (await job.GetStatusAsync()).State);
    }

    [Fact]
    public async Task An_upscale_over_the_configured_cap_is_refused_by_the_job_grain()
    {
        var job = Grid.Client.GetGrain<IRestorationJobGrain>($"limits-{Guid.NewGuid():N}");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(
            new JobSpec("in/x.png", "out/x.png", ReferenceSelection.FromPaths("refs/x.png"), Options with { Upscale = GridCluster.ConfiguredMaxUpscale * 1.5 })));

        Assert.Contains($"at most {GridCluster.ConfiguredMaxUpscale} (Sair:Limits:MaxUpscale)", error.Message, StringComparison.Ordinal);
        Assert.Equal(JobState.NotStarted, (await job.GetStatusAsync()).State);
    }

    [Fact]
    public async Task A_preset_or_emotion_outside_the_contract_is_refused_by_the_job_grain_naming_the_valid_ones()
    {
        var job = Grid.Client.GetGrain<IRestorationJobGrain>($"limits-{Guid.NewGuid():N}");
        JobSpec Spec(RestorationOptions options) => new("in/x.png", "out/x.png", ReferenceSelection.FromPaths("refs/x.png"), options);

        var preset = await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(Spec(Options with { Preset = "fastest" })));
        var emotion = await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(Spec(Options with { Emotion = "smug" })));

        Assert.Contains(string.Join(", ", RestorationPresets.All), preset.Message, StringComparison.Ordinal);
        Assert.Contains(string.Join(", ", RestorationEmotions.All), emotion.Message, StringComparison.Ordinal);
        Assert.Equal(JobState.NotStarted, (await job.GetStatusAsync()).State);
    }

    [Fact]
    public async Task An_album_over_the_configured_photo_count_or_iterations_is_refused_and_not_recorded()
    {
        var album = Grid.Client.GetGrain<IAlbumGrain>($"limits-{Guid.NewGuid():N}");
        var photos = Enumerable.Range(0, GridCluster.ConfiguredMaxAlbumPhotos + 1).Select(i => $"albums/limits/{i}.png").ToImmutableArray();

        var tooMany = await Assert.ThrowsAsync<ArgumentException>(() =>
            album.SubmitAsync(new AlbumSpec(photos, ReferenceSelection.FromPool("family"), Options, "results/limits")));
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() =>
            album.SubmitAsync(new AlbumSpec(photos[..1], ReferenceSelection.FromPool("family"), Options with { Iterations = GridLimits.DefaultMaxIterations + 1 }, "results/limits")));

        Assert.Contains($"at most {GridCluster.ConfiguredMaxAlbumPhotos} (Sair:Limits:MaxAlbumPhotos)", tooMany.Message, StringComparison.Ordinal);
        Assert.Contains("Sair:Limits:MaxIterations", tooLong.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await album.GetProgressAsync()).Total);
    }

    [Fact]
    public async Task A_training_run_over_the_image_or_batch_limit_is_refused()
    {
        var job = Grid.Client.GetGrain<ITrainingJobGrain>($"limits-{Guid.NewGuid():N}");
        var spec = TrainingJobSpec.Prior("/data/faces", "/runs/limits");

        var images = await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(spec with { TotalImages = long.MaxValue }));
        var batch = await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(spec with { Batch = 1 << 20 }));

        Assert.Contains("Sair:Limits:MaxTrainingImages", images.Message, StringComparison.Ordinal);
        Assert.Contains("Sair:Limits:MaxTrainingBatch", batch.Message, StringComparison.Ordinal);
    }
}

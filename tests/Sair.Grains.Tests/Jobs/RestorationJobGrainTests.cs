using System.Text;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;

namespace Sair.Grains.Tests.Jobs;

public sealed class RestorationJobGrainTests(SingleEngineGridFixture fixture) : IClassFixture<SingleEngineGridFixture>
{
    private static readonly RestorationOptions Options = new("paper", Iterations: 20, null, 0, Seed: 3, CheckpointEvery: 5);

    private GridCluster Grid => fixture.Grid;

    [Fact]
    public async Task Watch_streams_progress_until_the_result_is_written_and_restarting_is_a_no_op()
    {
        var spec = await SpecAsync("watch", "face:ada:1", Options);
        var job = Grid.Client.GetGrain<IRestorationJobGrain>("watch");

        await job.StartAsync(spec);
        var seen = new List<JobProgress>();
        await foreach (var progress in job.WatchAsync())
        {
            seen.Add(progress);
        }

        var last = seen[^1];
        Assert.Equal((JobState.Completed, 20, "out/watch.png"), (last.State, last.Iteration, last.ResultPath));
        Assert.Equal(seen.Select(p => p.Iteration).Order(), seen.Select(p => p.Iteration));
        Assert.Contains(seen, p => p.State == JobState.Running && p.Iteration is > 0 and < 20);

        var again = await job.StartAsync(spec);
        Assert.Equal((JobState.Completed, 1), (again.State, again.Attempt));
        Assert.Single(Grid.Recorder.Runs, r => r.JobId == "watch");
        await Assert.ThrowsAsync<InvalidOperationException>(() => job.StartAsync(spec with { OutputPath = "out/elsewhere.png" }));
    }

    [Fact]
    public async Task Cancelling_stops_the_run_and_writes_no_result()
    {
        var spec = await SpecAsync("cancel", "face:ada:2", Options with { Iterations = 2000 });
        var job = Grid.Client.GetGrain<IRestorationJobGrain>("cancel");
        await job.StartAsync(spec);
        await Eventually.WaitAsync(job.GetStatusAsync, s => s.Iteration > 5, TimeSpan.FromSeconds(10), "the job to iterate");

        var cancelled = await job.CancelAsync();
        await Task.Delay(200);

        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal(JobState.Cancelled, (await job.GetStatusAsync()).State);
        Assert.False(await Grid.Images.ExistsAsync("out/cancel.png", default));
        Assert.DoesNotContain(Grid.Recorder.Finishes, f => f.JobId == "cancel");
    }

    [Fact]
    public async Task A_missing_input_photo_fails_the_job_with_its_path()
    {
        var job = Grid.Client.GetGrain<IRestorationJobGrain>("missing");
        await job.StartAsync(new JobSpec("in/nowhere.png", "out/missing.png", ReferenceSelection.FromPaths("refs/none.png"), Options));

        var status = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(10), "the job to fail");

        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains("in/nowhere.png", status.Error);
    }

    [Fact]
    public async Task An_invalid_spec_is_refused_with_what_to_fix()
    {
        var spec = await SpecAsync("invalid", "face:ada:3", Options with { Iterations = 0 });

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Grid.Client.GetGrain<IRestorationJobGrain>("invalid").StartAsync(spec));

        Assert.Contains("Iterations", error.Message);
        Assert.Equal(JobState.NotStarted, (await Grid.Client.GetGrain<IRestorationJobGrain>("invalid").GetStatusAsync()).State);
    }

    [Fact]
    public async Task A_pool_match_rejected_while_a_silo_failure_settles_is_retried_instead_of_failing_the_job()
    {
        await Grid.Client.GetGrain<IReferencePoolGrain>("settling").EnrollAsync("ada", Encoding.UTF8.GetBytes("face:ada:ref"));
        await Grid.Images.PutAsync("in/settling.png", Encoding.UTF8.GetBytes("face:ada:settling"), default);
        var job = Grid.Client.GetGrain<IRestorationJobGrain>("settling");
        Grid.Analyzer.RejectNextAnalyses(2);

        await job.StartAsync(new JobSpec("in/settling.png", "out/settling.png", ReferenceSelection.FromPool("settling"), Options));
        var status = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(20), "the job to finish");

        Assert.Equal((JobState.Completed, 1), (status.State, status.Attempt));
    }

    private async Task<JobSpec> SpecAsync(string id, string photo, RestorationOptions options)
    {
        await Grid.Images.PutAsync($"in/{id}.png", Encoding.UTF8.GetBytes(photo), default);
        await Grid.Images.PutAsync($"refs/{id}.png", Encoding.UTF8.GetBytes("aligned:ada"), default);
        return new JobSpec($"in/{id}.png", $"out/{id}.png", ReferenceSelection.FromPaths($"refs/{id}.png"), options);
    }
}

using System.Text;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;

namespace Sair.Grains.Tests.Jobs;

public sealed class JobFailoverTests
{
    [Fact]
    public async Task A_lone_job_whose_silo_crashes_resumes_from_its_checkpoint_with_nobody_asking()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(10));
        await grid.Images.PutAsync("in/lone.png", Encoding.UTF8.GetBytes("face:ada:lone"), default);
        await grid.Images.PutAsync("refs/lone.png", Encoding.UTF8.GetBytes("aligned:ada"), default);
        var job = grid.Client.GetGrain<IRestorationJobGrain>("lone");
        var options = new RestorationOptions("paper", Iterations: 150, null, 0, Seed: 5, CheckpointEvery: 10);
        await job.StartAsync(new JobSpec("in/lone.png", "out/lone.png", ReferenceSelection.FromPaths("refs/lone.png"), options));
        var running = await Eventually.WaitAsync(
            job.GetStatusAsync, s => s.CheckpointIteration >= 20, TimeSpan.FromSeconds(20), "a checkpoint at iteration 20");

        var crashed = running.Silo!;
        await grid.Cluster.KillSiloAsync(grid.Silo(crashed));
        // Only the image store is watched: a status call would itself revive the job.
        await Eventually.WaitAsync(
            () => grid.Images.ExistsAsync("out/lone.png", default), written => written, TimeSpan.FromSeconds(40), "the result");

        // The result lands before the run's completion report does.
        var status = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(20), "the completion report");
        Assert.Equal((JobState.Completed, 2), (status.State, status.Attempt));
        Assert.NotEqual(crashed, status.Silo);
        var resumed = Assert.Single(grid.Recorder.Runs, r => r.Silo != crashed);
        Assert.True(resumed.FromIteration >= 20, $"resumed from iteration {resumed.FromIteration}");
        Assert.Equal(1, grid.Images.Puts["out/lone.png"]);
    }
}

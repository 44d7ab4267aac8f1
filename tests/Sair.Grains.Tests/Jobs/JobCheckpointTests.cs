using System.Text;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;

namespace Sair.Grains.Tests.Jobs;

/// <summary>
/// No checkpoint blob outlives its job, whichever order a failover, a cancellation or a failure puts the writes in.
/// Each test holds one write in flight (<see cref="PutGate"/>) to force the interleaving it names.
/// </summary>
public sealed class JobCheckpointTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_checkpoint_a_superseded_run_writes_after_the_job_completed_elsewhere_is_deleted()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(10));
        var late = PutGate.BeforeLanding(grid.Images, JobCheckpoints.Path("late", 1, 1));
        var job = await StartAsync(grid, "late", iterations: 60);
        await late.Entered.WaitAsync(Wait);
        var first = await job.GetStatusAsync();

        await grid.Cluster.KillSiloAsync(grid.Silo(first.Silo!));
        var completed = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), Wait, "the job to complete elsewhere");
        Assert.Equal((JobState.Completed, 2), (completed.State, completed.Attempt));
        Assert.Empty(Checkpoints(grid, "late"));
        late.Release();

        await Eventually.WaitAsync(
            () => Task.FromResult(grid.Images.Puts.ContainsKey(JobCheckpoints.Path("late", 1, 1)) && Checkpoints(grid, "late").Count == 0),
            deleted => deleted, Wait, "the late checkpoint to land and be deleted");
        Assert.Equal(1, grid.Images.Puts["out/late.png"]);
    }

    [Fact]
    public async Task A_late_write_whose_writer_died_before_reporting_is_swept_by_the_finished_jobs_last_reminder_tick()
    {
        await using var grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(10));
        var job = await StartAsync(grid, "swept", iterations: 30);
        await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), Wait, "the job to complete");

        // A superseded run's write that lands after completion, from a silo that dies before its report: no refusal
        // ever names it, so only the final sweep can delete it.
        await grid.Images.PutAsync(JobCheckpoints.Path("swept", 1, 1), Encoding.UTF8.GetBytes("orphan"), default);

        await Eventually.WaitAsync(() => Task.FromResult(Checkpoints(grid, "swept").Count), count => count == 0, Wait,
            "the finished job's last reminder tick to sweep the orphaned checkpoint");
    }

    [Fact]
    public async Task A_late_report_of_a_superseded_attempt_deletes_its_blob_but_not_the_checkpoint_the_job_resumed_from()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(10));
        var firstLate = PutGate.BeforeLanding(grid.Images, JobCheckpoints.Path("stale", 1, 1));
        var secondHeld = PutGate.BeforeLanding(grid.Images, JobCheckpoints.Path("stale", 2, 0));
        var job = await StartAsync(grid, "stale", iterations: 60);
        await firstLate.Entered.WaitAsync(Wait);
        var first = await job.GetStatusAsync();
        await grid.Cluster.KillSiloAsync(grid.Silo(first.Silo!));
        await secondHeld.Entered.WaitAsync(Wait);

        // Attempt 2 runs from attempt 1's checkpoint at iteration 10; attempt 1 reports the two blobs it wrote.
        var resumedFrom = JobCheckpoints.Path("stale", 1, 0);
        var superseded = JobCheckpoints.Path("stale", 1, 1);
        await grid.Images.PutAsync(superseded, Encoding.UTF8.GetBytes("stale@20"), default);
        var reports = grid.Client.GetGrain<IRestorationJobReports>("stale");
        Assert.False(await reports.ReportCheckpointAsync(1, 20, superseded));
        Assert.False(await reports.ReportCheckpointAsync(1, 10, resumedFrom));

        Assert.False(await grid.Images.ExistsAsync(superseded, default));
        Assert.True(await grid.Images.ExistsAsync(resumedFrom, default));
        secondHeld.Release();
        firstLate.Release();
        var completed = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), Wait, "the job to complete");
        Assert.Equal((JobState.Completed, 2), (completed.State, completed.Attempt));
        Assert.Contains(grid.Recorder.Runs, r => r.JobId == "stale" && r.FromIteration == 10);
        await Eventually.WaitAsync(() => Task.FromResult(Checkpoints(grid, "stale")), c => c.Count == 0, Wait, "no checkpoint");
    }

    [Fact]
    public async Task A_result_written_by_an_attempt_that_died_before_reporting_completes_the_job_without_leaving_checkpoints()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(5));
        var unreported = PutGate.AfterLanding(grid.Images, "out/written.png");
        var job = await StartAsync(grid, "written", iterations: 30);
        await unreported.Entered.WaitAsync(Wait);
        var first = await job.GetStatusAsync();
        Assert.Equal(20, first.CheckpointIteration);

        await grid.Cluster.KillSiloAsync(grid.Silo(first.Silo!));
        var completed = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), Wait, "the job to complete");
        unreported.Release();

        Assert.Equal((JobState.Completed, 2), (completed.State, completed.Attempt));
        Assert.Equal(1, grid.Images.Puts["out/written.png"]);
        Assert.Single(grid.Recorder.Runs, r => r.JobId == "written");
        Assert.Empty(Checkpoints(grid, "written"));
    }

    [Fact]
    public async Task Cancelling_a_job_while_its_checkpoint_write_is_in_flight_leaves_no_checkpoint()
    {
        await using var grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(5));
        var inFlight = PutGate.BeforeLanding(grid.Images, JobCheckpoints.Path("cancel", 1, 1));
        var job = await StartAsync(grid, "cancel", iterations: 2000);
        await inFlight.Entered.WaitAsync(Wait);

        var cancelled = await job.CancelAsync();
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Empty(Checkpoints(grid, "cancel"));
        inFlight.Release();

        await Eventually.WaitAsync(
            () => Task.FromResult(grid.Images.Puts.ContainsKey(JobCheckpoints.Path("cancel", 1, 1))), landed => landed, Wait, "the write to land");
        await Eventually.WaitAsync(() => Task.FromResult(Checkpoints(grid, "cancel")), c => c.Count == 0, Wait, "no checkpoint");
        Assert.Equal(JobState.Cancelled, (await job.GetStatusAsync()).State);
    }

    [Fact]
    public async Task A_job_that_fails_after_checkpointing_leaves_no_checkpoint()
    {
        await using var grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(2));
        grid.Images.BeforePut = path => path == "out/broken.png"
            ? Task.FromException(new InvalidDataException("the encoder refused the result"))
            : Task.CompletedTask;
        var job = await StartAsync(grid, "broken", iterations: 30);

        var failed = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), Wait, "the job to fail");

        Assert.Equal((JobState.Failed, 20, 1), (failed.State, failed.CheckpointIteration, failed.Attempt));
        Assert.Contains("encoder refused", failed.Error);
        Assert.Empty(Checkpoints(grid, "broken"));
    }

    [Fact]
    public async Task A_run_cut_short_by_a_full_disk_is_retried_from_its_checkpoint_and_completes()
    {
        await using var grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(2));
        var refusals = 0;
        grid.Images.BeforePut = path => path == "out/full.png" && Interlocked.Increment(ref refusals) <= 2
            ? Task.FromException(new IOException("No space left on device"))
            : Task.CompletedTask;
        var job = await StartAsync(grid, "full", iterations: 30);

        var completed = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), Wait, "the job to complete");

        Assert.Equal((JobState.Completed, 3), (completed.State, completed.Attempt));
        // Both retries resumed from the checkpoint at iteration 20 instead of starting over.
        Assert.Equal([0, 20, 20], grid.Recorder.Runs.Where(r => r.JobId == "full").Select(r => r.FromIteration).ToArray());
        Assert.Equal(1, grid.Images.Puts["out/full.png"]);
        await Eventually.WaitAsync(() => Task.FromResult(Checkpoints(grid, "full")), c => c.Count == 0, Wait, "no checkpoint");
    }

    [Fact]
    public async Task A_run_the_grid_keeps_cutting_short_fails_after_its_attempts_with_the_last_reason_and_no_checkpoint()
    {
        await using var grid = await GridCluster.StartAsync(silos: 2, iterationTime: TimeSpan.FromMilliseconds(2));
        grid.Images.BeforePut = path => path == "out/broken.png"
            ? Task.FromException(new IOException("the results disk is full"))
            : Task.CompletedTask;
        var job = await StartAsync(grid, "broken", iterations: 30);

        var failed = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), Wait, "the job to fail");

        Assert.Equal((JobState.Failed, GridCluster.ConfiguredMaxAttempts), (failed.State, failed.Attempt));
        Assert.Contains($"gave up after {GridCluster.ConfiguredMaxAttempts} attempts", failed.Error);
        Assert.Contains("IOException: the results disk is full", failed.Error);
        Assert.Empty(Checkpoints(grid, "broken"));
    }

    [Fact]
    public async Task A_job_whose_checkpoint_is_gone_starts_over_instead_of_failing()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(5));
        var held = PutGate.BeforeLanding(grid.Images, JobCheckpoints.Path("gone", 1, 1));
        var job = await StartAsync(grid, "gone", iterations: 30);
        await held.Entered.WaitAsync(Wait);
        var first = await job.GetStatusAsync();

        // What a run leaves when the answer to its checkpoint report was lost: it deleted the blob the grain took.
        await grid.Images.DeleteAsync(JobCheckpoints.Path("gone", 1, 0), default);
        await grid.Cluster.KillSiloAsync(grid.Silo(first.Silo!));
        var completed = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), Wait, "the job to complete");
        held.Release();

        Assert.Equal((JobState.Completed, 2), (completed.State, completed.Attempt));
        Assert.Contains(grid.Recorder.Runs, r => r.JobId == "gone" && r.Silo != first.Silo && r.FromIteration == 0);
        Assert.Equal(1, grid.Images.Puts["out/gone.png"]);
        await Eventually.WaitAsync(() => Task.FromResult(Checkpoints(grid, "gone")), c => c.Count == 0, Wait, "no checkpoint");
    }

    private static async Task<IRestorationJobGrain> StartAsync(GridCluster grid, string id, int iterations)
    {
        await grid.Images.PutAsync($"in/{id}.png", Encoding.UTF8.GetBytes($"face:ada:{id}"), default);
        await grid.Images.PutAsync($"refs/{id}.png", Encoding.UTF8.GetBytes("aligned:ada"), default);
        var options = new RestorationOptions("paper", iterations, null, 0, Seed: 11, CheckpointEvery: 10);
        var job = grid.Client.GetGrain<IRestorationJobGrain>(id);
        await job.StartAsync(new JobSpec($"in/{id}.png", $"out/{id}.png", ReferenceSelection.FromPaths($"refs/{id}.png"), options));
        return job;
    }

    private static List<string> Checkpoints(GridCluster grid, string id) =>
        [.. grid.Images.Paths.Where(p => p.StartsWith($"jobs/{id}/", StringComparison.Ordinal))];
}

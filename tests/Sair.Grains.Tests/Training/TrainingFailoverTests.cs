using Sair.Grains.Jobs;
using Sair.Grains.Training;

namespace Sair.Grains.Tests.Training;

public sealed class TrainingFailoverTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-training-failover-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_training_job_whose_silo_crashes_resumes_from_its_checkpoint_on_another_engine_silo()
    {
        await using var grid = await GridCluster.StartAsync(silos: 3, iterationTime: TimeSpan.FromMilliseconds(10));
        var data = Directory.CreateDirectory(Path.Combine(_work, "faces")).FullName;
        var spec = TrainingJobSpec.Prior(data, Path.Combine(_work, "run")) with { TotalImages = 600, Batch = 4, CheckpointEvery = 10 };
        var job = grid.Client.GetGrain<ITrainingJobGrain>("lone");
        await job.StartAsync(spec);
        var running = await Eventually.WaitAsync(
            job.GetStatusAsync, s => s.CheckpointStep >= 20, TimeSpan.FromSeconds(20), "a checkpoint at step 20");

        var crashed = running.Silo!;
        await grid.Cluster.KillSiloAsync(grid.Silo(crashed));
        // Only the output folder is watched: a status call would itself revive the job.
        var generator = Path.Combine(spec.OutputFolder, FakeTrainingEngine.GeneratorFile);
        await Eventually.WaitAsync(() => Task.FromResult(File.Exists(generator)), written => written, TimeSpan.FromSeconds(40), "the generator");

        var status = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(10), "the completion report");
        Assert.Equal((JobState.Completed, 2, 150L), (status.State, status.Attempt, status.Step));
        Assert.NotEqual(crashed, status.Silo);
        Assert.NotEqual(GridCluster.CoordinatorSilo, status.Silo);
        var resumed = Assert.Single(grid.Training.Runs, r => r.Silo != crashed);
        Assert.True(resumed.FromStep >= 20, $"resumed from step {resumed.FromStep}");
    }
}

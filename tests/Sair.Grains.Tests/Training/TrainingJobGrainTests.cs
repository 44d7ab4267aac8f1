using Sair.Grains.Jobs;
using Sair.Grains.Training;

namespace Sair.Grains.Tests.Training;

public sealed class TrainingJobGrainTests(SingleEngineGridFixture fixture) : IClassFixture<SingleEngineGridFixture>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-training-").FullName;

    private GridCluster Grid => fixture.Grid;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Watch_streams_progress_on_the_engine_silo_until_the_generator_is_written()
    {
        var spec = Spec("watch") with { TotalImages = 80, Batch = 4, FfdEvery = 5, CheckpointEvery = 5 };
        var job = Grid.Client.GetGrain<ITrainingJobGrain>("watch");

        await job.StartAsync(spec);
        var seen = new List<TrainingJobStatus>();
        await foreach (var status in job.WatchAsync())
        {
            seen.Add(status);
        }

        var last = seen[^1];
        Assert.Equal((JobState.Completed, 20L, 80L), (last.State, last.Step, last.ImagesSeen));
        Assert.NotEqual(GridCluster.CoordinatorSilo, last.Silo);
        Assert.Equal(Path.Combine(spec.OutputFolder, FakeTrainingEngine.GeneratorFile), Assert.Single(last.Outcome!.Files));
        Assert.True(File.Exists(last.Outcome.Files[0]));
        Assert.Contains(seen, s => s.State == JobState.Running && s.Step is > 0 and < 20);
        Assert.Equal(seen.Select(s => s.Step).Order(), seen.Select(s => s.Step));
        // The last FFD and sample grid stay in the status between measurements.
        Assert.Equal(20, last.Progress!.FfdStep);
        Assert.Equal(100.0 / 20, last.Progress.Ffd);
        Assert.EndsWith("step-0000020.png", last.Progress.SampleGrid);
        Assert.Equal(80, last.Progress.Total);
        Assert.Single(Grid.Training.Runs, r => r.JobId == "watch");
    }

    [Fact]
    public async Task Starting_the_same_job_twice_runs_it_once_and_other_folders_need_another_id()
    {
        var spec = Spec("twice") with { TotalImages = 400, Batch = 4 };
        var job = Grid.Client.GetGrain<ITrainingJobGrain>("twice");

        var first = await job.StartAsync(spec);
        var second = await job.StartAsync(spec);
        var done = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(20), "the job to finish");
        var third = await job.StartAsync(spec);

        Assert.Equal((1, 1), (first.Attempt, second.Attempt));
        Assert.Equal((JobState.Completed, 1), (done.State, done.Attempt));
        Assert.Equal((JobState.Completed, 1), (third.State, third.Attempt));
        Assert.Single(Grid.Training.Runs, r => r.JobId == "twice");
        var other = await Assert.ThrowsAsync<InvalidOperationException>(() => job.StartAsync(spec with { OutputFolder = Path.Combine(_work, "elsewhere") }));
        Assert.Contains("new job id", other.Message);
    }

    [Fact]
    public async Task Cancelling_keeps_the_checkpoint_and_starting_again_resumes_from_it()
    {
        var spec = Spec("cancel") with { TotalImages = 4000, Batch = 4, CheckpointEvery = 3 };
        var job = Grid.Client.GetGrain<ITrainingJobGrain>("cancel");
        await job.StartAsync(spec);
        await Eventually.WaitAsync(job.GetStatusAsync, s => s.Step >= 7, TimeSpan.FromSeconds(10), "the job to train");

        var cancelled = await job.CancelAsync();
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Contains("resumes", cancelled.Error);
        var checkpoint = Path.Combine(spec.OutputFolder, FakeTrainingEngine.CheckpointFile);
        await Eventually.WaitAsync(() => Task.FromResult(File.Exists(checkpoint)), e => e, TimeSpan.FromSeconds(5), "the checkpoint");
        Assert.Equal(JobState.Cancelled, (await job.GetStatusAsync()).State);

        var restarted = await job.StartAsync(spec with { TotalImages = 60 });
        var done = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(20), "the resumed job");

        Assert.Equal(2, restarted.Attempt);
        Assert.Equal((JobState.Completed, 15L), (done.State, done.Step));
        var runs = Grid.Training.Runs.Where(r => r.JobId == "cancel").ToList();
        Assert.Equal(2, runs.Count);
        Assert.Equal(0, runs[0].FromStep);
        Assert.True(runs[1].FromStep >= 7, $"the second run started at step {runs[1].FromStep}");
    }

    [Fact]
    public async Task A_data_folder_missing_on_the_engine_silo_fails_the_job_with_its_path()
    {
        var missing = Path.Combine(_work, "not-here");
        var job = Grid.Client.GetGrain<ITrainingJobGrain>("missing");
        await job.StartAsync(TrainingJobSpec.Prior(missing, Path.Combine(_work, "missing-out")));

        var status = await Eventually.WaitAsync(job.GetStatusAsync, s => s.State.IsFinished(), TimeSpan.FromSeconds(10), "the job to fail");

        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains(missing, status.Error);
        Assert.Contains("engine silo", status.Error);
        Assert.DoesNotContain(Grid.Training.Runs, r => r.JobId == "missing");
    }

    [Fact]
    public async Task A_relative_path_is_refused_before_anything_runs()
    {
        var job = Grid.Client.GetGrain<ITrainingJobGrain>("relative");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(TrainingJobSpec.Prior("faces", Path.Combine(_work, "out"))));

        Assert.Contains("absolute", error.Message);
        Assert.Equal(JobState.NotStarted, (await job.GetStatusAsync()).State);
    }

    [Fact]
    public async Task An_emotion_fit_reports_its_stages_and_the_accuracy_of_each_emotion()
    {
        var job = Grid.Client.GetGrain<ITrainingJobGrain>("emotions");
        await job.StartAsync(TrainingJobSpec.Emotions(Path.Combine(_work, "directions"), samples: 10));

        var seen = new List<TrainingJobStatus>();
        await foreach (var status in job.WatchAsync())
        {
            seen.Add(status);
        }

        Assert.Equal(JobState.Completed, seen[^1].State);
        Assert.Equal(7, seen[^1].Outcome!.Emotions.Length);
        Assert.Contains(seen, s => s.Progress?.Stage == "labelling");
    }

    private TrainingJobSpec Spec(string name)
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, name, "faces")).FullName;
        return TrainingJobSpec.Prior(data, Path.Combine(_work, name, "run"));
    }
}

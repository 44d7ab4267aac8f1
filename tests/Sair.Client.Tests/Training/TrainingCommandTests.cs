using Sair.Client.Tests.Support;
using Sair.Client.Training;
using Sair.Grains.Jobs;
using Sair.Grains.Training;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Training;

/// <summary>'sair prior train' and friends against the in-process grid, whose engine silo has a fake trainer.</summary>
[Collection(ClientGridCollection.Name)]
public sealed class TrainingCommandTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-train-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Train_sends_absolute_paths_prints_progress_and_the_generator_and_a_rerun_finds_the_finished_job()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "faces")).FullName;
        var output = Path.Combine(_work, "prior");
        var relative = (string path) => Path.GetRelativePath(Environment.CurrentDirectory, path);
        using var cli = new Support.Cli(grid.Connector, width: 160);
        string[] line = ["prior", "train", "--data", relative(data), "-o", relative(output), "--images", "80", "--batch", "4", "--ffd-every", "10"];

        var exit = await cli.RunAsync(line);
        log.WriteLine(cli.Output);

        Assert.Equal(ExitCodes.Success, exit);
        var spec = Assert.Single(grid.Trainer.Specs, s => s.OutputFolder == output);
        Assert.Equal((data, 80L, 4, 10, 32), (spec.DataFolder, spec.TotalImages, spec.Batch, spec.FfdEvery, spec.Size));
        var id = TrainingJobIds.Default(TrainingKind.Prior, output);
        Assert.Contains($"Started prior training {id}", cli.Output, StringComparison.Ordinal);
        Assert.Contains("FFD 8.00 @ step 10", cli.Output, StringComparison.Ordinal);
        Assert.Contains($"samples: {Path.Combine(output, "samples")}", cli.Output, StringComparison.Ordinal);
        Assert.Contains("Done", cli.Output, StringComparison.Ordinal);
        Assert.Contains("80/80 images", cli.Output, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(output, "generator.safetensors"), cli.Output, StringComparison.Ordinal);

        using var again = new Support.Cli(grid.Connector, width: 160);
        Assert.Equal(ExitCodes.Success, await again.RunAsync(line));
        Assert.Contains("already completed", again.Output, StringComparison.Ordinal);
        Assert.Single(grid.Trainer.Specs, s => s.OutputFolder == output);
    }

    [Fact]
    public async Task On_a_terminal_the_bar_shows_speed_losses_and_fills_up()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "faces")).FullName;
        using var cli = new Support.Cli(grid.Connector, width: 160, interactive: true);

        var exit = await cli.RunAsync("prior", "train", "--data", data, "-o", Path.Combine(_work, "bar"), "--images", "400", "--batch", "4");
        log.WriteLine(cli.Output);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Matches(@"250\.0 img/s", cli.Output);
        Assert.Matches(@"D 1\.\d{3} · G 0\.\d{3}", cli.Output);
        Assert.Contains("100%", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_c_while_attached_cancels_the_job_and_says_how_to_resume()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "faces")).FullName;
        var output = Path.Combine(_work, "interrupted");
        var job = grid.Grains.GetGrain<ITrainingJobGrain>("interrupted");
        using var cli = new Support.Cli(grid.Connector, width: 160);
        using var interrupt = new CancellationTokenSource();

        var run = cli.RunAsync(interrupt.Token, "prior", "train", "--data", data, "-o", output, "--images", "400000", "--batch", "4", "--job-id", "interrupted");
        await WaitAsync(async () => (await job.GetStatusAsync()).Step > 3);
        await interrupt.CancelAsync();
        var exit = await run;
        log.WriteLine(cli.Output);

        Assert.Equal(ExitCodes.Interrupted, exit);
        Assert.Contains("run the same command again to resume", cli.Output, StringComparison.Ordinal);
        Assert.Equal(JobState.Cancelled, (await job.GetStatusAsync()).State);
    }

    [Fact]
    public async Task Detach_returns_at_once_and_status_and_cancel_find_the_job()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "faces")).FullName;
        using var cli = new Support.Cli(grid.Connector, width: 160);

        var exit = await cli.RunAsync("prior", "train", "--data", data, "-o", Path.Combine(_work, "detached"), "--images", "400000", "--batch", "4",
            "--job-id", "detached", "--detach");

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("sair prior watch detached", cli.Output, StringComparison.Ordinal);
        var job = grid.Grains.GetGrain<ITrainingJobGrain>("detached");
        await WaitAsync(async () => (await job.GetStatusAsync()).Step > 0);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("prior", "status", "detached"));
        Assert.Contains("running", cli.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Success, await cli.RunAsync("prior", "cancel", "detached"));
        Assert.Equal(JobState.Cancelled, (await job.GetStatusAsync()).State);
        Assert.Equal(ExitCodes.Failure, await cli.RunAsync("prior", "watch", "detached"));
        Assert.Contains("starting it again with the same command resumes", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_job_is_a_failure()
    {
        using var cli = new Support.Cli(grid.Connector);

        Assert.Equal(ExitCodes.Failure, await cli.RunAsync("prior", "status", "never-started"));
        Assert.Contains("No training job 'never-started'", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_emotion_fit_prints_the_accuracy_of_each_emotion()
    {
        using var cli = new Support.Cli(grid.Connector, width: 160);

        var exit = await cli.RunAsync("emotions", "fit", "-o", Path.Combine(_work, "directions"), "--samples", "200");
        log.WriteLine(cli.Output);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(200, grid.Trainer.Specs.Single(s => s.Kind == TrainingKind.Emotions && s.OutputFolder == Path.Combine(_work, "directions")).Samples);
        Assert.Matches(@"surprise\s*│\s*14\s*│\s*argmax\s*│\s*95\.0%\s*│\s*87\.5%\s*│\s*\+0\.125", cli.Output);
    }

    [Fact]
    public void Default_job_ids_are_stable_per_output_folder_and_valid()
    {
        var a = TrainingJobIds.Default(TrainingKind.Prior, "/data/priors/faces 32/");
        var b = TrainingJobIds.Default(TrainingKind.Prior, "/data/priors/faces 32");
        var other = TrainingJobIds.Default(TrainingKind.Prior, "/elsewhere/faces 32");

        Assert.Equal(a, b);
        Assert.NotEqual(a, other);
        Assert.StartsWith("prior-faces-32-", a, StringComparison.Ordinal);
        Assert.True(TrainingJobIds.IsValid(a));
        Assert.StartsWith("emotions-", TrainingJobIds.Default(TrainingKind.Emotions, "/x/y"), StringComparison.Ordinal);
    }

    private static async Task WaitAsync(Func<Task<bool>> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, "waited 20 s");
            await Task.Delay(20);
        }
    }
}

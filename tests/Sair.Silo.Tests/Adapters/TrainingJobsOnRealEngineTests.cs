using Sair.Engine.FaceNets;
using Sair.Engine.Restoration;
using Sair.Engine.StyleGan;
using Sair.Engine.Training;
using Sair.Grains.Jobs;
using Sair.Grains.Training;

namespace Sair.Silo.Tests.Adapters;

/// <summary>A tiny prior trained, and emotion directions fitted, by the real engine through the training job grain on an engine silo.</summary>
[Collection(TinyEngineCollection.Name)]
public sealed class TrainingJobsOnRealEngineTests(RealEngineCluster grid) : IClassFixture<RealEngineCluster>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-prior-job-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_prior_job_writes_the_generator_and_a_longer_second_start_continues_from_its_checkpoint()
    {
        CopyFaces(Path.Combine(_work, "faces", "lfw"));

        var output = Path.Combine(_work, "run");
        var spec = TinyPrior(Path.Combine(_work, "faces"), output, totalImages: 32);
        var job = grid.Client.GetGrain<ITrainingJobGrain>("tiny-prior");

        await job.StartAsync(spec);
        var first = (await WatchAsync(job))[^1];

        Assert.True(first.State == JobState.Completed, $"the job ended {first.State}: {first.Error}");
        Assert.Equal((8L, 32L, 8L), (first.Step, first.ImagesSeen, first.CheckpointStep));
        Assert.True(File.Exists(Path.Combine(output, PriorTrainer.CheckpointFileName)));
        var generator = Path.Combine(output, PriorTrainer.GeneratorFileName);
        Assert.Equal(generator, Assert.Single(first.Outcome!.Files));
        using (var g = StyleGan2Loader.Load(generator))
        {
            Assert.Equal(8, g.Config.Size);
        }

        Assert.Equal(Path.Combine(output, "samples", "step-0000008.png"), first.Progress!.SampleGrid);

        var longer = await job.StartAsync(spec with { TotalImages = 64 });
        Assert.Equal(2, longer.Attempt);
        var statuses = await WatchAsync(job);

        Assert.Equal((JobState.Completed, 16L, 64L), (statuses[^1].State, statuses[^1].Step, statuses[^1].ImagesSeen));
        Assert.All(statuses, s => Assert.True(s.Step >= 8, $"the second run went back to step {s.Step}"));
        // One log line per step over both runs: the second run continued at step 9 instead of training from scratch.
        var steps = File.ReadLines(Path.Combine(output, "train-log.csv")).Skip(1).Select(line => long.Parse(line.Split(',')[0]));
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), steps);
    }

    [Fact]
    public async Task A_prior_job_on_a_folder_holding_the_hostile_corpus_trains_on_the_readable_files_and_counts_the_rest()
    {
        var data = Path.Combine(_work, "hostile", "lfw");
        var faces = CopyFaces(data);

        // Beside the faces: empty, wrong magic, truncated JPEG and PNG, a PNG claiming 100,000² pixels, a link to
        // itself, a link to /etc/passwd (outside the folder: not read), a folder named x.jpg, and odd but honest images.
        await HostileCorpus.WriteAsync(data, faces[0]);
        var output = Path.Combine(_work, "hostile-run");
        var spec = TinyPrior(Path.Combine(_work, "hostile"), output, totalImages: 16);
        var job = grid.Client.GetGrain<ITrainingJobGrain>("hostile-prior");

        await job.StartAsync(spec);
        var done = (await WatchAsync(job))[^1];

        Assert.True(done.State == JobState.Completed, $"the job ended {done.State}: {done.Error}");
        Assert.Equal(HostileCorpus.Refused.Length, done.Progress!.SkippedFiles);
        Assert.True(File.Exists(Path.Combine(output, PriorTrainer.GeneratorFileName)));
        Assert.Contains($"{HostileCorpus.Refused.Length} unreadable file(s) skipped", File.ReadAllText(Path.Combine(output, "run.log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_emotion_fit_of_the_silos_own_generator_writes_seven_directions_and_their_accuracies()
    {
        var output = Path.Combine(_work, "directions");
        var job = grid.Client.GetGrain<ITrainingJobGrain>("tiny-emotions");

        await job.StartAsync(TrainingJobSpec.Emotions(output, samples: 40));
        var statuses = await WatchAsync(job);
        var done = statuses[^1];

        Assert.True(done.State == JobState.Completed, $"the job ended {done.State}: {done.Error}");
        Assert.Equal(Emotions.Names, done.Outcome!.Emotions.Select(e => e.Emotion));
        Assert.All(done.Outcome.Emotions, e => Assert.InRange(e.HeldOutAccuracy, 0, 1));
        Assert.All(done.Outcome.Files, file => Assert.True(File.Exists(file), $"{file} was not written"));
        Assert.Equal(8, done.Outcome.Files.Length);
        Assert.Equal(TinyEngine.GeneratorPath, EmotionDirectionFitter.ReadReport(output).Generator);
        using var directions = EmotionDirections.LoadOfficialFolder(output);
    }

    /// <summary>A prior run small enough for a test: 8 px, 8 channels, batches of 4, samples and checkpoints every 4 steps.</summary>
    private static TrainingJobSpec TinyPrior(string data, string output, long totalImages) =>
        TrainingJobSpec.Prior(data, output) with
        {
            Size = 8, Channels = 8, Batch = 4, TotalImages = totalImages, FfdEvery = 0, SampleEvery = 4, CheckpointEvery = 4,
        };

    /// <summary>Eight training faces (none of a held-out person) copied into <paramref name="folder"/>; their new paths.</summary>
    private static List<string> CopyFaces(string folder)
    {
        Directory.CreateDirectory(folder);
        return [.. Directory.EnumerateFiles(RepoPaths.SharedFile("data", "faces-train", "lfw"), "*.jpg")
            .Where(f => !Sair.Engine.Training.HoldoutList.Committed.Excludes(f)).Order().Take(8)
            .Select(face =>
            {
                var copy = Path.Combine(folder, Path.GetFileName(face));
                File.Copy(face, copy);
                return copy;
            })];
    }

    private static async Task<List<TrainingJobStatus>> WatchAsync(ITrainingJobGrain job)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var statuses = new List<TrainingJobStatus>();
        await foreach (var status in job.WatchAsync(timeout.Token))
        {
            statuses.Add(status);
        }

        return statuses;
    }
}

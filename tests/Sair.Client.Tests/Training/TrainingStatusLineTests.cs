using Sair.Client.Training;
using Sair.Grains.Jobs;
using Sair.Grains.Training;

namespace Sair.Client.Tests.Training;

/// <summary>The one line 'sair prior status' and 'watch' print for a training job.</summary>
public sealed class TrainingStatusLineTests
{
    [Fact]
    public void A_prior_run_says_how_many_data_files_it_could_not_read()
    {
        var progress = new TrainingProgress(120, 1_920, 200_000, DLoss: 1.2, GLoss: 0.8, ImagesPerSecond: 12.5, SkippedFiles: 3);
        var status = new TrainingJobStatus("faces64", TrainingKind.Prior, JobState.Running, progress, 1, "engine-1", null, "/runs/faces64", null);

        var line = TrainingFollower.Describe(status);

        Assert.Equal("running · step 120 · 1,920/200,000 images · 12.5 img/s · D 1.200 · G 0.800 · 3 unreadable data file(s) skipped", line);
        Assert.DoesNotContain("skipped", TrainingFollower.Describe(status with { Progress = progress with { SkippedFiles = 0 } }));
    }
}

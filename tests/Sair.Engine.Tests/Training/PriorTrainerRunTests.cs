using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Sair.Engine.IO;
using Sair.Engine.StyleGan;
using Sair.Engine.Tests.FaceNets;
using Sair.Engine.Training;

namespace Sair.Engine.Tests.Training;

/// <summary>The background entry point: output files, resuming from the output folder, cancellation.</summary>
public sealed class PriorTrainerRunTests : IDisposable
{
    private readonly string _data = TinyTraining.TempPath("data");
    private readonly string _out = TinyTraining.TempPath("out");

    public PriorTrainerRunTests()
    {
        var random = new Random(3);
        for (var i = 0; i < 12; i++)
        {
            using var image = new Image<Rgb24>(10, 10);
            for (var y = 0; y < 10; y++)
            {
                for (var x = 0; x < 10; x++)
                {
                    image[x, y] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                }
            }
            var folder = Path.Combine(_data, i % 2 == 0 ? "utkface" : "lfw");
            Directory.CreateDirectory(folder);
            image.SaveAsPng(Path.Combine(folder, $"face{i:D2}.png"));
        }

        // What a scraped folder holds beside faces: a cut-off download and a text file named like a photo.
        File.WriteAllBytes(Path.Combine(_data, "lfw", "truncated.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0x00]);
        File.WriteAllText(Path.Combine(_data, "utkface", "notes.png"), "not an image");
    }

    public void Dispose()
    {
        foreach (var dir in new[] { _data, _out })
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Run_writes_checkpoint_samples_log_and_generator_then_continues_from_the_folder()
    {
        var options = TinyTraining.Options() with { TotalImages = 8, SampleEvery = 1, CheckpointEvery = 1 };
        var reports = new List<PriorTrainingProgress>();
        await PriorTrainer.RunAsync(options, _data, _out, new Immediate(reports.Add));

        Assert.Equal([1L, 2L], reports.Select(r => r.Step));
        Assert.Equal(8, reports[^1].ImagesSeen);
        // The unreadable files of the data folder were left out, counted in every report and in the run's log.
        Assert.All(reports, r => Assert.Equal(2, r.SkippedFiles));
        Assert.Contains("2 unreadable file(s) skipped", File.ReadAllText(Path.Combine(_out, PriorTrainer.RunLogFileName)));
        Assert.True(reports[0].Losses.R1.HasValue);
        Assert.All(reports, r => Assert.True(r.ImagesPerSecond > 0));
        Assert.True(File.Exists(Path.Combine(_out, "samples", "step-0000002.png")));
        Assert.Equal(Path.Combine(_out, "samples", "step-0000002.png"), reports[^1].SampleGrid);
        Assert.Equal([1L, 2L], reports.Select(r => r.CheckpointStep));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(_out, "train-log.csv")).Length);
        using (var g = StyleGan2Loader.Load(Path.Combine(_out, PriorTrainer.GeneratorFileName)))
        {
            Assert.Equal(options.GeneratorConfig(), g.Config);
        }

        reports.Clear();
        await PriorTrainer.RunAsync(options with { TotalImages = 16, CheckpointEvery = 2 }, _data, _out, new Immediate(reports.Add));
        Assert.Equal([3L, 4L], reports.Select(r => r.Step));
        // The checkpoint's options win on resume: it still saves every step.
        Assert.Equal([3L, 4L], reports.Select(r => r.CheckpointStep));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(_out, "train-log.csv")).Length);
    }

    [Fact]
    public async Task Cancelling_saves_the_checkpoint_of_the_last_finished_step()
    {
        using var cts = new CancellationTokenSource();
        var options = TinyTraining.Options() with { TotalImages = 1000, SampleEvery = 0, CheckpointEvery = 100 };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            PriorTrainer.RunAsync(options, _data, _out, new Immediate(p =>
            {
                if (p.Step == 3)
                {
                    cts.Cancel();
                }
            }), cts.Token));
        var (tensors, metadata) = Safetensors.Read(Path.Combine(_out, PriorTrainer.CheckpointFileName));
        foreach (var (_, t) in tensors)
        {
            t.Dispose();
        }
        Assert.Equal("3", metadata["step"]);
        Assert.True(File.Exists(Path.Combine(_out, PriorTrainer.GeneratorFileName)));
    }

    [Fact]
    public async Task The_checkpoint_of_the_lowest_FFD_is_kept_beside_the_running_one_and_a_resume_compares_against_the_log()
    {
        var options = TinyTraining.Options() with { TotalImages = 24, SampleEvery = 0, CheckpointEvery = 1, FfdEvery = 1, FfdSamples = 4 };
        await PriorTrainer.RunAsync(options, _data, _out, models: InstalledFaceModels.Locator);

        var best = BestLogged();
        Assert.Equal(best.Step, BestCheckpointStep());
        using (var g = StyleGan2Loader.Load(Path.Combine(_out, PriorTrainer.BestGeneratorFileName)))
        {
            Assert.Equal(options.GeneratorConfig(), g.Config);
        }

        // A resumed run overwrites the best files only when it measures below every row already logged.
        var bestWritten = File.GetLastWriteTimeUtc(Path.Combine(_out, PriorTrainer.BestCheckpointFileName));
        await PriorTrainer.RunAsync(options with { TotalImages = 48 }, _data, _out, models: InstalledFaceModels.Locator);
        var after = BestLogged();
        Assert.Equal(12, File.ReadAllLines(Path.Combine(_out, PriorTrainer.FfdLogFileName)).Length - 1);
        Assert.Equal(after.Step, BestCheckpointStep());
        if (after.Step == best.Step)
        {
            Assert.Equal(bestWritten, File.GetLastWriteTimeUtc(Path.Combine(_out, PriorTrainer.BestCheckpointFileName)));
        }
    }

    private long BestCheckpointStep()
    {
        var (tensors, metadata) = Safetensors.Read(Path.Combine(_out, PriorTrainer.BestCheckpointFileName));
        foreach (var (_, t) in tensors)
        {
            t.Dispose();
        }
        return long.Parse(metadata["step"], System.Globalization.CultureInfo.InvariantCulture);
    }

    private (long Step, double Ffd) BestLogged() => File.ReadAllLines(Path.Combine(_out, PriorTrainer.FfdLogFileName)).Skip(1)
        .Select(line => line.Split(','))
        .Select(f => (long.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture)))
        .MinBy(row => row.Item2);

    // Progress<T> posts to the thread pool; the tests want the reports in order, on the training thread.
    private sealed class Immediate(Action<PriorTrainingProgress> action) : IProgress<PriorTrainingProgress>
    {
        public void Report(PriorTrainingProgress value) => action(value);
    }
}

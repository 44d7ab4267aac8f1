using Sair.Engine.Alignment;
using Sair.Engine.StyleGan;
using Sair.Engine.Training;

namespace Sair.Engine.Tests.Training;

/// <summary>Packaging a (tiny) finished run on real training faces: files, FFD yardsticks, the measured template.</summary>
public sealed class PriorCardTests : IDisposable
{
    private readonly string _data = TinyTraining.TempPath("faces");
    private readonly string _run = TinyTraining.TempPath("run");
    private readonly string _prior = TinyTraining.TempPath("prior");

    public PriorCardTests()
    {
        var lfw = Path.Combine(_data, "lfw");
        Directory.CreateDirectory(lfw);
        // The trainer and the card leave out the held-out people's photos, so the 48 copied are 48 it will use.
        foreach (var file in Directory.EnumerateFiles(RepoPaths.SharedFile("data", "faces-train", "lfw"))
                     .Where(f => !HoldoutList.Committed.Excludes(f)).Order(StringComparer.Ordinal).Take(48))
        {
            File.Copy(file, Path.Combine(lfw, Path.GetFileName(file)));
        }
    }

    public void Dispose()
    {
        foreach (var dir in new[] { _data, _run, _prior })
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_packaged_run_ships_its_generator_template_grid_and_honest_yardsticks()
    {
        await PriorTrainer.RunAsync(TinyTraining.Options(size: 16) with { TotalImages = 8, SampleEvery = 0 }, _data, _run);

        var figures = PriorCard.Package(_run, _data, _prior, samples: 24);

        // The packaged generator is the run's own export, rebuilt from the checkpoint.
        using (var packaged = StyleGan2Loader.Load(Path.Combine(_prior, PriorTrainer.GeneratorFileName)))
        using (var exported = StyleGan2Loader.Load(Path.Combine(_run, PriorTrainer.GeneratorFileName)))
        {
            Assert.Equal(16, packaged.Config.Size);
            var theirs = exported.state_dict();
            Assert.All(packaged.state_dict(), kv => Assert.True(kv.Value.allclose(theirs[kv.Key], 0, 0), kv.Key));
            Assert.True(packaged.LatentAvg!.allclose(exported.LatentAvg!, 0, 0));
        }
        Assert.True(File.Exists(Path.Combine(_prior, PriorCard.SamplesFileName)));
        Assert.Equal(figures, PriorCard.ReadFigures(_prior));
        Assert.Equal(2, figures.Steps);
        Assert.Equal(8, figures.ImagesSeen);
        // Two halves of real faces are far closer to each other than an untrained generator is to either.
        Assert.True(figures.HalfVsHalfFfd < figures.RandomGeneratorFfd / 2,
            $"half vs half {figures.HalfVsHalfFfd}, random generator {figures.RandomGeneratorFfd}");
        Assert.True(figures.Ffd > 0 && figures.TemplateDriftPixels > 0);

        // LFW's funneled crops: eyes above the nose above the mouth, left eye left of the right one, all inside.
        var template = AlignmentTemplate.Load(Path.Combine(_prior, PriorCard.TemplateFileName));
        using var points = template.Points();
        var p = points.data<double>().ToArray();
        Assert.Equal(5, template.PointCount);
        Assert.All(p, v => Assert.InRange(v, 0.05, 0.95));
        Assert.True(p[0] < p[2] && p[1] < p[5] && p[5] < p[7], string.Join(", ", p));
    }

    [Fact]
    public void A_template_file_round_trips_and_a_bad_one_says_what_it_should_hold()
    {
        Directory.CreateDirectory(_prior);
        var path = Path.Combine(_prior, "template.json");
        using var five = TorchSharp.torch.tensor(new[] { 0.3f, 0.4f, 0.7f, 0.4f, 0.5f, 0.55f, 0.35f, 0.7f, 0.65f, 0.7f }, [5, 2]);
        AlignmentTemplate.FromPoints(five).Save(path);
        using var back = AlignmentTemplate.Load(path).Points();
        Assert.True(back.to(TorchSharp.torch.ScalarType.Float32).allclose(five, rtol: 1e-6, atol: 1e-7));

        File.WriteAllText(path, """{"points": [[0.1, 0.2]]}""");
        var error = Assert.Throws<Sair.Engine.IO.CheckpointException>(() => AlignmentTemplate.Load(path));
        Assert.Contains("5 or 68", error.Message);
    }
}

using Sair.Engine.IO;
using Sair.Engine.StyleGan;
using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Training;

/// <summary>Checkpoint/resume exactness, the exported generator, and that steps actually train.</summary>
public sealed class PriorTrainerTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(2.0)]
    public void Resumed_run_continues_exactly_like_an_uninterrupted_one(double pathLengthWeight)
    {
        var options = TinyTraining.Options() with { PathLengthWeight = pathLengthWeight, PathLengthInterval = 5 };
        using var data = TinyTraining.Faces();
        var start = TinyTraining.TempPath("c0.safetensors");
        var middle = TinyTraining.TempPath("c1.safetensors");
        try
        {
            // The step-0 checkpoint is the common start: six steps cross an epoch boundary (12 faces, batch 4) and include R1 steps (every 2) in both segments.
            using var straight = new PriorTrainer(options, data);
            straight.SaveCheckpoint(start);
            using var initial = Snapshot(straight.GeneratorEma);
            for (var i = 0; i < 6; i++)
            {
                straight.TrainStep();
            }

            using (var first = PriorTrainer.Resume(start, data))
            {
                for (var i = 0; i < 4; i++)
                {
                    first.TrainStep();
                }
                first.SaveCheckpoint(middle);
            }
            using var resumed = PriorTrainer.Resume(middle, data);
            Assert.Equal(4, resumed.Step);
            Assert.Equal(16, resumed.ImagesSeen);
            for (var i = 0; i < 2; i++)
            {
                resumed.TrainStep();
            }

            Assert.Equal(straight.Step, resumed.Step);
            Assert.Equal(straight.ImagesSeen, resumed.ImagesSeen);
            using var straightEma = Snapshot(straight.GeneratorEma);
            using var resumedEma = Snapshot(resumed.GeneratorEma);
            Assert.True(straightEma.sub(initial).abs().max().item<float>() > 1e-3, "training did not move G_ema");
            Assert.True(straightEma.allclose(resumedEma, rtol: 0, atol: 1e-6), "G_ema differs after resume");
            using var straightD = Snapshot(straight.Discriminator);
            using var resumedD = Snapshot(resumed.Discriminator);
            Assert.True(straightD.allclose(resumedD, rtol: 0, atol: 1e-6), "D differs after resume");
        }
        finally
        {
            File.Delete(start);
            File.Delete(middle);
        }
    }

    [Fact]
    public void Same_seed_gives_the_same_initial_networks_whatever_the_global_generator_does()
    {
        using var data = TinyTraining.Faces();
        using var a = new PriorTrainer(TinyTraining.Options(), data);
        using (randn(1000))
        {
        }
        using var b = new PriorTrainer(TinyTraining.Options(), data);
        using var c = new PriorTrainer(TinyTraining.Options() with { Seed = 8 }, data);
        using var ga = Snapshot(a.Generator);
        using var gb = Snapshot(b.Generator);
        using var gc = Snapshot(c.Generator);
        using var da = Snapshot(a.Discriminator);
        using var db = Snapshot(b.Discriminator);
        Assert.True(ga.eq(gb).all().item<bool>() && da.eq(db).all().item<bool>());
        Assert.False(ga.eq(gc).all().item<bool>());
        // N(0, 1) weights: the mapping's are stored ÷ lr_mul (0.01), so their spread is about 100.
        var mapping = a.Generator.named_parameters().First(p => p.name == "style.1.weight").parameter;
        Assert.InRange(mapping.std().item<float>(), 50, 200);
    }

    [Fact]
    public void Exported_ema_generator_loads_with_the_stylegan_loader_and_draws_the_same_images()
    {
        using var data = TinyTraining.Faces();
        using var trainer = new PriorTrainer(TinyTraining.Options(), data);
        trainer.TrainStep();
        trainer.TrainStep();
        var path = TinyTraining.TempPath("g.safetensors");
        try
        {
            trainer.ExportGenerator(path);
            var (tensors, _) = Safetensors.Read(path);
            Assert.All(tensors, kv => Assert.True(kv.Key == StyleGan2Loader.LatentAvgKey || kv.Key.StartsWith("g_ema.", StringComparison.Ordinal), kv.Key));
            foreach (var (_, t) in tensors)
            {
                t.Dispose();
            }

            using var loaded = StyleGan2Loader.Load(path);
            Assert.Equal(trainer.GeneratorEma.Config, loaded.Config);
            Assert.NotNull(loaded.LatentAvg);
            using var noGrad = no_grad();
            using var z = randn(3, 8, generator: new Generator(3));
            using var expected = trainer.GeneratorEma.FromZ(z, randomizeNoise: false);
            using var actual = loaded.FromZ(z, randomizeNoise: false);
            Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Checkpoint_of_another_data_set_is_refused_with_a_clear_message()
    {
        using var data = TinyTraining.Faces();
        using var other = TinyTraining.Faces(count: 8);
        var path = TinyTraining.TempPath("c.safetensors");
        try
        {
            using (var trainer = new PriorTrainer(TinyTraining.Options(), data))
            {
                trainer.SaveCheckpoint(path);
            }
            var e = Assert.Throws<CheckpointException>(() => PriorTrainer.Resume(path, other));
            Assert.Contains("same data folder", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Steps_report_finite_losses_and_the_regularisers_on_their_lazy_schedules()
    {
        using var data = TinyTraining.Faces();
        using var trainer = new PriorTrainer(TinyTraining.Options() with { R1Interval = 3, PathLengthWeight = 2, PathLengthInterval = 2 }, data);
        var losses = Enumerable.Range(0, 4).Select(_ => trainer.TrainStep()).ToList();
        Assert.All(losses, l => Assert.True(double.IsFinite(l.DLoss) && double.IsFinite(l.GLoss)));
        Assert.Equal([true, false, false, true], losses.Select(l => l.R1.HasValue));
        Assert.Equal([true, false, true, false], losses.Select(l => l.PathLength.HasValue));
        Assert.True(losses[0].PathLength > 0);
        Assert.True(losses[0].R1 > 0);
        // D starts near chance: softplus(0)·2 = 2 ln 2.
        Assert.InRange(losses[0].DLoss, 0.5, 5);
        using var grid = trainer.SampleGrid();
        Assert.Equal((4 * 8, 8), (grid.Width, grid.Height));
    }

    [Fact]
    public void Branch_starts_where_the_checkpoint_stands_and_trains_on_with_the_new_recipe()
    {
        using var data = TinyTraining.Faces();
        var options = TinyTraining.Options();
        var path = TinyTraining.TempPath("b.safetensors");
        try
        {
            using (var source = new PriorTrainer(options, data))
            {
                source.TrainStep();
                source.SaveCheckpoint(path);
            }
            using var resumed = PriorTrainer.Resume(path, data);
            var changed = options with { R1Gamma = options.EffectiveR1Gamma * 50, MixingProbability = 0 };
            using var branch = PriorTrainer.Branch(path, data, changed);
            Assert.Equal((1, 4), (branch.Step, branch.ImagesSeen));
            Assert.Equal(changed.EffectiveR1Gamma, branch.Options.EffectiveR1Gamma);
            using (var g0 = Snapshot(resumed.Generator))
            using (var b0 = Snapshot(branch.Generator))
            using (var d0 = Snapshot(resumed.Discriminator))
            using (var bd0 = Snapshot(branch.Discriminator))
            {
                Assert.True(g0.eq(b0).all().item<bool>() && d0.eq(bd0).all().item<bool>(), "a branch must start from the checkpoint's weights");
            }

            // Step 2 regularises D (R1 every 2 steps): the branch's heavier R1 must take D elsewhere than the resumed run.
            resumed.TrainStep();
            branch.TrainStep();
            using var dResumed = Snapshot(resumed.Discriminator);
            using var dBranch = Snapshot(branch.Discriminator);
            Assert.True(dResumed.sub(dBranch).abs().max().item<float>() > 1e-4, "the branch trained with the old recipe");

            // γ of an 8-px batch of 4: 0.0002·8²/4 = 0.0032.
            Assert.Equal(["R1 gamma 0.0032 → 0.16", "mixing probability 0.9 → 0"], PriorTrainer.RecipeChanges(options, changed));
            var reshaped = options with { StyleDim = options.StyleDim * 2 };
            var e = Assert.Throws<CheckpointException>(() => PriorTrainer.Branch(path, data, reshaped));
            Assert.Contains("not the networks", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Without_noise_inputs_the_noise_strengths_stay_zero_also_in_a_branch_from_a_run_with_them()
    {
        using var data = TinyTraining.Faces();
        var options = TinyTraining.Options();
        var path = TinyTraining.TempPath("noise.safetensors");
        try
        {
            using (var withNoise = new PriorTrainer(options, data))
            {
                for (var i = 0; i < 3; i++)
                {
                    withNoise.TrainStep();
                }
                Assert.True(NoiseStrengths(withNoise.Generator).Any(w => w != 0), "the run with noise inputs did not train its noise strengths");
                withNoise.SaveCheckpoint(path);
            }

            using var branch = PriorTrainer.Branch(path, data, options with { NoiseInputs = false });
            using var fresh = new PriorTrainer(options with { NoiseInputs = false }, data);
            Assert.All(NoiseStrengths(branch.Generator).Concat(NoiseStrengths(branch.GeneratorEma)), w => Assert.Equal(0f, w));
            for (var i = 0; i < 3; i++)
            {
                branch.TrainStep();
                fresh.TrainStep();
            }

            Assert.All(NoiseStrengths(branch.Generator).Concat(NoiseStrengths(branch.GeneratorEma))
                .Concat(NoiseStrengths(fresh.Generator)).Concat(NoiseStrengths(fresh.GeneratorEma)), w => Assert.Equal(0f, w));
            Assert.Contains("noise inputs True → False", PriorTrainer.RecipeChanges(options, branch.Options));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<float> NoiseStrengths(StyleGan2Generator generator) =>
        [.. generator.named_parameters().Where(p => p.name.EndsWith("noise.weight", StringComparison.Ordinal)).Select(p => p.parameter.item<float>())];

    private static Tensor Snapshot(nn.Module module) =>
        cat(module.parameters().Select(p => p.detach().flatten()).ToList(), 0);
}

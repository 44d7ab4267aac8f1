using Sair.Engine.Runtime;
using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Training;

/// <summary>
/// A NaN in a training loss or its gradient never reaches the weights: the attempt is undone and retried on the next
/// batch; only a step that keeps going non-finite fails, naming the loss, with the weights still as before the step.
/// </summary>
public sealed class PriorTrainerNonFiniteTests
{
    private const long Injected = 2;

    public static TheoryData<string> Losses() =>
        [PriorTrainer.DLossName, PriorTrainer.R1Name, PriorTrainer.GLossName, PriorTrainer.PathLengthName];

    [Theory]
    [MemberData(nameof(Losses))]
    public void One_NaN_in_a_loss_is_rolled_back_and_the_step_retried(string loss)
    {
        using var scope = NewDisposeScope();
        using var data = TinyTraining.Faces();
        using var trainer = new PriorTrainer(Options(), data);
        var injections = 0;
        trainer.Perturb = (name, value) => name == loss && trainer.Step == Injected && injections++ == 0 ? value * float.NaN : value;

        var losses = Enumerable.Range(0, 4).Select(_ => trainer.TrainStep()).ToList();

        Assert.Equal(4, trainer.Step);
        Assert.Equal(4L * Options().Batch, trainer.ImagesSeen);
        Assert.Equal([$"the {loss}"], losses[(int)Injected].NonFinite);
        Assert.All(losses.Where((_, i) => i != Injected), l => Assert.Null(l.NonFinite));
        Assert.All(losses, l => Assert.True(double.IsFinite(l.DLoss) && double.IsFinite(l.GLoss)));
        Assert.All(losses.Where((_, i) => i % 2 == 0), l => Assert.True(l.R1 is { } r1 && double.IsFinite(r1) && l.PathLength is { } p && double.IsFinite(p)));
        Assert.True(AllFinite(trainer.Generator) && AllFinite(trainer.Discriminator) && AllFinite(trainer.GeneratorEma));
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void A_loss_that_stays_NaN_fails_the_step_with_its_name_and_the_weights_of_before(string loss)
    {
        using var scope = NewDisposeScope();
        using var data = TinyTraining.Faces();
        using var trainer = new PriorTrainer(Options(), data);
        trainer.TrainStep();
        trainer.TrainStep();
        var before = (Weights(trainer.Generator), Weights(trainer.Discriminator), Weights(trainer.GeneratorEma));
        trainer.Perturb = (name, value) => name == loss ? value * float.NaN : value;

        var error = Assert.Throws<NonFiniteException>(() => trainer.TrainStep());

        Assert.Equal($"the {loss}", error.FirstNonFinite);
        Assert.Equal(Injected + 1, error.Step);
        Assert.StartsWith($"Training step {Injected + 1}: the {loss} went non-finite (NaN or infinite) in {PriorTrainer.MaxConsecutiveRecoveries + 1} attempts in a row", error.Message);
        Assert.Equal(Injected, trainer.Step);
        Assert.True(before.Item1.allclose(Weights(trainer.Generator), rtol: 0, atol: 0), "G was not rolled back");
        Assert.True(before.Item2.allclose(Weights(trainer.Discriminator), rtol: 0, atol: 0), "D was not rolled back");
        Assert.True(before.Item3.allclose(Weights(trainer.GeneratorEma), rtol: 0, atol: 0), "the EMA generator moved");

        // The rolled-back trainer trains on once the NaN is gone.
        trainer.Perturb = null;
        Assert.True(double.IsFinite(trainer.TrainStep().GLoss));
        Assert.Equal(Injected + 1, trainer.Step);
    }

    [Fact]
    public void A_NaN_gradient_under_a_finite_loss_is_named_as_such()
    {
        using var scope = NewDisposeScope();
        using var data = TinyTraining.Faces();
        using var trainer = new PriorTrainer(Options(), data);
        // sqrt at 0 has an infinite slope: the loss keeps its value while its gradient becomes 0·∞ = NaN.
        trainer.Perturb = (name, value) => name == PriorTrainer.GLossName ? value + (value * 0).sqrt() : value;

        var error = Assert.Throws<NonFiniteException>(() => trainer.TrainStep());

        Assert.Equal($"the gradient of the {PriorTrainer.GLossName}", error.FirstNonFinite);
    }

    [Fact]
    public void Adam_rewinds_parameters_moments_and_step_count_to_its_mark()
    {
        using var scope = NewDisposeScope();
        using var rng = new Generator(3);
        var parameter = randn([4, 3], generator: rng).requires_grad_(true);
        using var adam = new ParameterAdam([("p", parameter)], 0.1, 0.9, 0.99, 1e-8);
        void Step()
        {
            parameter.grad?.zero_();
            parameter.square().sum().backward();
            adam.Update();
        }
        Step();
        var before = (parameter.detach().clone(), adam.State("").Select(kv => kv.Value.clone()).ToList(), adam.Step);

        adam.Mark();
        Step();
        Step();
        adam.Rewind();

        Assert.True(before.Item1.allclose(parameter.detach(), rtol: 0, atol: 0));
        Assert.All(before.Item2.Zip(adam.State("")), pair => Assert.True(pair.First.allclose(pair.Second.Value, rtol: 0, atol: 0)));
        Assert.Equal(before.Item3, adam.Step);
    }

    private static PriorTrainingOptions Options() => TinyTraining.Options() with { R1Interval = 2, PathLengthWeight = 2, PathLengthInterval = 2 };

    private static Tensor Weights(nn.Module module) => cat(module.parameters().Select(p => p.detach().flatten()).ToList(), 0);

    private static bool AllFinite(nn.Module module) => Weights(module).isfinite().all().item<bool>();
}

using Sair.Engine.FaceNets;
using Sair.Engine.IO;
using Sair.Engine.Restoration;
using Sair.Engine.Tests.Restoration;
using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Training;

public sealed class EmotionDirectionFitterTests
{
    private static readonly EmotionFitOptions Small = new() { Samples = 240, Batch = 40, Steps = 200, MinPositives = 12 };

    /// <summary>
    /// A classifier whose seven logits are simple image statistics (channel means, half-image means): its classes
    /// depend smoothly on the picture, so W must hold a direction that raises each of them.
    /// </summary>
    private sealed class StatisticsClassifier : IExpressionClassifier
    {
        public Tensor Probabilities(Tensor rgb01)
        {
            using var scope = NewDisposeScope();
            var h = rgb01.shape[2] / 2;
            var w = rgb01.shape[3] / 2;
            var features = stack(
            [
                rgb01.select(1, 0).mean([1, 2]),
                rgb01.select(1, 1).mean([1, 2]),
                rgb01.select(1, 2).mean([1, 2]),
                rgb01.narrow(2, 0, h).mean([1, 2, 3]),
                rgb01.narrow(2, h, h).mean([1, 2, 3]),
                rgb01.narrow(3, 0, w).mean([1, 2, 3]),
                rgb01.narrow(3, w, w).mean([1, 2, 3]),
            ], 1);
            return features.mul(60).softmax(1).MoveToOuterDisposeScope();
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public void Every_fitted_direction_raises_its_class_and_lowers_it_the_other_way()
    {
        using var generator = TinySair.LoadGenerator();
        using var classifier = new StatisticsClassifier();

        using var directions = EmotionDirectionFitter.Fit(generator, classifier, Small, null, CancellationToken.None, out var classes);

        Assert.Equal([Emotions.Names.Count, generator.Config.StyleDim], directions.shape);
        using var norms = directions.norm(1);
        Assert.All(norms.data<float>().ToArray(), n => Assert.Equal(1, n, 4));
        Assert.Equal(Emotions.Names, classes.Select(c => c.Emotion));
        Assert.All(classes, c =>
        {
            Assert.True(c.ProbabilityGain > 0, $"{c.Emotion}: moving along its direction changed p by {c.ProbabilityGain}");
            Assert.True(c.TrainAccuracy > 0.8, $"{c.Emotion}: training balanced accuracy {c.TrainAccuracy}");
        });
        Assert.True(classes.Average(c => c.HeldOutAccuracy) > 0.65, string.Join("; ", classes.Select(EmotionDirectionFitter.Describe)));

        using var rng = new TorchSharp.torch.Generator(99);
        using var w = generator.Mapping(randn([48, generator.Config.StyleDim], generator: rng)).detach();
        var happy = Emotions.IndexOf("happy");
        var down = EmotionDirectionFitter.ProbabilityGain(generator, classifier, w, directions[happy], -classes[happy].ProbeStep, happy, 48);
        Assert.True(down < 0, $"Δp along −d_happy {down}");
    }

    [Fact]
    public void Saved_directions_load_as_the_SAIR_authors_folder_layout()
    {
        var dir = TinyTraining.TempPath("emotions");
        try
        {
            using var rng = new TorchSharp.torch.Generator(3);
            using var raw = randn([Emotions.Names.Count, 16], generator: rng);
            using var directions = raw.div(raw.norm(1, keepdim: true));
            var classes = Emotions.Names.Select(n => new EmotionClassFit(n, "argmax", 10, 0.9, 0.8, 1.5, 0.01)).ToList();
            var report = new EmotionFitReport("g.safetensors", 100, 6, 16, classes);

            EmotionDirectionFitter.Save(dir, directions, nLatent: 6, report);

            using var one = Npy.Read(Path.Combine(dir, "emotion_sad.npy"));
            Assert.Equal(ScalarType.Float64, one.dtype);
            Assert.Equal([6L, 16L], one.shape);
            using var loaded = EmotionDirections.LoadOfficialFolder(dir);
            Assert.Equal(6, loaded.NLatent);
            using var sad = loaded.Direction("sad");
            using var expected = directions[Emotions.IndexOf("sad")].expand(6, -1);
            Assert.True(sad[0].allclose(expected, rtol: 1e-6, atol: 1e-7));
            Assert.Equal(report.Classes, EmotionDirectionFitter.ReadReport(dir).Classes);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(10, 0.2)]
    [InlineData(400, 0)]
    [InlineData(400, 1)]
    public void Bad_options_are_refused_with_what_to_change(int samples, double heldOut)
    {
        var options = new EmotionFitOptions { Samples = samples, HeldOutFraction = heldOut };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(samples < 20 ? "Samples" : "HeldOutFraction", error.Message);
    }
}

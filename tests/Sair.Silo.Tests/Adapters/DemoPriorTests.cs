using Sair.Engine.FaceNets;
using Sair.Engine.StyleGan;
using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Silo.Tests.Adapters;

/// <summary>The shipped prior (priors/faces-64, copied beside the silo): what its model card claims.</summary>
[Collection(TinyEngineCollection.Name)]
public sealed class DemoPriorTests
{
    private static string Prior => EmbeddedDefaults.Prior() ?? throw new InvalidOperationException("the build copies priors/faces-64 beside the silo");

    [Fact]
    public void Each_shipped_emotion_direction_raises_its_class_probability_on_average_over_fresh_latents()
    {
        using var generator = StyleGan2Loader.Load(Path.Combine(Prior, PriorTrainer.GeneratorFileName));
        using var classifier = FaceApiExpressionClassifier.Load();
        var fits = EmotionDirectionFitter.ReadReport(Path.Combine(Prior, "emotions")).Classes;
        using var rng = new TorchSharp.torch.Generator(2026);
        using var w = generator.Mapping(randn([384, generator.Config.StyleDim], generator: rng)).detach();

        var gains = Emotions.Names.Select((name, e) =>
        {
            using var rows = Sair.Engine.IO.Npy.Read(Path.Combine(Prior, "emotions", $"emotion_{name}.npy"));
            using var direction = rows[0].to(ScalarType.Float32);
            return EmotionDirectionFitter.ProbabilityGain(generator, classifier, w, direction, fits[e].ProbeStep, e, 64);
        }).ToArray();

        Assert.All(Enumerable.Range(0, gains.Length), e => Assert.True(gains[e] > 0, $"{Emotions.Names[e]}: Δp {gains[e]:0.0000} over 384 fresh latents"));
    }

    [Fact]
    public void The_model_card_s_figures_match_the_shipped_files()
    {
        var figures = PriorCard.ReadFigures(Prior);
        using var generator = StyleGan2Loader.Load(Path.Combine(Prior, PriorTrainer.GeneratorFileName));

        Assert.Equal(generator.Config.ToString(), figures.Generator);
        Assert.True(figures.Ffd < figures.RandomGeneratorFfd, $"the prior's FFD {figures.Ffd} should beat an untrained generator's {figures.RandomGeneratorFfd}");
        var card = File.ReadAllText(Path.Combine(Prior, "MODEL_CARD.md"));
        Assert.Contains(figures.Ffd.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), card);
        Assert.Contains(figures.ImagesSeen.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), card);
    }
}

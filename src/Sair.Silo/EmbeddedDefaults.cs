using Sair.Grains;
using Sair.Silo.Adapters;

namespace Sair.Silo;

/// <summary>
/// What an engine silo uses when asked for the embedded default (<c>Sair__Engine__GeneratorPath=embedded</c>, which is
/// what <c>sair</c> gives the local silo it starts, or the render tool without <c>--generator</c>): the prior
/// shipped in <c>priors/faces-64</c> and copied beside the silo at build — a 64 px StyleGAN2 trained on this project's
/// CPU (see its MODEL_CARD.md; <c>priors/demo-64</c> is its predecessor), with its alignment template and fitted
/// emotion directions. It is used only where asked for, so a deployment that forgets its generator is refused, never
/// silently given a toy prior.
/// </summary>
public static class EmbeddedDefaults
{
    /// <summary>The Sair:Engine:GeneratorPath value that asks for the embedded default.</summary>
    public const string GeneratorSetting = SettingKeys.EmbeddedGenerator;

    /// <summary>The prior's folder, relative to the silo's own folder.</summary>
    public const string PriorFolder = "priors/faces-64";

    /// <summary>The shipped prior's folder, or null when this build has none.</summary>
    public static string? Prior()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, PriorFolder);
        return File.Exists(Path.Combine(folder, "generator.safetensors")) ? folder : null;
    }

    /// <summary>The shipped prior's generator, or null when this build has none.</summary>
    public static string? Generator() => Prior() is { } folder ? Path.Combine(folder, "generator.safetensors") : null;

    /// <summary>
    /// Points <paramref name="options"/> at the shipped prior: its generator and, unless set already, its alignment
    /// template and emotion directions (which belong to that generator and no other).
    /// </summary>
    public static void Apply(SairEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var folder = Prior() ?? throw new InvalidOperationException(
            $"Sair:Engine:GeneratorPath is '{GeneratorSetting}' but this build has no {PriorFolder}/generator.safetensors beside it: " +
            "rebuild Sair.Silo from the repository, or point the setting at a StyleGAN2 checkpoint (rosinality .pt or .safetensors).");
        options.GeneratorPath = Path.Combine(folder, "generator.safetensors");
        var template = Path.Combine(folder, "template.json");
        var emotions = Path.Combine(folder, "emotions");
        options.AlignmentTemplatePath ??= File.Exists(template) ? template : null;
        options.EmotionDirectionsPath ??= Directory.Exists(emotions) ? emotions : null;
    }

    /// <summary>A one-line note for logs and tools when the embedded prior is in use.</summary>
    public static string Notice(string generator) =>
        $"no generator configured: using the embedded 64 px prior {generator} (small CPU-trained faces, research and " +
        "demonstration only; see its MODEL_CARD.md); set Sair__Engine__GeneratorPath or --generator for the official 1024 px weights";
}

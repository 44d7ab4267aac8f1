namespace Sair.Grains.Engine;

/// <summary>What a restoration optimises and how long; travels with every job.</summary>
/// <param name="Preset">Engine preset name (the engine validates it against its known presets).</param>
/// <param name="Iterations">Optimisation steps.</param>
/// <param name="Emotion">Optional emotion direction to move along (SAIR's expression editing), or null.</param>
/// <param name="EmotionStrength">Step along the emotion direction; ignored without <paramref name="Emotion"/>.</param>
/// <param name="Seed">Seed for the latent initialisation and noise, so reruns are reproducible.</param>
/// <param name="CheckpointEvery">Iterations between persisted checkpoints (the work lost to a silo failure).</param>
[GenerateSerializer, Immutable, Alias("sair.RestorationOptions")]
public sealed record RestorationOptions(
    [property: Id(0)] string Preset,
    [property: Id(1)] int Iterations,
    [property: Id(2)] string? Emotion,
    [property: Id(3)] double EmotionStrength,
    [property: Id(4)] int Seed,
    [property: Id(5)] int CheckpointEvery)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field and its valid range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Preset))
        {
            throw new ArgumentException("RestorationOptions.Preset is empty: name an engine preset.", nameof(Preset));
        }

        if (Iterations < 1)
        {
            throw new ArgumentException($"RestorationOptions.Iterations is {Iterations}: use 1 or more.", nameof(Iterations));
        }

        if (CheckpointEvery < 1)
        {
            throw new ArgumentException(
                $"RestorationOptions.CheckpointEvery is {CheckpointEvery}: use 1 or more (iterations between checkpoints).",
                nameof(CheckpointEvery));
        }
    }
}

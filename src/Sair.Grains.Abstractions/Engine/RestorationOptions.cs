namespace Sair.Grains.Engine;

/// <summary>What a restoration optimises and how long; travels with every job.</summary>
/// <param name="Preset">Engine preset name, one of <see cref="RestorationPresets.All"/>.</param>
/// <param name="Iterations">Optimisation steps (<see cref="DefaultIterations"/> unless asked otherwise).</param>
/// <param name="Emotion">Optional emotion direction to move along (SAIR's expression editing), one of <see cref="RestorationEmotions.All"/>, or null.</param>
/// <param name="EmotionStrength">Step along the emotion direction; ignored without <paramref name="Emotion"/>.</param>
/// <param name="Seed">Seed for the latent initialisation and noise, so reruns are reproducible.</param>
/// <param name="CheckpointEvery">Iterations between persisted checkpoints (the work lost to a silo failure).</param>
/// <param name="Face">
/// Which face of an unaligned photo is restored (one face per photo): the largest, or the one nearest the centre.
/// </param>
/// <param name="Upscale">
/// Scale of the whole restored photo relative to the input photo: the restored face is pasted back into the input
/// enlarged by this factor, so the face keeps the generator's detail instead of being shrunk to the input's scale.
/// </param>
/// <param name="JpegQuality">
/// The JPEG quality the degraded input was saved at, 1–100: the degradation model D then ends with a differentiable
/// JPEG stage of that quality, so the restoration explains the input's blocks instead of reproducing them; null keeps
/// the preset's D (bicubic only for both presets).
/// </param>
/// <param name="IdentityWeight">
/// Weight of the identity term (0 … <see cref="MaxIdentityWeight"/>), or null for the preset's (paper 1, official
/// 0.4): lower follows the input more closely, higher pulls the face toward the reference person.
/// </param>
[GenerateSerializer, Immutable, Alias("sair.RestorationOptions")]
public sealed record RestorationOptions(
    [property: Id(0)] string Preset,
    [property: Id(1)] int Iterations,
    [property: Id(2)] string? Emotion,
    [property: Id(3)] double EmotionStrength,
    [property: Id(4)] int Seed,
    [property: Id(5)] int CheckpointEvery,
    [property: Id(6)] FaceChoice Face = FaceChoice.Largest,
    [property: Id(7)] double Upscale = 1,
    [property: Id(8)] int? JpegQuality = null,
    [property: Id(9)] double? IdentityWeight = null)
{
    /// <summary>Optimisation steps of a job that does not say (the paper's 400).</summary>
    public const int DefaultIterations = 400;

    public const double MaxIdentityWeight = 10;

    /// <summary>The largest step along an emotion direction a job may ask for (the paper's γ is about 1).</summary>
    public const double MaxEmotionStrength = 10;

    public const double MinUpscale = 0.25;

    public const double MaxUpscale = 8;

    public const int MinJpegQuality = 1;

    public const int MaxJpegQuality = 100;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field and its valid range.</summary>
    public void Validate()
    {
        if (RestorationPresets.Find(Preset) is null)
        {
            throw new ArgumentException(
                $"RestorationOptions.Preset '{Preset}' is unknown: use one of {string.Join(", ", RestorationPresets.All)}.", nameof(Preset));
        }

        if (Emotion is not null && RestorationEmotions.Find(Emotion) is null)
        {
            throw new ArgumentException(
                $"RestorationOptions.Emotion '{Emotion}' is unknown: use one of {string.Join(", ", RestorationEmotions.All)}, or none.", nameof(Emotion));
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

        if (!Enum.IsDefined(Face))
        {
            throw new ArgumentException(
                $"RestorationOptions.Face is {(int)Face}, which this grid does not know: use {string.Join(", ", Enum.GetNames<FaceChoice>())}.",
                nameof(Face));
        }

        if (IdentityWeight is { } weight && !(weight is >= 0 and <= MaxIdentityWeight))
        {
            throw new ArgumentException(
                $"RestorationOptions.IdentityWeight is {weight}: use 0 to {MaxIdentityWeight}, or none for the preset's.", nameof(IdentityWeight));
        }

        if (JpegQuality is < MinJpegQuality or > MaxJpegQuality)
        {
            throw new ArgumentException(
                $"RestorationOptions.JpegQuality is {JpegQuality}: use {MinJpegQuality} to {MaxJpegQuality} (the quality the input was saved at), or none.",
                nameof(JpegQuality));
        }

        if (!(EmotionStrength is >= 0 and <= MaxEmotionStrength))
        {
            throw new ArgumentException(
                $"RestorationOptions.EmotionStrength is {EmotionStrength}: use 0 (the directions' own γ) to {MaxEmotionStrength}.", nameof(EmotionStrength));
        }

        if (Upscale is < MinUpscale or > MaxUpscale || double.IsNaN(Upscale))
        {
            throw new ArgumentException(
                $"RestorationOptions.Upscale is {Upscale}: use {MinUpscale} to {MaxUpscale} (the whole photo's scale relative to the input).",
                nameof(Upscale));
        }
    }
}

namespace Sair.Grains.Ports;

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
        if (Problem() is { } problem)
        {
            throw new ArgumentException(problem.Describe($"RestorationOptions.{problem.Field}"), problem.Field);
        }
    }

    /// <summary>
    /// The first field outside what the grid accepts, or null: the one list of these rules, worded by each front end
    /// with its own name for the field (<see cref="Validate"/> for the grains, the CLI with its flags).
    /// </summary>
    public OptionsProblem? Problem()
    {
        static string Number(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (RestorationPresets.Find(Preset) is null)
        {
            return new(nameof(Preset), $"'{Preset}'", $"use one of {string.Join(", ", RestorationPresets.All)}", Unknown: true);
        }
        if (Emotion is not null && RestorationEmotions.Find(Emotion) is null)
        {
            return new(nameof(Emotion), $"'{Emotion}'", $"use one of {string.Join(", ", RestorationEmotions.All)}, or none", Unknown: true);
        }
        if (Iterations < 1)
        {
            return new(nameof(Iterations), Number(Iterations), "use 1 or more");
        }
        if (CheckpointEvery < 1)
        {
            return new(nameof(CheckpointEvery), Number(CheckpointEvery), "use 1 or more (iterations between checkpoints)");
        }
        if (!Enum.IsDefined(Face))
        {
            return new(nameof(Face), Number((int)Face), $"use {string.Join(", ", Enum.GetNames<FaceChoice>())}", Unknown: true);
        }
        if (IdentityWeight is { } weight && !(weight is >= 0 and <= MaxIdentityWeight))
        {
            return new(nameof(IdentityWeight), Number(weight), $"use 0 to {Number(MaxIdentityWeight)}");
        }
        if (JpegQuality is < MinJpegQuality or > MaxJpegQuality)
        {
            return new(nameof(JpegQuality), Number(JpegQuality.Value), $"use {MinJpegQuality} to {MaxJpegQuality} (the quality the input was saved at)");
        }
        if (!(EmotionStrength is >= 0 and <= MaxEmotionStrength))
        {
            return new(nameof(EmotionStrength), Number(EmotionStrength), $"use 0 (the emotion directions' own strength) to {Number(MaxEmotionStrength)}");
        }
        if (Upscale is < MinUpscale or > MaxUpscale || double.IsNaN(Upscale))
        {
            return new(nameof(Upscale), Number(Upscale), $"use {Number(MinUpscale)} to {Number(MaxUpscale)} (the whole photo's scale relative to the input)");
        }
        return null;
    }
}

/// <summary>A field of <see cref="RestorationOptions"/> outside what the grid accepts.</summary>
/// <param name="Field">The field's name in <see cref="RestorationOptions"/>.</param>
/// <param name="Value">The value as given, quoted when it is a name.</param>
/// <param name="Expected">What the field takes ("use 1 to 100").</param>
/// <param name="Unknown">The value is not one of a set of names (rather than out of a numeric range).</param>
public sealed record OptionsProblem(string Field, string Value, string Expected, bool Unknown = false)
{
    /// <summary>"<paramref name="name"/> 'x' is unknown: use …" or "<paramref name="name"/> 0 is out of range: use …".</summary>
    public string Describe(string name) => $"{name} {Value} is {(Unknown ? "unknown" : "out of range")}: {Expected}.";
}

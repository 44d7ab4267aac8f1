namespace Sair.Grains.Ports;

/// <summary>
/// The engine presets a job may name (<see cref="RestorationOptions.Preset"/>): the grid's one list, read by the CLI's
/// flags and help, checked by <see cref="RestorationOptions.Validate"/> at the grain API, and mapped onto the engine's
/// settings by the silo (whose tests check that it maps every one).
/// </summary>
public static class RestorationPresets
{
    /// <summary>paper-bp with the generator first tuned to the reference photo: the default, chosen by docs/quality.md.</summary>
    public const string PaperPivotalTuned = "paper-pti";

    /// <summary>The paper's equations.</summary>
    public const string Paper = "paper";

    /// <summary>paper, then the result back-projected onto the input.</summary>
    public const string PaperBackProjected = "paper-bp";

    /// <summary>The authors' code.</summary>
    public const string Official = "official";

    /// <summary>What a job runs when it names none.</summary>
    public const string Default = PaperPivotalTuned;

    /// <summary>Every preset, the default first.</summary>
    public static IReadOnlyList<string> All { get; } = [PaperPivotalTuned, Paper, PaperBackProjected, Official];

    /// <summary>The preset <paramref name="name"/> names (any case, surrounding blanks ignored), or null.</summary>
    public static string? Find(string? name) =>
        name is null ? null : All.FirstOrDefault(p => string.Equals(p, name.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// The expressions a job may ask for (<see cref="RestorationOptions.Emotion"/>, SAIR's expression editing), in the
/// order of the engine's emotion directions; "auto" on the command line means none (keep the input's expression).
/// </summary>
public static class RestorationEmotions
{
    /// <summary>The CLI's word for "no emotion edit".</summary>
    public const string Keep = "auto";

    /// <summary>The seven expressions of the emotion directions (the expression net's classes).</summary>
    public static IReadOnlyList<string> All { get; } = ["neutral", "angry", "sad", "happy", "surprise", "fear", "disgust"];

    /// <summary>The emotion <paramref name="name"/> names (any case), or null.</summary>
    public static string? Find(string? name) =>
        name is null ? null : All.FirstOrDefault(e => string.Equals(e, name.Trim(), StringComparison.OrdinalIgnoreCase));
}

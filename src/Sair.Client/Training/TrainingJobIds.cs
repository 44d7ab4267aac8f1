using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Sair.Grains.Training;

namespace Sair.Client.Training;

/// <summary>Training job ids: chosen by the user, or derived from the output folder so the same command finds its job again.</summary>
public static partial class TrainingJobIds
{
    /// <summary>"prior-&lt;folder name&gt;-&lt;8 hex of the full path&gt;": readable, and one job per output folder.</summary>
    public static string Default(TrainingKind kind, string outputFolder)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputFolder));
        var name = Unsafe().Replace(Path.GetFileName(full), "-").Trim('-', '.');
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..8];
        var prefix = kind == TrainingKind.Prior ? "prior" : "emotions";
        return name.Length == 0 ? $"{prefix}-{hash}" : $"{prefix}-{name[..Math.Min(name.Length, 40)]}-{hash}";
    }

    public static bool IsValid(string id) => Pattern().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
    private static partial Regex Pattern();

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex Unsafe();
}

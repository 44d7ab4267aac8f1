using System.Text.RegularExpressions;

namespace Sair.Grains.Pools;

/// <summary>
/// What a pool or person may be called. A pool's name is part of its image-store paths, so it is a short, safe
/// identifier; a person's name is only shown, so it is any printable text of a sane length. Checked by the pool grain
/// itself (a client calling the grains directly meets the same rules) and by <c>sair</c> before it connects.
/// </summary>
public static partial class PoolNames
{
    public const int MaxPoolName = 100;

    public const int MaxPersonName = 200;

    /// <summary>Why <paramref name="pool"/> cannot name a pool, or null.</summary>
    public static string? PoolProblem(string? pool) =>
        pool is not null && PoolPattern().IsMatch(pool) ? null
            : $"pool name '{Shown(pool)}' is not valid: use 1 to {MaxPoolName} letters, digits, '-', '_' or '.', starting with a letter or digit";

    /// <summary>Why <paramref name="person"/> cannot name a person, or null.</summary>
    public static string? PersonProblem(string? person) =>
        string.IsNullOrWhiteSpace(person) ? "the person's name is empty: name who the photo shows"
        : person.Length > MaxPersonName ? $"the person's name is {person.Length} characters long: use at most {MaxPersonName}"
        : person.Any(char.IsControl) ? "the person's name holds control characters: use printable text"
        : null;

    /// <summary>A name as an error message may show it: at most 40 characters, control characters escaped.</summary>
    private static string Shown(string? name)
    {
        if (name is null)
        {
            return "";
        }

        var cut = name.Length > 40 ? name[..40] + "…" : name;
        return string.Concat(cut.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex PoolPattern();
}

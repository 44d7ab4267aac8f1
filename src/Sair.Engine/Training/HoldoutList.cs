namespace Sair.Engine.Training;

/// <summary>
/// People whose photos a prior never trains on, so that restoring them measures the prior on identities it has not
/// seen (<c>bench quality --set lfw-holdout</c>). A photo's person is its file name up to the last <c>_NNNN</c>, as in
/// LFW's <c>person_NNNN.jpg</c>; files named otherwise belong to nobody and are never held out.
/// </summary>
public sealed class HoldoutList
{
    private const string CommittedResource = "Sair.Engine.Training.lfw-holdout-people.txt";

    private static readonly Lazy<HoldoutList> CommittedList = new(() =>
    {
        using var stream = typeof(HoldoutList).Assembly.GetManifestResourceStream(CommittedResource)
            ?? throw new InvalidOperationException($"{typeof(HoldoutList).Assembly.GetName().Name} was built without its {CommittedResource}.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    });

    private readonly HashSet<string> _people;

    public HoldoutList(IEnumerable<string> people)
    {
        ArgumentNullException.ThrowIfNull(people);
        _people = new HashSet<string>(people.Select(p => p.Trim()).Where(p => p.Length > 0), StringComparer.Ordinal);
    }

    /// <summary>
    /// The project's list, <c>priors/holdout/lfw-people.txt</c> (embedded at build, so a silo without the repository
    /// holds the same people out).
    /// </summary>
    public static HoldoutList Committed => CommittedList.Value;

    /// <summary>The held-out people, sorted.</summary>
    public IReadOnlyList<string> People => _people.Order(StringComparer.Ordinal).ToList();

    /// <summary>A list in the committed file's form: one name a line; blank lines and lines starting with # are skipped.</summary>
    public static HoldoutList Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new HoldoutList(text.Split('\n').Select(l => l.Trim()).Where(l => !l.StartsWith('#')));
    }

    /// <summary>The person of a photo file: the name before its last <c>_NNNN</c>; null when it has no such suffix.</summary>
    public static string? PersonOf(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var cut = name.LastIndexOf('_');
        return cut > 0 && cut < name.Length - 1 && name[(cut + 1)..].All(char.IsAsciiDigit) ? name[..cut] : null;
    }

    /// <summary>Whether the photo at <paramref name="path"/> shows a held-out person.</summary>
    public bool Excludes(string path) => PersonOf(path) is { } person && _people.Contains(person);
}

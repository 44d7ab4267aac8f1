using System.Text.Json;
using Sair.Client.Grid;

namespace Sair.Client.Restoration;

/// <summary>The albums this user submitted (SAIR_HOME/history.jsonl), so <c>sair jobs</c> can list them without ids.</summary>
public static class History
{
    /// <param name="Request">What the command asked (<see cref="RestoreRequest.Fingerprint"/>), for a rerun to find its album; null for albums submitted otherwise.</param>
    public sealed record Entry(string AlbumId, DateTimeOffset SubmittedAt, int Photos, string References, string? Request = null);

    public static void Append(SairHome home, AlbumManifest manifest, string? request = null)
    {
        Directory.CreateDirectory(home.Root);
        var entry = new Entry(manifest.AlbumId, manifest.SubmittedAt, manifest.Photos.Count(p => p.Index >= 0), manifest.References, request);
        File.AppendAllText(home.HistoryFile, JsonSerializer.Serialize(entry) + Environment.NewLine);
    }

    /// <summary>The most recent entries first; unreadable lines are skipped.</summary>
    public static IReadOnlyList<Entry> Recent(SairHome home, int count) => [.. All(home).OrderByDescending(e => e.SubmittedAt).Take(count)];

    /// <summary>The most recent album submitted for exactly this request, if any.</summary>
    public static Entry? LastFor(SairHome home, string request) =>
        All(home).Where(e => e.Request == request).OrderByDescending(e => e.SubmittedAt).FirstOrDefault();

    private static List<Entry> All(SairHome home)
    {
        if (!File.Exists(home.HistoryFile))
        {
            return [];
        }

        var entries = new List<Entry>();
        foreach (var line in File.ReadLines(home.HistoryFile))
        {
            try
            {
                if (JsonSerializer.Deserialize<Entry>(line) is { } entry)
                {
                    entries.Add(entry);
                }
            }
            catch (JsonException)
            {
                // A line cut short by a crash loses one entry, not the history.
            }
        }

        return entries;
    }
}

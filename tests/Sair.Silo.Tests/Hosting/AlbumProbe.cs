using System.Collections.Immutable;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;

namespace Sair.Silo.Tests.Hosting;

/// <summary>
/// Grain state a real coordinator-only grid can write without an engine: an album records its photos before it fans
/// the jobs out (those wait for an engine silo). What was recorded must read back identically after a restart.
/// </summary>
internal static class AlbumProbe
{
    public static AlbumSpec Spec(string album) => new(
        [$"{album}/in/0.png", $"{album}/in/1.png", $"{album}/in/2.png"],
        ReferenceSelection.FromPaths($"{album}/ref.png"),
        new RestorationOptions("paper", 20, null, 0, 7, 5),
        $"{album}/out");

    public static async Task<ImmutableArray<(int, string, string)>> SubmitAsync(IClusterClient client, string album)
    {
        await client.GetGrain<IAlbumGrain>(album).SubmitAsync(Spec(album));
        return await RecordedAsync(client, album);
    }

    public static async Task<ImmutableArray<(int, string, string)>> RecordedAsync(IClusterClient client, string album) =>
        [.. (await client.GetGrain<IAlbumGrain>(album).ListResultsAsync()).Select(p => (p.Index, p.PhotoPath, p.JobId))];
}

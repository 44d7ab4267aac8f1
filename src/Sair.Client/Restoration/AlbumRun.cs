using Sair.Client.Grid;
using Sair.Client.Output;
using Sair.Grains.Albums;
using Spectre.Console;

namespace Sair.Client.Restoration;

/// <summary>Follows a submitted album to the end, writes its output folder and prints the summary: shared by restore, album and demo.</summary>
public static class AlbumRun
{
    /// <returns>The exit code the run deserves (0, 1 or 2).</returns>
    public static async Task<int> FinishAsync(
        IAnsiConsole console, IGridConnection grid, AlbumManifest manifest, string outputFolder, OutputLayout layout, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<int, TimeSpan> durations;
        try
        {
            durations = await AlbumWatcher.WatchAsync(console, grid.Grains, manifest, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.MarkupLine(
                $"[yellow]Stopped watching.[/] Album [bold]{Markup.Escape(manifest.AlbumId)}[/] keeps running on the grid: " +
                $"'sair album watch {Markup.Escape(manifest.AlbumId)} -o {Markup.Escape(outputFolder)}' picks it up again.");
            throw;
        }

        return await WriteAsync(console, grid, manifest, durations, outputFolder, layout, cancellationToken);
    }

    /// <summary>Writes whatever the album has now (finished or not) and prints the summary.</summary>
    public static async Task<int> WriteAsync(
        IAnsiConsole console,
        IGridConnection? grid,
        AlbumManifest manifest,
        IReadOnlyDictionary<int, TimeSpan> durations,
        string outputFolder,
        OutputLayout layout,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<PhotoResult> results = grid is not null && manifest.Photos.Any(p => p.Index >= 0)
            ? await grid.Grains.GetGrain<IAlbumGrain>(manifest.AlbumId).ListResultsAsync()
            : [];
        var output = new OutputFolder(outputFolder);
        var report = await ResultWriter.WriteAsync(grid?.Images ?? NoImages.Instance, manifest, results, durations, output, layout, cancellationToken);
        SummaryTable.Render(console, report, output.Root);
        return report.ExitCode;
    }

    /// <summary>For a run where every input was refused before any upload: nothing is ever read.</summary>
    private sealed class NoImages : Sair.Grains.Ports.IImageStore
    {
        public static readonly NoImages Instance = new();

        public Task PutAsync(string path, byte[] content, CancellationToken cancellationToken) => throw Unexpected(path);

        public Task<byte[]> GetAsync(string path, CancellationToken cancellationToken) => throw Unexpected(path);

        public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) => throw Unexpected(path);

        public Task DeleteAsync(string path, CancellationToken cancellationToken) => throw Unexpected(path);

        private static InvalidOperationException Unexpected(string path) => new($"No grid is connected to read '{path}'.");
    }
}

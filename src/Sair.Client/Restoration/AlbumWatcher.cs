using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Sair.Grains.Albums;
using Sair.Grains.Jobs;
using Spectre.Console;

namespace Sair.Client.Restoration;

/// <summary>
/// Follows an album to the end: one progress bar per photo (iteration, current loss, ETA) fed by the job grains'
/// progress streams, and one for the album fed by the album grain's completion stream.
/// </summary>
public static class AlbumWatcher
{
    /// <summary>Watches until every photo finished; returns how long each photo took, by album index, as seen from here.</summary>
    public static async Task<IReadOnlyDictionary<int, TimeSpan>> WatchAsync(
        IAnsiConsole console, IGrainFactory grains, AlbumManifest manifest, CancellationToken cancellationToken)
    {
        var photos = manifest.Photos.Where(p => p.Index >= 0).OrderBy(p => p.Index).ToList();
        var durations = new ConcurrentDictionary<int, TimeSpan>();
        if (photos.Count == 0)
        {
            return durations;
        }

        var album = grains.GetGrain<IAlbumGrain>(manifest.AlbumId);
        var known = await album.ListResultsAsync();
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn())
            .StartAsync(async context =>
            {
                var albumTask = context.AddTask(AlbumLabel(manifest, 0, photos.Count), maxValue: photos.Count);
                var photoTasks = photos.ToDictionary(p => p.Index, p => context.AddTask(Markup.Escape(p.Name ?? p.Source), maxValue: 1));
                using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var watchers = known.Select(result => FollowJobAsync(grains, result.JobId, photoTasks[result.Index], durations,
                    result.Index, stopWatching.Token)).ToList();
                var finished = 0;
                var watching = Stopwatch.StartNew();
                // Without a live display (logs, CI) the bars never draw: say each finished photo on its own line.
                var plain = !console.Profile.Capabilities.Interactive;
                await foreach (var result in album.WatchAsync(cancellationToken))
                {
                    var task = photoTasks[result.Index];
                    var line = $"{Markup.Escape(photos[result.Index].Name ?? result.PhotoPath)} {StateMarkup(result.State)}";
                    task.Description = line;
                    task.Value = task.MaxValue;
                    task.StopTask();
                    // A job that ran between two looks of its watcher was never seen running: time it from the start of watching.
                    durations.TryAdd(result.Index, watching.Elapsed);
                    finished++;
                    albumTask.Description = AlbumLabel(manifest, finished, photos.Count);
                    albumTask.Value = finished;
                    if (plain)
                    {
                        console.MarkupLine($"[[{finished}/{photos.Count}]] {line}");
                    }
                }

                albumTask.StopTask();
                await stopWatching.CancelAsync();
                await Task.WhenAll(watchers);
            });
        return durations;
    }

    private static string AlbumLabel(AlbumManifest manifest, int finished, int total) =>
        $"[bold]{Markup.Escape(manifest.AlbumId)}[/] {finished}/{total} photos";

    private static string StateMarkup(JobState state) => state switch
    {
        JobState.Completed => "[green]restored[/]",
        JobState.Failed => "[red]failed[/]",
        JobState.Cancelled => "[yellow]cancelled[/]",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Mirrors one job's progress into its bar. A job's stream ends at once while it is not started yet (the album
    /// retries those), so the watcher asks again after a pause until the job finishes or watching stops.
    /// </summary>
    private static async Task FollowJobAsync(
        IGrainFactory grains, string jobId, ProgressTask task, ConcurrentDictionary<int, TimeSpan> durations, int index, CancellationToken stop)
    {
        var job = grains.GetGrain<IRestorationJobGrain>(jobId);
        Stopwatch? running = null;
        var label = task.Description;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await foreach (var progress in job.WatchAsync(stop))
                {
                    if (progress.State == JobState.Running && running is null)
                    {
                        running = Stopwatch.StartNew();
                    }

                    if (progress.TotalIterations > 0 && !task.IsFinished)
                    {
                        task.MaxValue = progress.TotalIterations;
                        task.Value = progress.Iteration;
                        task.Description = progress.Loss is { } loss
                            ? string.Create(CultureInfo.InvariantCulture, $"{label} [grey]loss {loss:0.0000}[/]")
                            : label;
                    }

                    if (progress.State.IsFinished())
                    {
                        if (running is not null)
                        {
                            durations[index] = running.Elapsed;
                        }

                        return;
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The album finished (or the user left): the bar's final state came from the album stream.
        }
    }
}

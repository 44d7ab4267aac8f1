using System.Diagnostics;
using System.Globalization;
using Sair.Grains.Albums;
using Sair.Grains.Jobs;
using Spectre.Console;

namespace Sair.Client.Restoration;

/// <summary>
/// Follows an album to the end through the album grain's one stream (<see cref="IAlbumGrain.FollowAsync"/>): one bar for
/// the album, and one per running face (iteration, current loss); a finished face's bar is reused by the next face to
/// run, so an album of a thousand photos shows the album and as many bars as faces ran at once, never a thousand rows.
/// </summary>
public static class AlbumWatcher
{
    /// <summary>Watches until every face finished; returns how long each face took, by job index, as seen from here.</summary>
    public static async Task<IReadOnlyDictionary<int, TimeSpan>> WatchAsync(
        IAnsiConsole console, IGrainFactory grains, AlbumManifest manifest, CancellationToken cancellationToken) =>
        (await FollowAsync(console, grains, manifest, cancellationToken)).Durations;

    /// <summary>What watching an album showed: each face's time, and how many face bars it needed (the most faces seen running at once).</summary>
    public sealed record Watched(IReadOnlyDictionary<int, TimeSpan> Durations, int FaceBars);

    /// <summary>A lost stream is opened again after this long, doubling up to <see cref="MaxReconnectDelay"/>.</summary>
    private static readonly TimeSpan FirstReconnectDelay = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(10);

    /// <summary>Streams lost in a row, with no update between them, before watching gives up (about five minutes).</summary>
    internal const int MaxLostStreams = 32;

    /// <summary>As <see cref="WatchAsync"/>, also telling how many face bars the display needed.</summary>
    public static Task<Watched> FollowAsync(
        IAnsiConsole console, IGrainFactory grains, AlbumManifest manifest, CancellationToken cancellationToken)
    {
        var album = grains.GetGrain<IAlbumGrain>(manifest.AlbumId);
        return FollowAsync(console, album.FollowAsync, manifest, cancellationToken);
    }

    /// <summary>
    /// Follows the album through <paramref name="follow"/>. When the stream breaks (the album's silo died, the gateway
    /// went away) it is opened again with a growing pause, and the new stream's faces already seen are not counted
    /// twice; watching gives up after <see cref="MaxLostStreams"/> breaks in a row without an update.
    /// </summary>
    internal static async Task<Watched> FollowAsync(
        IAnsiConsole console, Func<CancellationToken, IAsyncEnumerable<AlbumUpdate>> follow, AlbumManifest manifest, CancellationToken cancellationToken,
        TimeSpan? firstReconnectDelay = null)
    {
        var firstDelay = firstReconnectDelay ?? FirstReconnectDelay;
        var labels = Labels(manifest);
        var durations = new Dictionary<int, TimeSpan>();
        var faceBars = 0;
        if (labels.Count == 0)
        {
            return new Watched(durations, 0);
        }

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
                var albumTask = context.AddTask(AlbumLabel(manifest, 0, labels.Count), maxValue: labels.Count);
                var bars = new Dictionary<int, ProgressTask>();
                var idle = new Queue<ProgressTask>();
                var started = new Dictionary<int, Stopwatch>();
                var watching = Stopwatch.StartNew();
                var finished = 0;
                // Without a live display (logs, CI) the bars never draw: say each finished face on its own line.
                var plain = !console.Profile.Capabilities.Interactive;
                var seen = new HashSet<int>();
                var lost = 0;
                var delay = firstDelay;
                while (true)
                {
                    try
                    {
                        await foreach (var update in follow(cancellationToken))
                        {
                            lost = 0;
                            delay = firstDelay;
                            Show(update);
                        }

                        break;
                    }
                    catch (Exception exception) when (Transient(exception) && !cancellationToken.IsCancellationRequested && ++lost <= MaxLostStreams)
                    {
                        var note = $"[yellow]lost the grid ({Markup.Escape(exception.GetType().Name)}); reconnecting in {delay.TotalSeconds:0.#} s[/]";
                        albumTask.Description = $"{AlbumLabel(manifest, finished, labels.Count)} {note}";
                        if (plain)
                        {
                            console.MarkupLine(note);
                        }

                        await Task.Delay(delay, cancellationToken);
                        delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxReconnectDelay.Ticks));
                    }
                }

                void Show(AlbumUpdate update)
                {
                    // Finished first: their bars are free for the faces that started since. A stream opened again
                    // repeats the faces finished before it: each is counted once.
                    foreach (var result in update.Finished.Where(r => seen.Add(r.Index)))
                    {
                        // A face that ran between two updates was never seen running: time it from the start of watching.
                        durations[result.Index] = started.TryGetValue(result.Index, out var clock) ? clock.Elapsed : watching.Elapsed;
                        if (bars.Remove(result.Index, out var bar))
                        {
                            bar.Value = bar.MaxValue;
                            bar.Description = $"{Markup.Escape(Label(labels, result.Index))} {StateMarkup(result.State)}";
                            idle.Enqueue(bar);
                        }

                        finished++;
                        if (plain)
                        {
                            console.MarkupLine($"[[{finished}/{labels.Count}]] {Markup.Escape(Label(labels, result.Index))} {StateMarkup(result.State)}");
                        }
                    }

                    foreach (var running in update.Running)
                    {
                        started.TryAdd(running.Index, Stopwatch.StartNew());
                        if (!bars.TryGetValue(running.Index, out var bar))
                        {
                            if (!idle.TryDequeue(out bar))
                            {
                                bar = context.AddTask(Markup.Escape(Label(labels, running.Index)), maxValue: Math.Max(1, running.TotalIterations));
                                faceBars++;
                            }

                            bars[running.Index] = bar;
                            bar.Value = 0;
                        }

                        bar.MaxValue = Math.Max(1, running.TotalIterations);
                        bar.Value = running.Iteration;
                        bar.Description = running.Loss is { } loss
                            ? string.Create(CultureInfo.InvariantCulture, $"{Markup.Escape(Label(labels, running.Index))} [grey]loss {loss:0.0000}[/]")
                            : Markup.Escape(Label(labels, running.Index));
                    }

                    albumTask.Description = AlbumLabel(manifest, update.Progress.Completed + update.Progress.Failed + update.Progress.Cancelled, labels.Count);
                    albumTask.Value = finished;
                }

                albumTask.Value = albumTask.MaxValue;
                albumTask.StopTask();
                foreach (var bar in idle.Concat(bars.Values))
                {
                    bar.StopTask();
                }
            });
        return new Watched(durations, faceBars);
    }

    /// <summary>Each submitted face's name (<c>photo_00</c>) by its job index in the album.</summary>
    private static Dictionary<int, string> Labels(AlbumManifest manifest) =>
        manifest.Photos
            .SelectMany(p => p.AllFaces.Where(f => f.Job >= 0).Select(f => (f.Job, Label: $"{p.Name ?? Path.GetFileName(p.Source)}_{f.Face:D2}")))
            .ToDictionary(f => f.Job, f => f.Label);

    private static string Label(Dictionary<int, string> labels, int index) =>
        labels.GetValueOrDefault(index) ?? index.ToString(CultureInfo.InvariantCulture);

    private static string AlbumLabel(AlbumManifest manifest, int finished, int total) =>
        $"[bold]{Markup.Escape(manifest.AlbumId)}[/] {finished}/{total} faces";

    // What a dying silo or gateway looks like from here; anything else (a bad album, a bug) ends watching at once.
    private static bool Transient(Exception exception) =>
        exception is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or GatewayTooBusyException
            or System.Net.Sockets.SocketException or IOException
        // Orleans' connection errors are not public types.
        || exception.GetType().Name is "ConnectionFailedException" or "ConnectionAbortedException";

    private static string StateMarkup(JobState state) => state switch
    {
        JobState.Completed => "[green]restored[/]",
        JobState.Failed => "[red]failed[/]",
        JobState.Cancelled => "[yellow]cancelled[/]",
        _ => state.ToString().ToLowerInvariant(),
    };
}

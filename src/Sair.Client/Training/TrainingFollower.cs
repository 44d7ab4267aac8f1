using System.Globalization;
using Sair.Grains.Jobs;
using Sair.Grains.Training;
using Spectre.Console;

namespace Sair.Client.Training;

/// <summary>
/// Shows a training job until it finishes: on a terminal one live bar (images seen of the total, speed, ETA, D and G
/// loss, the latest FFD and sample grid); in logs a line at every checkpoint, FFD or stage change. Ctrl+C surfaces as
/// <see cref="OperationCanceledException"/>: the caller decides whether that cancels the job or only stops watching.
/// </summary>
public static class TrainingFollower
{
    private const int MaxLostStreams = 5;

    public static async Task<TrainingJobStatus> FollowAsync(
        IAnsiConsole console, ITrainingJobGrain job, TrainingJobStatus start, CancellationToken cancellationToken)
    {
        if (start.State.IsFinished() || start.State == JobState.NotStarted)
        {
            return start;
        }

        if (!console.Profile.Capabilities.Interactive)
        {
            TrainingJobStatus? printed = null;
            return await WatchAsync(job, start, status =>
            {
                if (printed is null || Noteworthy(printed, status))
                {
                    console.MarkupLine(Markup.Escape($"[{status.JobId}] {Describe(status)}"));
                    if (status.Progress?.SampleGrid is { } grid && grid != printed?.Progress?.SampleGrid)
                    {
                        console.MarkupLine(Markup.Escape($"[{status.JobId}] samples: {grid}"));
                    }

                    printed = status;
                }
            }, cancellationToken);
        }

        TrainingJobStatus last = start;
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask(Label(start), maxValue: Math.Max(1, start.Progress?.Total ?? 1));
                last = await WatchAsync(job, start, status =>
                {
                    bar.MaxValue = Math.Max(1, status.Progress?.Total ?? 1);
                    bar.Value = Math.Min(bar.MaxValue, status.ImagesSeen);
                    bar.Description = Label(status);
                }, cancellationToken);
                bar.StopTask();
            });
        return last;
    }

    /// <summary>One line of a job's state: "step 120 · 480/200,000 images · 12.3 img/s · ETA 4:31:10 · D 1.234 · G 0.876 · FFD 45.2 @ step 100".</summary>
    public static string Describe(TrainingJobStatus status)
    {
        var parts = new List<string> { status.State.ToString().ToLowerInvariant() };
        if (status.Progress is { } p)
        {
            if (p.Stage is { } stage)
            {
                parts.Add(Invariant($"{stage} {p.ImagesSeen:N0}/{p.Total:N0}"));
            }
            else
            {
                parts.Add(Invariant($"step {p.Step:N0}"));
                parts.Add(Invariant($"{p.ImagesSeen:N0}/{p.Total:N0} images"));
            }

            if (p.ImagesPerSecond is { } rate && status.State == JobState.Running)
            {
                parts.Add(Invariant($"{rate:0.0} img/s"));
            }

            if (p.Eta is { } eta && status.State == JobState.Running)
            {
                parts.Add(Invariant($"ETA {(int)eta.TotalHours}:{eta:mm\\:ss}"));
            }

            if (p.DLoss is { } d && p.GLoss is { } g)
            {
                parts.Add(Invariant($"D {d:0.000} · G {g:0.000}"));
            }

            if (p.Ffd is { } ffd)
            {
                parts.Add(Invariant($"FFD {ffd:0.00} @ step {p.FfdStep:N0}"));
            }

            if (p.SkippedFiles > 0)
            {
                parts.Add(Invariant($"{p.SkippedFiles:N0} unreadable data file(s) skipped"));
            }
        }

        return string.Join(" · ", parts);
    }

    // The output folder was printed when the job started: the grid is named inside it, to keep the bar on one line.
    private static string Label(TrainingJobStatus status)
    {
        var line = $"[bold]{Markup.Escape(status.JobId)}[/] {Markup.Escape(Describe(status))}";
        return status.Progress?.SampleGrid is { } grid
            ? $"{line} [grey]· {Markup.Escape(status.OutputFolder is { } folder ? Path.GetRelativePath(folder, grid) : grid)}[/]"
            : line;
    }

    // Logs get a line per state change, checkpoint, FFD measurement or emotion-fit stage, not per step.
    private static bool Noteworthy(TrainingJobStatus before, TrainingJobStatus now) =>
        before.State != now.State || before.CheckpointStep != now.CheckpointStep
        || before.Progress?.FfdStep != now.Progress?.FfdStep || before.Progress?.Stage != now.Progress?.Stage;

    /// <summary>
    /// Follows the job's status stream to its end. A stream lost on the way (the job's silo died and the job moves)
    /// is opened again, a few times in a row at most.
    /// </summary>
    private static async Task<TrainingJobStatus> WatchAsync(
        ITrainingJobGrain job, TrainingJobStatus last, Action<TrainingJobStatus> show, CancellationToken cancellationToken)
    {
        var lost = 0;
        while (true)
        {
            try
            {
                await foreach (var status in job.WatchAsync(cancellationToken))
                {
                    last = status;
                    lost = 0;
                    show(status);
                }

                if (last.State.IsFinished() || last.State == JobState.NotStarted)
                {
                    return last;
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException && ++lost <= MaxLostStreams)
            {
                // The job is moving to another engine silo: ask again shortly.
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

using System.ComponentModel;
using System.Globalization;
using Sair.Client.Cli;
using Sair.Client.Grid;
using Sair.Client.Restoration;
using Sair.Grains.Albums;
using Sair.Grains.Jobs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Commands;

public sealed class JobsSettings : GridSettings
{
    [CommandArgument(0, "[ALBUM]")]
    [Description("Show this album's jobs one by one (otherwise: your recent albums)")]
    public string? Album { get; init; }

    [CommandOption("-n|--last <N>")]
    [Description("How many recent albums to list")]
    [DefaultValue(10)]
    public int Last { get; init; } = 10;

    public override ValidationResult Validate()
    {
        var grid = base.Validate();
        return !grid.Successful ? grid
            : Album is not null && !AlbumSubmitter.IsValidAlbumId(Album) ? ValidationResult.Error($"[ALBUM] '{Album}' is not an album id.")
            : Last is < 1 or > 1000 ? ValidationResult.Error($"--last {Last} is out of range: use 1 to 1000.")
            : ValidationResult.Success();
    }
}

/// <summary>Your recent albums with their progress, or one album's jobs (state, iteration, attempt, silo, loss).</summary>
public sealed class JobsCommand(IGridConnector connector, IAnsiConsole console, SairHome home) : GridCommand<JobsSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, JobsSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Album is { } albumId)
        {
            return await ShowAlbumAsync(await session.ConnectAsync(cancellationToken), albumId);
        }

        var recent = History.Recent(home, settings.Last);
        if (recent.Count == 0)
        {
            Console.MarkupLine("No albums submitted from this machine yet ('sair demo' makes one).");
            return ExitCodes.Success;
        }

        var grid = await session.ConnectAsync(cancellationToken);
        var table = new Table().RoundedBorder();
        table.AddColumns("Album", "Submitted", "Photos", "Done", "Failed", "Running", "References");
        foreach (var entry in recent)
        {
            var progress = await grid.Grains.GetGrain<IAlbumGrain>(entry.AlbumId).GetProgressAsync();
            table.AddRow(
                Markup.Escape(entry.AlbumId),
                entry.SubmittedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                progress.Total.ToString(CultureInfo.InvariantCulture),
                $"[green]{progress.Completed}[/]",
                progress.Failed > 0 ? $"[red]{progress.Failed}[/]" : "0",
                (progress.Running + progress.Pending).ToString(CultureInfo.InvariantCulture),
                Markup.Escape(entry.References));
        }

        Console.Write(table);
        return ExitCodes.Success;
    }

    private async Task<int> ShowAlbumAsync(IGridConnection grid, string albumId)
    {
        var photos = await grid.Grains.GetGrain<IAlbumGrain>(albumId).ListResultsAsync();
        if (photos.IsDefaultOrEmpty)
        {
            Error($"Album '{albumId}' was never submitted to this grid.");
            return ExitCodes.Failure;
        }

        var table = new Table().RoundedBorder().Title($"[bold]{Markup.Escape(albumId)}[/]");
        table.AddColumns("Job", "State", "Iteration", "Attempt", "Silo", "Loss", "Error");
        foreach (var photo in photos)
        {
            var status = await grid.Grains.GetGrain<IRestorationJobGrain>(photo.JobId).GetStatusAsync();
            table.AddRow(
                Markup.Escape(status.JobId),
                status.State.ToString(),
                $"{status.Iteration}/{status.TotalIterations}",
                status.Attempt.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(status.Silo ?? "-"),
                status.Loss is { } loss ? loss.ToString("0.0000", CultureInfo.InvariantCulture) : "-",
                Markup.Escape(status.Error ?? photo.Error ?? ""));
        }

        Console.Write(table);
        return ExitCodes.Success;
    }
}

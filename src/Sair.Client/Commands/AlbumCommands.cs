using System.ComponentModel;
using Sair.Client.Cli;
using Sair.Client.Grid;
using Sair.Client.Output;
using Sair.Client.Photos;
using Sair.Client.Restoration;
using Sair.Grains.Albums;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Commands;

public sealed class AlbumSubmitSettings : RestoreSettings
{
    [CommandOption("--album-id <ID>")]
    [Description("Album id (letters, digits, '-', '_', '.'). Default: album-<time>-<random>")]
    public string? AlbumId { get; init; }

    [CommandOption("--watch")]
    [Description("Stay and show progress, then write the results to -o (otherwise return once submitted)")]
    public bool Watch { get; init; }

    public override ValidationResult Validate()
    {
        var restore = base.Validate();
        return !restore.Successful ? restore
            : AlbumId is not null && !AlbumSubmitter.IsValidAlbumId(AlbumId)
                ? ValidationResult.Error($"--album-id '{AlbumId}' is not valid: use up to 80 letters, digits, '-', '_' or '.', starting with a letter or digit.")
                : ValidationResult.Success();
    }
}

public class AlbumSettings : GridSettings
{
    [CommandArgument(0, "<ALBUM>")]
    [Description("Album id (as printed by 'album submit' and listed by 'sair jobs')")]
    public string Album { get; init; } = "";

    public override ValidationResult Validate()
    {
        var grid = base.Validate();
        return !grid.Successful ? grid
            : !AlbumSubmitter.IsValidAlbumId(Album) ? ValidationResult.Error($"<ALBUM> '{Album}' is not an album id.")
            : ValidationResult.Success();
    }
}

public class AlbumOutputSettings : AlbumSettings, IResultsFolderSettings
{
    [CommandOption("-o|--output <FOLDER>")]
    [Description("Output folder for the results")]
    [DefaultValue("results")]
    public string Output { get; init; } = "results";

    [CommandOption("--upscale <FACTOR>")]
    [Description("Scale of restored_imgs/ relative to the input photo (the grid pasted the face back at the submitted --upscale; another scale resizes that photo)")]
    [DefaultValue(OutputLayout.DefaultUpscale)]
    public double Upscale { get; init; } = OutputLayout.DefaultUpscale;

    [CommandOption("--ext <EXT>")]
    [Description(OutputLayout.ExtHelp)]
    [DefaultValue(OutputLayout.DefaultExt)]
    public string Ext { get; init; } = OutputLayout.DefaultExt;

    [CommandOption("--suffix <TEXT>")]
    [Description(OutputLayout.SuffixHelp)]
    public string? Suffix { get; init; }

    public override ValidationResult Validate()
    {
        var album = base.Validate();
        return !album.Successful ? album
            : this.Problem() is { } resultsProblem ? ValidationResult.Error(resultsProblem)
            : ValidationResult.Success();
    }
}

public sealed class AlbumWatchSettings : AlbumOutputSettings;

public sealed class AlbumResultsSettings : AlbumOutputSettings;

public sealed class AlbumCancelSettings : AlbumSettings;

public sealed class AlbumRetrySettings : AlbumSettings;

/// <summary>Submits a folder as an album and returns (or watches it with --watch).</summary>
public sealed class AlbumSubmitCommand(IGridConnector connector, IAnsiConsole console, SairHome home) : GridCommand<AlbumSubmitSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, AlbumSubmitSettings settings, CancellationToken cancellationToken)
    {
        var references = settings.References();
        var intake = PhotoIntake.Check(PhotoIntake.ListInputs(settings.Input!), settings.Aligned);
        foreach (var refused in intake.Rejected)
        {
            Console.MarkupLine($"[red]refused[/] {Markup.Escape(refused.Source)}: {Markup.Escape(refused.Reason)}");
        }

        if (intake.Accepted.Count == 0)
        {
            Error("No usable photo to submit.");
            return ExitCodes.Failure;
        }

        var grid = await session.ConnectAsync(cancellationToken);
        await TimeEstimate.PrintAsync(Console, grid, settings.Iterations, !references.NoIdentity);
        var manifest = await AlbumSubmitter.SubmitAsync(
            grid, settings.AlbumId ?? AlbumSubmitter.NewAlbumId("album"), intake, references, settings.JobOptions(), settings.Framing, cancellationToken, settings.Faces);
        History.Append(home, manifest);
        // Refusals found past the intake (a photo without a face, found when the album looks for faces) get their line too.
        var named = intake.Rejected.Select(r => r.Source).ToHashSet(StringComparer.Ordinal);
        foreach (var refused in manifest.Photos.Where(p => p.Index < 0 && !named.Contains(p.Source)))
        {
            Console.MarkupLine($"[red]refused[/] {Markup.Escape(refused.Source)}: {Markup.Escape(refused.Error ?? "not submitted")}");
        }

        var submitted = manifest.Photos.Count(p => p.Index >= 0);
        Console.MarkupLine($"Submitted album [bold]{Markup.Escape(manifest.AlbumId)}[/]: {submitted} photo(s), {manifest.Photos.Count - submitted} refused.");
        if (settings.Watch)
        {
            return await AlbumRun.FinishAsync(Console, grid, manifest, settings.Output, settings.Layout(), cancellationToken);
        }

        Console.MarkupLine($"Follow it with 'sair album watch {Markup.Escape(manifest.AlbumId)} -o <folder>'.");
        return submitted == manifest.Photos.Count ? ExitCodes.Success : submitted > 0 ? ExitCodes.Partial : ExitCodes.Failure;
    }
}

/// <summary>Shows an album's progress until it finishes, then writes its results.</summary>
public sealed class AlbumWatchCommand(IGridConnector connector, IAnsiConsole console) : GridCommand<AlbumWatchSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, AlbumWatchSettings settings, CancellationToken cancellationToken)
    {
        var grid = await session.ConnectAsync(cancellationToken);
        var manifest = await AlbumManifest.LoadAsync(grid.Images, settings.Album, cancellationToken);
        return await AlbumRun.FinishAsync(Console, grid, manifest, settings.Output, settings.Layout(), cancellationToken);
    }
}

/// <summary>Writes an album's results as they are now, without waiting.</summary>
public sealed class AlbumResultsCommand(IGridConnector connector, IAnsiConsole console) : GridCommand<AlbumResultsSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, AlbumResultsSettings settings, CancellationToken cancellationToken)
    {
        var grid = await session.ConnectAsync(cancellationToken);
        var manifest = await AlbumManifest.LoadAsync(grid.Images, settings.Album, cancellationToken);
        return await AlbumRun.WriteAsync(Console, grid, manifest, new Dictionary<int, TimeSpan>(), settings.Output, settings.Layout(), cancellationToken);
    }
}

/// <summary>A command on an album this grid already has: an album id it never saw is refused before anything is done.</summary>
public abstract class SubmittedAlbumCommand<TSettings>(IGridConnector connector, IAnsiConsole console) : GridCommand<TSettings>(connector, console)
    where TSettings : AlbumSettings
{
    protected sealed override async Task<int> RunAsync(GridSession session, TSettings settings, CancellationToken cancellationToken)
    {
        var grid = await session.ConnectAsync(cancellationToken);
        var album = grid.Grains.GetGrain<IAlbumGrain>(settings.Album);
        var progress = await album.GetProgressAsync();
        if (progress.Total == 0)
        {
            Error($"Album '{settings.Album}' was never submitted to this grid.");
            return ExitCodes.Failure;
        }

        return await RunAsync(album, progress, settings);
    }

    /// <summary>Acts on the album, whose progress before acting is <paramref name="before"/>.</summary>
    protected abstract Task<int> RunAsync(IAlbumGrain album, AlbumProgress before, TSettings settings);
}

/// <summary>Cancels an album's unfinished photos; finished ones keep their results.</summary>
public sealed class AlbumCancelCommand(IGridConnector connector, IAnsiConsole console) : SubmittedAlbumCommand<AlbumCancelSettings>(connector, console)
{
    protected override async Task<int> RunAsync(IAlbumGrain album, AlbumProgress before, AlbumCancelSettings settings)
    {
        var after = await album.CancelAsync();
        Console.MarkupLine($"Album [bold]{Markup.Escape(settings.Album)}[/]: {after.Cancelled} cancelled, {after.Completed} completed, {after.Failed} failed of {after.Total}.");
        return ExitCodes.Success;
    }
}

/// <summary>Starts an album's failed photos again (each as a new job); completed and cancelled photos keep theirs.</summary>
public sealed class AlbumRetryCommand(IGridConnector connector, IAnsiConsole console) : SubmittedAlbumCommand<AlbumRetrySettings>(connector, console)
{
    protected override async Task<int> RunAsync(IAlbumGrain album, AlbumProgress before, AlbumRetrySettings settings)
    {
        if (before.Failed == 0)
        {
            Console.MarkupLine($"Album [bold]{Markup.Escape(settings.Album)}[/]: no failed photo to retry ({before.Completed} completed, {before.Cancelled} cancelled of {before.Total}).");
            return ExitCodes.Success;
        }

        await album.RetryFailedAsync();
        Console.MarkupLine($"Album [bold]{Markup.Escape(settings.Album)}[/]: retrying {before.Failed} failed photo(s). " +
            $"Follow it with 'sair album watch {Markup.Escape(settings.Album)} -o <folder>'.");
        return ExitCodes.Success;
    }
}

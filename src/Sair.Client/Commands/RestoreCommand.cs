using System.ComponentModel;
using Sair.Client.Cli;
using Sair.Client.Grid;
using Sair.Client.Output;
using Sair.Client.Photos;
using Sair.Client.Restoration;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Pools;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Commands;

public class RestoreSettings : EngineSettings, IResultsFolderSettings
{
    [CommandOption("-i|--input <PATH>")]
    [Description("Input photo or folder of photos (every file in it is checked; bad ones are reported, not fatal)")]
    public string? Input { get; init; }

    [CommandOption("-o|--output <FOLDER>")]
    [Description("Output folder: cropped_faces/, restored_faces/, cmp/, restored_imgs/, report.json")]
    [DefaultValue("results")]
    public string Output { get; init; } = "results";

    [CommandOption("--reference <PATH>")]
    [Description("Reference photo or folder of photos of the same person (instead of --pool): each face is detected and aligned as pool enrolment does")]
    public string? Reference { get; init; }

    [CommandOption("--pool <NAME>")]
    [Description("Reference pool to take the identity from; each photo is matched to its closest person")]
    public string? Pool { get; init; }

    [CommandOption("--aligned-reference")]
    [Description("The --reference photos are already aligned square face crops: used whole, without face detection")]
    public bool AlignedReference { get; init; }

    [CommandOption("--no-identity")]
    [Description("Restore without a reference: no identity term, only the prior, the input and the skin-colour and expression terms (instead of --reference or --pool)")]
    public bool NoIdentity { get; init; }

    [CommandOption("--person <NAME>")]
    [Description("Use this person of --pool for every photo instead of matching")]
    public string? Person { get; init; }

    [CommandOption("--match-threshold <SIM>")]
    [DefaultValue(AutoThreshold)]
    [Description("Lowest pool-match similarity (cosine, -1..1) that lends a face its identity; below it the face is restored without the identity term (noted in the report). auto: the silo's identity net's calibrated equal-error threshold (docs/matching.md: 0.91 for faceapi, 0.49 for faceres; lower for aligned inputs of at most 32 px), so a stranger is not matched")]
    public string MatchThreshold { get; init; } = AutoThreshold;

    public const string AutoThreshold = "auto";

    /// <summary>The threshold given, or null for auto (the identity net's calibrated one).</summary>
    public double? MatchThresholdValue =>
        string.Equals(MatchThreshold, AutoThreshold, StringComparison.OrdinalIgnoreCase) ? null
        : double.TryParse(MatchThreshold, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value
        : double.NaN;

    [CommandOption("--skip-unmatched")]
    [Description("Skip photos whose best pool match is below --match-threshold instead of restoring them without identity")]
    public bool SkipUnmatched { get; init; }

    [CommandOption("--upscale <FACTOR>")]
    [Description("Scale of restored_imgs/ (the whole photo with the restored face pasted back) relative to the input photo")]
    [DefaultValue(OutputLayout.DefaultUpscale)]
    public double Upscale { get; init; } = OutputLayout.DefaultUpscale;

    [CommandOption("--ext <EXT>")]
    [Description(OutputLayout.ExtHelp)]
    [DefaultValue(OutputLayout.DefaultExt)]
    public string Ext { get; init; } = OutputLayout.DefaultExt;

    [CommandOption("--suffix <TEXT>")]
    [Description(OutputLayout.SuffixHelp)]
    public string? Suffix { get; init; }

    [CommandOption("--aligned")]
    [Description("Inputs are already aligned square face crops (refuses other shapes); restored_imgs/ then holds the restored face itself")]
    public bool Aligned { get; init; }

    /// <summary>
    /// --aligned means aligned like the generator's faces (the FFHQ recipe), which is what the engine restores; a pool
    /// match then embeds the whole crop instead of looking for a face in it.
    /// </summary>
    public FaceFraming Framing => Aligned ? FaceFraming.Ffhq : FaceFraming.Unaligned;

    [CommandOption("--only-center-face")]
    [Description("Restore only the face nearest each photo's centre (by default every face is restored, each matched to its own person); the others stay as they are in restored_imgs/")]
    public bool OnlyCenterFace { get; init; }

    [CommandOption("--largest-face")]
    [Description("Restore only the largest face of each photo; the others stay as they are in restored_imgs/")]
    public bool LargestFace { get; init; }

    [CommandOption("--min-face-size <PX>")]
    [Description("Faces narrower than this many input pixels (the detected box) are left as they are")]
    [DefaultValue(FacePolicy.DefaultMinFaceSize)]
    public int MinFaceSize { get; init; } = FacePolicy.DefaultMinFaceSize;

    /// <summary>Which faces of each photo are restored.</summary>
    public FacePolicy Faces => new(OnlyCenterFace ? FacesToRestore.Center : LargestFace ? FacesToRestore.Largest : FacesToRestore.All, MinFaceSize);

    /// <summary>The engine options with the scale the engine pastes faces back at (the album tells each job where its face is).</summary>
    public RestorationOptions JobOptions() => Options() with { Face = OnlyCenterFace ? FaceChoice.Center : FaceChoice.Largest, Upscale = Upscale };

    public override ValidationResult Validate()
    {
        var engine = base.Validate();
        if (!engine.Successful)
        {
            return engine;
        }

        if (string.IsNullOrWhiteSpace(Input))
        {
            return ValidationResult.Error("-i/--input is required: a photo or a folder of photos.");
        }

        if (!File.Exists(Input) && !Directory.Exists(Input))
        {
            return ValidationResult.Error($"-i/--input '{Input}' does not exist.");
        }

        if ((Reference is not null ? 1 : 0) + (Pool is not null ? 1 : 0) + (NoIdentity ? 1 : 0) != 1)
        {
            return ValidationResult.Error(
                "SAIR restores towards a known identity: give one of --reference <PATH> or --pool <NAME>, or --no-identity to restore without one.");
        }

        if (Reference is not null && !File.Exists(Reference) && !Directory.Exists(Reference))
        {
            return ValidationResult.Error($"--reference '{Reference}' does not exist.");
        }

        if (AlignedReference && Reference is null)
        {
            return ValidationResult.Error("--aligned-reference describes --reference photos: add --reference <PATH>.");
        }

        if (Pool is not null && PoolNames.PoolProblem(Pool) is { } poolProblem)
        {
            return ValidationResult.Error($"--pool: {poolProblem}.");
        }

        if (Person is not null && Pool is null)
        {
            return ValidationResult.Error("--person picks someone from a pool: add --pool <NAME>.");
        }

        if (MatchThresholdValue is < -1 or > 1 || (MatchThresholdValue is { } threshold && double.IsNaN(threshold)))
        {
            return ValidationResult.Error($"--match-threshold {MatchThreshold} is not a similarity: use auto or a number from -1 to 1.");
        }

        if ((MatchThresholdValue is not null || SkipUnmatched) && (Pool is null || Person is not null))
        {
            return ValidationResult.Error("--match-threshold and --skip-unmatched apply to pool matching: use them with --pool and without --person.");
        }

        if (OnlyCenterFace && LargestFace)
        {
            return ValidationResult.Error("--only-center-face and --largest-face each keep one face: give one of them.");
        }

        if (MinFaceSize < 1)
        {
            return ValidationResult.Error($"--min-face-size {MinFaceSize} is out of range: use a width in pixels, 1 or more.");
        }

        return this.Problem() is { } resultsProblem ? ValidationResult.Error(resultsProblem) : ValidationResult.Success();
    }

    /// <summary>Checks the reference photos (all must be usable: a bad reference would mislead every photo).</summary>
    public ReferenceChoice References()
    {
        if (NoIdentity)
        {
            return ReferenceChoice.None;
        }

        if (Pool is not null)
        {
            return new ReferenceChoice(Pool, Person, [], MatchThresholdValue, SkipUnmatched);
        }

        var references = PhotoIntake.Check(PhotoIntake.ListInputs(Reference!), aligned: AlignedReference);
        if (references.Rejected.Count > 0)
        {
            throw new CommandFailedException(string.Join(Environment.NewLine, references.Rejected.Select(r => $"reference {r.Source}: {r.Reason}")));
        }

        return references.Accepted.Count > 0
            ? new ReferenceChoice(null, null, references.Accepted, ReferencesAligned: AlignedReference)
            : throw new CommandFailedException($"--reference '{Reference}' holds no photos.");
    }
}

/// <summary>What only <c>sair restore</c> takes beside the options it shares with <c>album submit</c>.</summary>
public sealed class RestoreCommandSettings : RestoreSettings
{
    [CommandOption("--fresh")]
    [Description("Start a new album even when an earlier run of this same command (same photos, references, options and grid) submitted one that can be picked up")]
    public bool Fresh { get; init; }
}

/// <summary>Restores a photo or a folder: GFPGAN's interface, run as one album on the grid.</summary>
public sealed class RestoreCommand(IGridConnector connector, IAnsiConsole console, SairHome home) : GridCommand<RestoreCommandSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, RestoreCommandSettings settings, CancellationToken cancellationToken)
    {
        var references = settings.References();
        var intake = PhotoIntake.Check(PhotoIntake.ListInputs(settings.Input!), settings.Aligned);
        Console.MarkupLine($"Checked {intake.Accepted.Count + intake.Rejected.Count} input(s): {intake.Accepted.Count} accepted, {intake.Rejected.Count} refused.");
        var albumId = AlbumSubmitter.NewAlbumId("restore");
        if (intake.Accepted.Count == 0)
        {
            var refused = new AlbumManifest(albumId, DateTimeOffset.UtcNow, references.Describe(), settings.JobOptions(),
                [.. intake.Rejected.Select(r => new ManifestPhoto(-1, r.Source, null, null, 0, 0, null, r.Reason))]);
            return await AlbumRun.WriteAsync(Console, null, refused, new Dictionary<int, TimeSpan>(), settings.Output, settings.Layout(), cancellationToken);
        }

        var grid = await session.ConnectAsync(cancellationToken);
        var request = RestoreRequest.Fingerprint(intake, references, settings.JobOptions(), settings.Framing, settings.Faces, settings.Target());
        if (!settings.Fresh && await PickUpAsync(grid, request, cancellationToken) is { } earlier)
        {
            return await AlbumRun.FinishAsync(Console, grid, earlier, settings.Output, settings.Layout(), cancellationToken);
        }

        await TimeEstimate.PrintAsync(Console, grid, settings.Iterations, !references.NoIdentity);
        var manifest = await AlbumSubmitter.SubmitAsync(grid, albumId, intake, references, settings.JobOptions(), settings.Framing, cancellationToken, settings.Faces);
        History.Append(home, manifest, request);
        return await AlbumRun.FinishAsync(Console, grid, manifest, settings.Output, settings.Layout(), cancellationToken);
    }

    /// <summary>
    /// The album an earlier run of this same request submitted to this grid, when it is there and none of its photos
    /// was cancelled (a cancelled album was stopped on purpose: this run starts a new one); its failed photos are
    /// started again. Null when there is nothing to pick up.
    /// </summary>
    private async Task<AlbumManifest?> PickUpAsync(IGridConnection grid, string request, CancellationToken cancellationToken)
    {
        if (History.LastFor(home, request) is not { } entry)
        {
            return null;
        }

        AlbumManifest manifest;
        try
        {
            manifest = await AlbumManifest.LoadAsync(grid.Images, entry.AlbumId, cancellationToken);
        }
        catch (CommandFailedException)
        {
            return null;
        }

        var album = grid.Grains.GetGrain<IAlbumGrain>(entry.AlbumId);
        var progress = await album.GetProgressAsync();
        if (progress.Total == 0 || progress.Cancelled > 0)
        {
            return null;
        }

        Console.MarkupLine(
            $"Picking up album [bold]{Markup.Escape(entry.AlbumId)}[/], submitted by an earlier run of this command at {entry.SubmittedAt:u} " +
            $"({progress.Completed} of {progress.Total} restored, {progress.Failed} failed); --fresh starts a new one.");
        if (progress.Failed > 0)
        {
            await album.RetryFailedAsync();
            Console.MarkupLine($"Retrying its {progress.Failed} failed photo(s).");
        }

        return manifest;
    }
}

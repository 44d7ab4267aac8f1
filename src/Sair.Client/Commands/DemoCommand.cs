using System.ComponentModel;
using Sair.Client.Cli;
using Sair.Client.Grid;
using Sair.Client.Output;
using Sair.Client.Photos;
using Sair.Client.Restoration;
using Sair.Grains.Ports;
using Sair.Grains.Pools;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Commands;

public sealed class DemoSettings : EngineSettings
{
    public const string PoolName = "demo";

    /// <summary>A sample album's file holding the JPEG quality its photos were saved at (one number, 1-100).</summary>
    public const string JpegQualityFile = "jpeg-quality.txt";

    /// <summary>The JPEG quality <paramref name="samples"/> declares in <see cref="JpegQualityFile"/>, or null.</summary>
    public static int? AlbumJpegQuality(string samples)
    {
        var path = Path.Combine(samples, JpegQualityFile);
        if (!File.Exists(path))
        {
            return null;
        }
        var text = File.ReadAllText(path).Trim();
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var quality)
            && quality is >= RestorationOptions.MinJpegQuality and <= RestorationOptions.MaxJpegQuality
            ? quality
            : throw new CommandFailedException($"{path} holds '{text}': it must be one JPEG quality, {RestorationOptions.MinJpegQuality} to {RestorationOptions.MaxJpegQuality}.");
    }

    [CommandOption("-o|--output <FOLDER>")]
    [Description("Output folder")]
    [DefaultValue("demo-results")]
    public string Output { get; init; } = "demo-results";

    [CommandOption("--samples <FOLDER>")]
    [Description("Sample album: references/<person>.<ext> and photos/* (square dlib face chips). Default: the samples/album shipped with sair")]
    public string? Samples { get; init; }

    public override ValidationResult Validate()
    {
        var engine = base.Validate();
        if (!engine.Successful)
        {
            return engine;
        }

        var samples = SamplesFolder();
        return samples is null
            ? ValidationResult.Error("No sample album found: pass --samples <FOLDER> (with references/ and photos/).")
            : OutputFolder.WriteProblem(Output) is { } cannotWrite ? ValidationResult.Error(cannotWrite)
            : ValidationResult.Success();
    }

    /// <summary>--samples, else samples/album beside the executable, else in the current folder or above it (a checkout).</summary>
    public string? SamplesFolder()
    {
        if (Samples is not null)
        {
            return IsSampleAlbum(Samples) ? Path.GetFullPath(Samples) : null;
        }

        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "samples", "album") };
        for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
        {
            candidates.Add(Path.Combine(folder.FullName, "samples", "album"));
        }

        return candidates.FirstOrDefault(IsSampleAlbum);
    }

    private static bool IsSampleAlbum(string folder) =>
        Directory.Exists(Path.Combine(folder, "references")) && Directory.Exists(Path.Combine(folder, "photos"));
}

/// <summary>
/// The whole story in one command: enrols the sample references into pool "demo", submits the degraded sample
/// photos as an album matched against it, shows progress and writes the results.
/// </summary>
public sealed class DemoCommand(IGridConnector connector, IAnsiConsole console, SairHome home) : GridCommand<DemoSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, DemoSettings settings, CancellationToken cancellationToken)
    {
        var samples = settings.SamplesFolder()!;
        var references = PhotoIntake.Check(PhotoIntake.ListInputs(Path.Combine(samples, "references")), aligned: false);
        // The sample photos are dlib face chips shrunk to 32 px (samples/album/LICENSE.md): far too small for face
        // detection, so they are matched as the aligned chips they are.
        var photos = PhotoIntake.Check(PhotoIntake.ListInputs(Path.Combine(samples, "photos")), aligned: true);
        if (references.Rejected.Count > 0 || references.Accepted.Count == 0)
        {
            throw new CommandFailedException($"The sample references in {samples} are not usable: " +
                string.Join("; ", references.Rejected.Select(r => $"{Path.GetFileName(r.Source)}: {r.Reason}")));
        }

        var grid = await session.ConnectAsync(cancellationToken);
        var pool = grid.Grains.GetGrain<IReferencePoolGrain>(DemoSettings.PoolName);
        foreach (var person in references.Accepted.GroupBy(r => r.Name))
        {
            // A rerun replaces the person's references instead of piling up copies.
            await pool.RemoveAsync(person.Key);
            foreach (var reference in person)
            {
                try
                {
                    await pool.EnrollAsync(person.Key, reference.Png);
                }
                catch (FaceNotFoundException exception)
                {
                    throw new CommandFailedException($"Sample reference {reference.Source} was refused by the grid: {exception.Message}", exception);
                }
            }

            Console.MarkupLine($"Enrolled [bold]{Markup.Escape(person.Key)}[/] in pool {DemoSettings.PoolName}.");
        }

        // Everyone in the sample album is enrolled, so each photo takes its best match (threshold 0). At 32 px and
        // JPEG-crushed, true matches score 0.88–0.94 with faceapi, around the calibrated threshold for such tiny inputs
        // (0.89, docs/matching.md), which would restore one of the four without identity; an album with strangers
        // keeps the default.
        await TimeEstimate.PrintAsync(Console, grid, settings.Iterations, identity: true);
        Console.MarkupLine("Everyone in the sample album is enrolled: each photo takes its best pool match (--match-threshold 0; the default, auto, keeps strangers out).");
        // An album that says what JPEG quality its photos were saved at (the shipped one: 30, samples/album/LICENSE.md)
        // is restored with D including that JPEG stage, so the result explains the blocks instead of copying them
        // (docs/quality.md, ×2 + JPEG q30); --jpeg-quality wins.
        var options = settings.Options();
        if (settings.JpegQuality is null && DemoSettings.AlbumJpegQuality(samples) is { } quality)
        {
            options = options with { JpegQuality = quality };
            Console.MarkupLine($"The sample photos were saved at JPEG quality {quality} ({DemoSettings.JpegQualityFile}): restoring with --jpeg-quality {quality}.");
        }
        var manifest = await AlbumSubmitter.SubmitAsync(grid, AlbumSubmitter.NewAlbumId("demo"), photos,
            new ReferenceChoice(DemoSettings.PoolName, null, [], MatchThreshold: 0), options, FaceFraming.DlibChip, cancellationToken);
        History.Append(home, manifest);
        Console.MarkupLine($"Submitted album [bold]{Markup.Escape(manifest.AlbumId)}[/] ({manifest.Photos.Count(p => p.Index >= 0)} photos).");
        return await AlbumRun.FinishAsync(Console, grid, manifest, settings.Output, new OutputLayout(4), cancellationToken);
    }
}

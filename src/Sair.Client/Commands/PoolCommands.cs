using System.ComponentModel;
using System.Globalization;
using Sair.Client.Cli;
using Sair.Client.Grid;
using Sair.Client.Photos;
using Sair.Grains.Ports;
using Sair.Grains.Pools;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Sair.Client.Commands;

public class PoolSettings : GridSettings
{
    [CommandArgument(0, "<POOL>")]
    [Description("Pool name")]
    public string Pool { get; init; } = "";

    public override ValidationResult Validate()
    {
        var grid = base.Validate();
        return !grid.Successful ? grid
            : string.IsNullOrWhiteSpace(Pool) ? ValidationResult.Error("<POOL> is empty: name the reference pool.")
            : PoolNames.PoolProblem(Pool) is { } problem ? ValidationResult.Error($"<POOL>: {problem}.")
            : ValidationResult.Success();
    }
}

public sealed class PoolEnrollSettings : PoolSettings
{
    [CommandArgument(1, "<PERSON>")]
    [Description("Who the photos show")]
    public string Person { get; init; } = "";

    [CommandArgument(2, "<PHOTOS>")]
    [Description("Reference photos or folders of them (one clear face each; the largest face of a photo is enrolled)")]
    public string[] Photos { get; init; } = [];

    [CommandOption("--aligned")]
    [Description("The photos are already FFHQ-aligned square face crops (as restore --aligned): embedded whole, without face detection")]
    public bool Aligned { get; init; }

    public override ValidationResult Validate()
    {
        var pool = base.Validate();
        if (!pool.Successful)
        {
            return pool;
        }

        if (string.IsNullOrWhiteSpace(Person))
        {
            return ValidationResult.Error("<PERSON> is empty: say who the photos show.");
        }

        if (PoolNames.PersonProblem(Person) is { } personProblem)
        {
            return ValidationResult.Error($"<PERSON>: {personProblem}.");
        }

        var missing = Photos.FirstOrDefault(p => !File.Exists(p) && !Directory.Exists(p));
        return missing is not null ? ValidationResult.Error($"Photo '{missing}' does not exist.") : ValidationResult.Success();
    }
}

public sealed class PoolListSettings : PoolSettings
{
    [CommandArgument(1, "[PERSON]")]
    [Description("Only this person's references")]
    public string? Person { get; init; }
}

public sealed class PoolMatchSettings : PoolSettings
{
    [CommandArgument(1, "<PHOTO>")]
    [Description("Photo whose face is matched against the pool")]
    public string Photo { get; init; } = "";

    [CommandOption("-k|--top <K>")]
    [Description("How many people to list")]
    [DefaultValue(3)]
    public int Top { get; init; } = 3;

    [CommandOption("--aligned")]
    [Description("The photo is already an aligned square face crop (FFHQ framing, as restore --aligned): embed it whole")]
    public bool Aligned { get; init; }

    public override ValidationResult Validate()
    {
        var pool = base.Validate();
        return !pool.Successful ? pool
            : !File.Exists(Photo) ? ValidationResult.Error($"<PHOTO> '{Photo}' does not exist.")
            : Top is < 1 or > 100 ? ValidationResult.Error($"--top {Top} is out of range: use 1 to 100.")
            : ValidationResult.Success();
    }
}

public sealed class PoolRemoveSettings : PoolSettings
{
    [CommandArgument(1, "<PERSON_OR_REFERENCE>")]
    [Description("A person (removes all their references) or one reference id")]
    public string PersonOrReference { get; init; } = "";

    public override ValidationResult Validate()
    {
        var pool = base.Validate();
        return !pool.Successful ? pool
            : string.IsNullOrWhiteSpace(PersonOrReference) ? ValidationResult.Error("<PERSON_OR_REFERENCE> is empty.")
            : ValidationResult.Success();
    }
}

/// <summary>Adds reference photos of a person to a pool; each photo succeeds or fails on its own.</summary>
public sealed class PoolEnrollCommand(IGridConnector connector, IAnsiConsole console) : GridCommand<PoolEnrollSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, PoolEnrollSettings settings, CancellationToken cancellationToken)
    {
        var intake = PhotoIntake.Check(settings.Photos.SelectMany(PhotoIntake.ListInputs), settings.Aligned);
        foreach (var refused in intake.Rejected)
        {
            Console.MarkupLine($"[red]refused[/] {Markup.Escape(refused.Source)}: {Markup.Escape(refused.Reason)}");
        }

        var enrolled = 0;
        if (intake.Accepted.Count > 0)
        {
            var pool = (await session.ConnectAsync(cancellationToken)).Grains.GetGrain<IReferencePoolGrain>(settings.Pool);
            foreach (var photo in intake.Accepted)
            {
                try
                {
                    var reference = await pool.EnrollAsync(settings.Person, photo.Png, settings.Aligned ? FaceFraming.Ffhq : FaceFraming.Unaligned);
                    Console.MarkupLine($"[green]enrolled[/] {Markup.Escape(photo.Source)} as {Markup.Escape(reference.ReferenceId)}");
                    enrolled++;
                }
                catch (Exception exception) when (exception is FaceNotFoundException or ArgumentException)
                {
                    Console.MarkupLine($"[red]refused[/] {Markup.Escape(photo.Source)}: {Markup.Escape(exception.Message)}");
                }
            }
        }

        Console.MarkupLine($"{enrolled} of {intake.Accepted.Count + intake.Rejected.Count} photo(s) enrolled for {Markup.Escape(settings.Person)} in pool {Markup.Escape(settings.Pool)}.");
        return ExitCodes.FromCounts(enrolled, intake.Accepted.Count + intake.Rejected.Count);
    }
}

/// <summary>Lists a pool's references.</summary>
public sealed class PoolListCommand(IGridConnector connector, IAnsiConsole console) : GridCommand<PoolListSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, PoolListSettings settings, CancellationToken cancellationToken)
    {
        var grid = await session.ConnectAsync(cancellationToken);
        var references = await grid.Grains.GetGrain<IReferencePoolGrain>(settings.Pool).ListAsync(settings.Person);
        var table = new Table().RoundedBorder().Title($"pool [bold]{Markup.Escape(settings.Pool)}[/]");
        table.AddColumns("Person", "Reference", "Enrolled", "Latent");
        foreach (var reference in references.OrderBy(r => r.Person, StringComparer.Ordinal).ThenBy(r => r.EnrolledAt))
        {
            table.AddRow(Markup.Escape(reference.Person), Markup.Escape(reference.ReferenceId),
                reference.EnrolledAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), reference.LatentPath is null ? "-" : "yes");
        }

        Console.Write(table);
        Console.MarkupLine($"{references.Length} reference(s) of {references.Select(r => r.Person).Distinct().Count()} person(s).");
        return ExitCodes.Success;
    }
}

/// <summary>Who in the pool looks most like the face in a photo.</summary>
public sealed class PoolMatchCommand(IGridConnector connector, IAnsiConsole console) : GridCommand<PoolMatchSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, PoolMatchSettings settings, CancellationToken cancellationToken)
    {
        var (photo, refused) = PhotoIntake.Check(Path.GetFullPath(settings.Photo), settings.Aligned);
        if (photo is null)
        {
            Error($"{settings.Photo}: {refused!.Reason}");
            return ExitCodes.Failure;
        }

        var grid = await session.ConnectAsync(cancellationToken);
        try
        {
            var matches = await grid.Grains.GetGrain<IReferencePoolGrain>(settings.Pool).MatchPhotoAsync(
                photo.Png, settings.Top, settings.Aligned ? FaceFraming.Ffhq : FaceFraming.Unaligned);
            if (matches.IsDefaultOrEmpty)
            {
                Error($"Pool '{settings.Pool}' is empty: enroll references first ('sair pool enroll {settings.Pool} <person> <photo>').");
                return ExitCodes.Failure;
            }

            var table = new Table().RoundedBorder();
            table.AddColumns("#", "Person", "Similarity", "Closest reference");
            var rank = 1;
            foreach (var match in matches)
            {
                table.AddRow((rank++).ToString(CultureInfo.InvariantCulture), Markup.Escape(match.Person),
                    match.Similarity.ToString("0.000", CultureInfo.InvariantCulture), Markup.Escape(match.ReferenceId));
            }

            Console.Write(table);
            return ExitCodes.Success;
        }
        catch (FaceNotFoundException exception)
        {
            Error($"{settings.Photo}: no face found ({exception.Message}).");
            return ExitCodes.Failure;
        }
    }
}

/// <summary>Removes a person, or one reference, from a pool.</summary>
public sealed class PoolRemoveCommand(IGridConnector connector, IAnsiConsole console) : GridCommand<PoolRemoveSettings>(connector, console)
{
    protected override async Task<int> RunAsync(GridSession session, PoolRemoveSettings settings, CancellationToken cancellationToken)
    {
        var grid = await session.ConnectAsync(cancellationToken);
        var removed = await grid.Grains.GetGrain<IReferencePoolGrain>(settings.Pool).RemoveAsync(settings.PersonOrReference);
        if (removed == 0)
        {
            Error($"Pool '{settings.Pool}' has no person or reference '{settings.PersonOrReference}' ('sair pool list {settings.Pool}' shows what it has).");
            return ExitCodes.Failure;
        }

        Console.MarkupLine($"Removed {removed} reference(s) from pool {Markup.Escape(settings.Pool)}.");
        return ExitCodes.Success;
    }
}

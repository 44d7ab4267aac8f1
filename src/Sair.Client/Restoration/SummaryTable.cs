using System.Globalization;
using Spectre.Console;

namespace Sair.Client.Restoration;

/// <summary>The table printed after a run: one row per input, and where the files went.</summary>
public static class SummaryTable
{
    public static void Render(IAnsiConsole console, RunReport report, string outputFolder)
    {
        var table = new Table().RoundedBorder().Title($"[bold]{Markup.Escape(report.Album)}[/]");
        table.AddColumn("Face");
        table.AddColumn("Person");
        table.AddColumn(new TableColumn("Match").RightAligned());
        table.AddColumn(new TableColumn("Similarity").RightAligned());
        table.AddColumn(new TableColumn("Time").RightAligned());
        table.AddColumn("Status");
        foreach (var face in report.Faces)
        {
            table.AddRow(
                Markup.Escape(face.Label),
                Markup.Escape(face.Person ?? "-"),
                Number(face.Person is null ? null : face.MatchSimilarity),
                Number(face.Similarity),
                face.Seconds is { } t ? t.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "-",
                Status(face));
        }

        console.Write(table);
        // Say which net made each number: the similarity is the loss's own net scoring its own target.
        var matchNet = report.Faces.Select(f => f.MatchNet).FirstOrDefault(n => n is not null);
        var similarityNet = report.Faces.Select(f => f.SimilarityNet).FirstOrDefault(n => n is not null);
        if (matchNet is not null)
        {
            console.MarkupLine($"[grey]Match: cosine of the input face to the person's closest pool reference ({Markup.Escape(matchNet)}).[/]");
        }

        if (similarityNet is not null)
        {
            console.MarkupLine(
                $"[grey]Similarity: cosine of the restored face to the reference by {Markup.Escape(similarityNet)}, the loss's own identity net: it shows " +
                "the optimisation reached its target, not that an independent judge sees the person (docs/quality.md).[/]");
        }

        var colour = report.ExitCode switch { ExitCodes.Success => "green", ExitCodes.Partial => "yellow", _ => "red" };
        var gallery = Path.Combine(outputFolder, Output.Gallery.FileName);
        console.MarkupLine(
            $"[{colour}]{report.Restored} of {report.Total} restored[/]; results and report.json in [link]{Markup.Escape(outputFolder)}[/], " +
            $"gallery: [link]{Markup.Escape(gallery)}[/]");
    }

    private static string Number(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "-";

    private static string Status(PhotoOutcome photo)
    {
        var status = photo.Status switch
        {
            "restored" => "[green]restored[/]",
            "cancelled" or "unfinished" => $"[yellow]{photo.Status}[/]",
            _ => $"[red]{photo.Status}[/]",
        };
        var detail = photo.Reason ?? photo.Note;
        return detail is null ? status : $"{status}: {Markup.Escape(detail)}";
    }
}

using System.Globalization;
using Spectre.Console;

namespace Sair.Client.Restoration;

/// <summary>The table printed after a run: one row per input, and where the files went.</summary>
public static class SummaryTable
{
    public static void Render(IAnsiConsole console, RunReport report, string outputFolder)
    {
        var table = new Table().RoundedBorder().Title($"[bold]{Markup.Escape(report.Album)}[/]");
        table.AddColumn("Photo");
        table.AddColumn("Person matched");
        table.AddColumn(new TableColumn("Similarity").RightAligned());
        table.AddColumn(new TableColumn("Time").RightAligned());
        table.AddColumn("Status");
        foreach (var photo in report.Photos)
        {
            var similarity = photo.Similarity ?? photo.MatchSimilarity;
            table.AddRow(
                Markup.Escape(photo.Name ?? Path.GetFileName(photo.Input)),
                Markup.Escape(photo.Person ?? "-"),
                similarity is { } s ? s.ToString("0.000", CultureInfo.InvariantCulture) : "-",
                photo.Seconds is { } t ? t.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "-",
                Status(photo));
        }

        console.Write(table);
        var colour = report.ExitCode switch { ExitCodes.Success => "green", ExitCodes.Partial => "yellow", _ => "red" };
        console.MarkupLine(
            $"[{colour}]{report.Restored} of {report.Total} restored[/]; results and report.json in [link]{Markup.Escape(outputFolder)}[/]");
    }

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

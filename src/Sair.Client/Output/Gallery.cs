using System.Globalization;
using System.Net;
using System.Text;

namespace Sair.Client.Output;

/// <summary>
/// One face's row of the gallery. Paths are relative to the output folder, '/'-separated, or null when the file does
/// not exist.
/// </summary>
/// <param name="Photo">The input photo's file name as the user knows it (e.g. "family-1987.jpg").</param>
/// <param name="FaceIndex">0-based index of the face in its photo.</param>
/// <param name="Person">The person the face was restored towards; null when it was restored without identity.</param>
/// <param name="Similarity">Identity similarity of the result to the reference; null when not measured.</param>
/// <param name="SimilarityNet">Which net scored <paramref name="Similarity"/>, e.g. "face-api 128-d (the loss's own net)".</param>
/// <param name="Seconds">How long the face took.</param>
/// <param name="Status">"restored", "failed", "rejected", "cancelled", "unfinished" or "skipped".</param>
/// <param name="Reason">Why it was not restored, or a note.</param>
/// <param name="Input">Relative path of the degraded face crop (what went in).</param>
/// <param name="Restored">Relative path of the restored face.</param>
/// <param name="Reference">Relative path of the reference face (null when none).</param>
/// <param name="RestoredImage">Relative path of the whole restored photo.</param>
/// <param name="Loss">Total loss along the run (every iteration, or evenly spaced ones); may be null or empty.</param>
public sealed record GalleryFace(
    string Photo,
    int FaceIndex,
    string? Person,
    double? Similarity,
    string? SimilarityNet,
    double? Seconds,
    string Status,
    string? Reason,
    string? Input,
    string? Restored,
    string? Reference,
    string? RestoredImage,
    IReadOnlyList<double>? Loss);

/// <summary>The album-level summary at the top of the gallery.</summary>
/// <param name="Album">The album's id.</param>
/// <param name="References">What the references were, in words.</param>
/// <param name="Restored">How many faces were restored.</param>
/// <param name="Total">How many faces there were.</param>
/// <param name="Preset">The restoration preset.</param>
/// <param name="Iterations">Iterations per face.</param>
/// <param name="Seconds">The album's total time, or null when unknown.</param>
/// <param name="WrittenAt">When the gallery was written.</param>
public sealed record GallerySummary(
    string Album, string References, int Restored, int Total, string Preset, int Iterations,
    double? Seconds, DateTimeOffset WrittenAt);

/// <summary>
/// The output folder's <c>index.html</c>: one self-contained page (inline CSS, no script, no network) that shows, per
/// person, each face as input | restored | reference with its similarity, time and loss curve, under an album summary.
/// Images are linked relative to the output folder; everything from the user (names, paths) is HTML-escaped.
/// </summary>
public static class Gallery
{
    public const string FileName = "index.html";

    /// <summary>Title of the last section, for faces restored without identity.</summary>
    public const string WithoutIdentity = "Without identity";

    /// <summary>CSS pixels each face image is shown at (crops are 512 px, degraded inputs often 64).</summary>
    private const int ImageWidth = 256;

    private const int CurveWidth = 256;
    private const int CurveHeight = 72;
    private const int CurvePad = 4;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private const string Css = """
        :root { color-scheme: light; --ink: #1d1d1f; --muted: #5f6368; --line: #d5d7da; --card: #ffffff; --bg: #eef0f2; }
        * { box-sizing: border-box; }
        body { margin: 0; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
        header.summary { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin-bottom: 24px; }
        header.summary h1 { margin: 0 0 8px; font-size: 22px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; }
        nav.people { margin-top: 10px; }
        nav.people a { margin-right: 12px; }
        section.person { margin-bottom: 32px; }
        section.person > h2 { font-size: 19px; margin: 0 0 12px; }
        section.person > h2 .count { font-weight: normal; color: var(--muted); font-size: 14px; }
        article.face { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
        article.face.restored { border-left-color: #2e7d32; }
        article.face.failed, article.face.rejected { border-left-color: #c62828; }
        article.face.cancelled, article.face.unfinished, article.face.skipped { border-left-color: #f9a825; }
        article.face h3 { margin: 0 0 8px; font-size: 16px; }
        article.face h3 .photo { font-weight: normal; color: var(--muted); font-size: 13px; }
        .panels { display: flex; flex-wrap: wrap; gap: 12px; }
        figure.panel { margin: 0; width: 256px; }
        figure.panel figcaption { font-weight: 600; margin-bottom: 4px; }
        figure.panel img { display: block; width: 256px; min-width: 256px; height: auto; background: #ccc; }
        figure.panel img.input { image-rendering: pixelated; }
        .missing { display: flex; align-items: center; justify-content: center; width: 256px; height: 256px; border: 1px dashed var(--line); color: var(--muted); background: #f7f7f8; }
        .details { display: flex; flex-wrap: wrap; gap: 24px; margin-top: 10px; align-items: flex-start; }
        .details p { margin: 0 0 4px; }
        .status { font-weight: 600; }
        .reason, .muted { color: var(--muted); }
        figure.loss { margin: 0; }
        figure.loss svg { display: block; background: #fafafa; border: 1px solid var(--line); }
        figure.loss polyline { fill: none; stroke: #1565c0; stroke-width: 1.5; }
        figure.loss circle { fill: #1565c0; }
        figure.loss figcaption { color: var(--muted); font-size: 12px; }
        footer { color: var(--muted); font-size: 12px; }
        """;

    /// <summary>The whole page for <paramref name="faces"/> under <paramref name="summary"/>.</summary>
    public static string Render(GallerySummary summary, IReadOnlyList<GalleryFace> faces)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(faces);

        var groups = faces
            .GroupBy(face => face.Person, StringComparer.Ordinal)
            .OrderBy(group => group.Key is null ? 1 : 0) // stable: people in order of first appearance, then the rest
            .ToList();

        var html = new StringBuilder();
        html.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>Album ").Append(Text(summary.Album)).Append(" – SairGrid restoration</title>\n")
            .Append("<link rel=\"icon\" href=\"data:,\">\n") // no favicon request
            .Append("<style>\n").Append(Css).Append("\n</style>\n</head>\n<body>\n");

        AppendSummary(html, summary, faces, groups);

        html.Append("<main>\n");
        for (var i = 0; i < groups.Count; i++)
        {
            AppendPerson(html, i, groups[i].Key, [.. groups[i]]);
        }

        if (faces.Count == 0)
        {
            html.Append("<p class=\"muted\">No faces.</p>\n");
        }

        html.Append("</main>\n<footer>Written by sair. Images are linked relative to this folder; the page needs no network and no script.</footer>\n")
            .Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendSummary(StringBuilder html, GallerySummary summary, IReadOnlyList<GalleryFace> faces, List<IGrouping<string?, GalleryFace>> groups)
    {
        html.Append("<header class=\"summary\">\n<h1>Album ").Append(Text(summary.Album)).Append("</h1>\n<dl class=\"facts\">\n");
        Fact(html, "References", Text(summary.References));
        Fact(html, "Restored", Text($"{summary.Restored.ToString(Invariant)} of {summary.Total.ToString(Invariant)} faces"));
        Fact(html, "Preset", Text(summary.Preset));
        Fact(html, "Iterations", Text(summary.Iterations.ToString(Invariant)));
        Fact(html, "Total time", Text(summary.Seconds is { } seconds ? Seconds(seconds) : "unknown"));

        var measured = faces.Where(face => face.Similarity is { } s && double.IsFinite(s)).Select(face => face.Similarity!.Value).ToList();
        if (measured.Count > 0)
        {
            Fact(html, "Similarity", Text(string.Create(Invariant,
                $"mean {measured.Average():F3}, lowest {measured.Min():F3} over {measured.Count} measured face{(measured.Count == 1 ? "" : "s")}")));
        }

        Fact(html, "Written at", Text(summary.WrittenAt.ToString("yyyy-MM-dd HH:mm:ss zzz", Invariant)));
        html.Append("</dl>\n");

        if (groups.Count > 1)
        {
            html.Append("<nav class=\"people\">");
            for (var i = 0; i < groups.Count; i++)
            {
                html.Append("<a href=\"#").Append(SectionId(i)).Append("\">").Append(Text(groups[i].Key ?? WithoutIdentity)).Append("</a>");
            }

            html.Append("</nav>\n");
        }

        html.Append("</header>\n");
    }

    private static void Fact(StringBuilder html, string term, string encodedValue) =>
        html.Append("<dt>").Append(Text(term)).Append("</dt><dd>").Append(encodedValue).Append("</dd>\n");

    private static void AppendPerson(StringBuilder html, int index, string? person, List<GalleryFace> faces)
    {
        var restored = faces.Count(face => face.Status == "restored");
        html.Append("<section class=\"person\" id=\"").Append(SectionId(index)).Append("\">\n<h2>")
            .Append(Text(person ?? WithoutIdentity))
            .Append(" <span class=\"count\">")
            .Append(Text(string.Create(Invariant, $"{faces.Count} face{(faces.Count == 1 ? "" : "s")}, {restored} restored")))
            .Append("</span></h2>\n");
        foreach (var face in faces)
        {
            AppendFace(html, face);
        }

        html.Append("</section>\n");
    }

    private static void AppendFace(StringBuilder html, GalleryFace face)
    {
        var name = string.Create(Invariant, $"{Path.GetFileNameWithoutExtension(face.Photo)}_{face.FaceIndex:00}");
        var which = string.Create(Invariant, $"face {face.FaceIndex} of {face.Photo}");
        html.Append("<article class=\"face ").Append(StatusClass(face.Status)).Append("\">\n<h3>").Append(Text(name))
            .Append(" <span class=\"photo\">").Append(Text(string.Create(Invariant, $"{face.Photo}, face {face.FaceIndex}"))).Append("</span></h3>\n")
            .Append("<div class=\"panels\">\n");
        Panel(html, "Input", "input", face.Input, $"Input: {which}", "no input crop");
        Panel(html, "Restored", "restored", face.Restored, $"Restored: {which}", "not restored");
        Panel(html, "Reference", "reference", face.Reference,
            face.Person is null ? $"Reference for {which}" : $"Reference of {face.Person}", "no reference");
        html.Append("</div>\n<div class=\"details\">\n<div>\n");

        html.Append("<p class=\"status\">").Append(Text(face.Status)).Append("</p>\n");
        if (!string.IsNullOrEmpty(face.Reason))
        {
            html.Append("<p class=\"reason\">").Append(Text(face.Reason)).Append("</p>\n");
        }

        if (face.Similarity is { } similarity)
        {
            var net = string.IsNullOrEmpty(face.SimilarityNet) ? "" : $" ({face.SimilarityNet})";
            html.Append("<p class=\"similarity\">").Append(Text("similarity " + Number(similarity, "F3") + net)).Append("</p>\n");
        }

        if (face.Seconds is { } seconds)
        {
            html.Append("<p class=\"time\">").Append(Text(Seconds(seconds))).Append("</p>\n");
        }

        if (face.RestoredImage is not null)
        {
            html.Append("<p><a href=\"").Append(Href(face.RestoredImage)).Append("\">whole restored photo</a></p>\n");
        }

        html.Append("</div>\n");
        AppendLoss(html, face.Loss);
        html.Append("</div>\n</article>\n");
    }

    private static void Panel(StringBuilder html, string label, string cssClass, string? path, string alt, string missing)
    {
        html.Append("<figure class=\"panel\"><figcaption>").Append(Text(label)).Append("</figcaption>");
        if (path is null)
        {
            html.Append("<div class=\"missing\">").Append(Text(missing)).Append("</div>");
        }
        else
        {
            html.Append("<img class=\"").Append(cssClass).Append("\" src=\"").Append(Href(path)).Append("\" alt=\"").Append(Text(alt))
                .Append("\" width=\"").Append(ImageWidth.ToString(Invariant)).Append("\">");
        }

        html.Append("</figure>\n");
    }

    /// <summary>The loss per iteration as an inline SVG scaled to its finite min/max; non-finite values leave a gap.</summary>
    private static void AppendLoss(StringBuilder html, IReadOnlyList<double>? loss)
    {
        if (loss is null || loss.Count == 0)
        {
            html.Append("<p class=\"loss muted\">no loss history</p>\n");
            return;
        }

        var finite = loss.Where(double.IsFinite).ToList();
        if (finite.Count == 0)
        {
            html.Append("<p class=\"loss muted\">").Append(Text(string.Create(Invariant, $"no finite loss value in {loss.Count} points"))).Append("</p>\n");
            return;
        }

        var min = finite.Min();
        var max = finite.Max();
        double X(int i) => loss.Count == 1 ? CurveWidth / 2.0 : CurvePad + (CurveWidth - 2.0 * CurvePad) * i / (loss.Count - 1);
        double Y(double value) => max > min ? CurvePad + (CurveHeight - 2.0 * CurvePad) * (max - value) / (max - min) : CurveHeight / 2.0;

        html.Append("<figure class=\"loss\"><svg width=\"").Append(CurveWidth.ToString(Invariant))
            .Append("\" height=\"").Append(CurveHeight.ToString(Invariant)).Append("\" viewBox=\"0 0 ")
            .Append(CurveWidth.ToString(Invariant)).Append(' ').Append(CurveHeight.ToString(Invariant))
            .Append("\" role=\"img\" aria-label=\"loss per iteration\">");

        // One polyline per run of finite values; a run of one point is a dot.
        var run = new List<int>();
        for (var i = 0; i <= loss.Count; i++)
        {
            if (i < loss.Count && double.IsFinite(loss[i]))
            {
                run.Add(i);
                continue;
            }

            if (run.Count == 1)
            {
                html.Append("<circle cx=\"").Append(Coordinate(X(run[0]))).Append("\" cy=\"").Append(Coordinate(Y(loss[run[0]]))).Append("\" r=\"2\"/>");
            }
            else if (run.Count > 1)
            {
                html.Append("<polyline points=\"").AppendJoin(' ', run.Select(j => Coordinate(X(j)) + "," + Coordinate(Y(loss[j])))).Append("\"/>");
            }

            run.Clear();
        }

        var skipped = loss.Count - finite.Count;
        var caption = string.Create(Invariant,
            $"loss {Number(finite[0], "G4")} → {Number(finite[^1], "G4")} (min {Number(min, "G4")}, max {Number(max, "G4")}), {loss.Count} point{(loss.Count == 1 ? "" : "s")} over the run")
            + (skipped > 0 ? string.Create(Invariant, $", {skipped} not finite") : "");
        html.Append("</svg><figcaption>").Append(Text(caption)).Append("</figcaption></figure>\n");
    }

    /// <summary>A relative path made a URL: each '/'-separated segment percent-escaped, then HTML-escaped for the attribute.</summary>
    private static string Href(string relativePath)
    {
        var segments = relativePath.Split('/');
        if (segments.Any(segment => segment is "" or "." or ".."))
        {
            throw new ArgumentException($"'{relativePath}' is not a '/'-separated path inside the output folder.", nameof(relativePath));
        }

        return Text(string.Join('/', segments.Select(Uri.EscapeDataString)));
    }

    private static string SectionId(int index) => "person-" + (index + 1).ToString(Invariant);

    private static string StatusClass(string status) =>
        status is "restored" or "failed" or "rejected" or "cancelled" or "unfinished" or "skipped" ? status : "other";

    private static string Seconds(double seconds) =>
        Number(seconds, "F1") + " s" + (double.IsFinite(seconds) && seconds >= 60
            ? string.Create(Invariant, $" ({(int)(seconds / 60)} min {(int)(seconds % 60):00} s)")
            : "");

    private static string Number(double value, string format) =>
        double.IsFinite(value) ? value.ToString(format, Invariant) : double.IsNaN(value) ? "not a number" : value > 0 ? "infinite" : "-infinite";

    private static string Coordinate(double value) => Math.Round(value, 2).ToString("0.##", Invariant);

    private static string Text(string? value) => WebUtility.HtmlEncode(value ?? "");
}

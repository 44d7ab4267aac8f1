using System.Globalization;
using System.Text.RegularExpressions;
using Sair.Client.Output;

namespace Sair.Client.Tests.Output;

public sealed partial class GalleryTests
{
    private static readonly GallerySummary Summary = new(
        "album-7", "2 people from references/", 2, 3, "balanced", 300, 754.31,
        new DateTimeOffset(2026, 3, 14, 9, 26, 53, TimeSpan.FromHours(1)));

    private static GalleryFace Face(
        string photo = "family-1987.jpg", int index = 0, string? person = "Ann", double? similarity = 0.8734,
        string? net = "face-api 128-d (the loss's own net)", IReadOnlyList<double>? loss = null, string status = "restored",
        string? reason = null, string? input = "cropped_faces/family-1987_00.png", string? restored = "restored_faces/family-1987_00.png",
        string? reference = "references/ann.png", string? restoredImage = "restored_imgs/family-1987.jpg") =>
        new(photo, index, person, similarity, net, 12.34, status, reason, input, restored, reference, restoredImage, loss ?? [3, 2, 1.5, 1.25]);

    [Fact]
    public void The_page_is_html5_with_a_charset_a_title_and_the_summary()
    {
        var html = Gallery.Render(Summary, [Face()]);

        Assert.StartsWith("<!doctype html>\n<html lang=\"en\">", html);
        Assert.Contains("<meta charset=\"utf-8\">", html);
        Assert.Matches("<title>[^<]*album-7[^<]*</title>", html);
        Assert.Contains("<dt>References</dt><dd>2 people from references/</dd>", html);
        Assert.Contains("<dt>Restored</dt><dd>2 of 3 faces</dd>", html);
        Assert.Contains("<dt>Preset</dt><dd>balanced</dd>", html);
        Assert.Contains("<dt>Iterations</dt><dd>300</dd>", html);
        Assert.Contains("<dt>Total time</dt><dd>754.3 s (12 min 34 s)</dd>", html);
        Assert.Contains("<dt>Written at</dt><dd>2026-03-14 09:26:53 +01:00</dd>", html);
        Assert.Equal("index.html", Gallery.FileName);
    }

    [Fact]
    public void A_face_card_shows_its_name_panels_similarity_time_link_and_loss_curve()
    {
        var html = Gallery.Render(Summary, [Face(index: 1)]);

        Assert.Contains("family-1987_01", html);
        Assert.Contains("<figcaption>Input</figcaption><img class=\"input\" src=\"cropped_faces/family-1987_00.png\" alt=\"", html);
        Assert.Contains("<figcaption>Restored</figcaption><img class=\"restored\" src=\"restored_faces/family-1987_00.png\"", html);
        Assert.Contains("<figcaption>Reference</figcaption><img class=\"reference\" src=\"references/ann.png\"", html);
        Assert.Contains("similarity 0.873 (face-api 128-d (the loss&#39;s own net))", html);
        Assert.Contains("12.3 s", html);
        Assert.Contains("<a href=\"restored_imgs/family-1987.jpg\">", html);
        Assert.Contains("image-rendering: pixelated", html);
        Assert.Matches("""<polyline points="[0-9., ]+"/>""", html);
        Assert.DoesNotContain("loading=", html);
        Assert.All(ImgTags().Matches(html), img => Assert.Matches("alt=\"[^\"]+\"", img.Value));
    }

    [Fact]
    public void Missing_parts_say_so_instead_of_showing_a_broken_image()
    {
        var html = Gallery.Render(Summary, [Face(similarity: null, status: "failed", reason: "no face found", restored: null, reference: null, restoredImage: null, loss: [])]);

        Assert.Contains("<div class=\"missing\">no reference</div>", html);
        Assert.Contains("<div class=\"missing\">not restored</div>", html);
        Assert.Contains("no loss history", html);
        Assert.Contains("no face found", html);
        Assert.DoesNotContain("similarity ", html);
        Assert.DoesNotContain("<svg", html);
        Assert.DoesNotContain("<a href=\"restored_imgs", html);
        Assert.Single(ImgTags().Matches(html));
    }

    [Fact]
    public void Hostile_names_are_escaped_everywhere()
    {
        const string person = "<script>alert(1)</script>";
        const string photo = "a\"b&c.jpg";
        var html = Gallery.Render(Summary with { Album = "<b>x</b>", References = "'r'&" },
            [Face(photo: photo, person: person, net: "<i>net</i>", reason: "<img src=x onerror=alert(1)>", input: "cropped_faces/a\"b&c_00.png", reference: "references/<script>.png")]);

        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<b>x</b>", html);
        Assert.DoesNotContain("<i>net", html);
        Assert.DoesNotContain("<img src=x", html);
        Assert.DoesNotContain("a\"b", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("a&quot;b&amp;c.jpg", html);
        Assert.Contains("&#39;r&#39;&amp;", html);
        Assert.Contains("src=\"cropped_faces/a%22b%26c_00.png\"", html);
        Assert.Contains("src=\"references/%3Cscript%3E.png\"", html);
        Assert.Contains("alt=\"Reference of &lt;script&gt;alert(1)&lt;/script&gt;\"", html);
    }

    [Fact]
    public void Links_are_relative_and_escaped_per_segment()
    {
        var html = Gallery.Render(Summary,
            [Face(photo: "my photo #1.jpg", input: "cropped_faces/my photo #1_00.png", restoredImage: "restored_imgs/my photo #1.jpg", reference: "references/Zoë?.png")]);

        Assert.Contains("src=\"cropped_faces/my%20photo%20%231_00.png\"", html);
        Assert.Contains("href=\"restored_imgs/my%20photo%20%231.jpg\"", html);
        Assert.Contains("src=\"references/Zo%C3%AB%3F.png\"", html);
        Assert.Contains("my photo #1_00", html);
    }

    [Theory]
    [InlineData("../secret.png")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b.png")]
    public void A_path_outside_the_folder_is_refused(string path)
    {
        Assert.Throws<ArgumentException>(() => Gallery.Render(Summary, [Face(input: path)]));
    }

    [Fact]
    public void Nothing_points_at_the_network_or_runs_script()
    {
        var html = Gallery.Render(Summary, [Face(), Face(person: null, photo: "x.png")]);

        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("//", html); // nor protocol-relative
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Faces_are_grouped_by_person_in_order_of_first_appearance_with_faces_without_identity_last()
    {
        var html = Gallery.Render(Summary,
        [
            Face(photo: "p1.jpg", person: null),
            Face(photo: "p2.jpg", person: "Bob"),
            Face(photo: "p3.jpg", person: "Ann"),
            Face(photo: "p4.jpg", person: "Bob", index: 2),
            Face(photo: "p5.jpg", person: null, similarity: null),
        ]);

        var sections = Sections().Matches(html).Select(match => match.Value).ToList();
        Assert.Equal(3, sections.Count);
        Assert.Contains("<h2>Bob <span class=\"count\">2 faces, 2 restored</span></h2>", sections[0]);
        Assert.Equal(["p2_00", "p4_02"], Cards(sections[0]));
        Assert.Contains("<h2>Ann <span class=\"count\">1 face, 1 restored</span></h2>", sections[1]);
        Assert.Equal(["p3_00"], Cards(sections[1]));
        Assert.Contains("<h2>Without identity ", sections[2]);
        Assert.Equal(["p1_00", "p5_00"], Cards(sections[2]));
        Assert.Contains("<a href=\"#person-3\">Without identity</a>", html);
    }

    [Theory]
    [InlineData(new[] { double.NaN, 1.0, double.PositiveInfinity, 2.0, 1.5 })]
    [InlineData(new[] { 3.0 })]
    [InlineData(new[] { double.NaN })]
    [InlineData(new[] { double.NegativeInfinity, 0.5 })]
    [InlineData(new[] { 2.0, 2.0, 2.0 })]
    [InlineData(new[] { 1.0, double.NaN, 3.0, 2.0, double.NaN, 5.0 })]
    public void Odd_loss_histories_never_put_nan_or_infinity_into_the_page(double[] loss)
    {
        var html = Gallery.Render(Summary with { Seconds = double.NaN },
            [Face(loss: loss, similarity: double.NaN), Face(loss: loss, similarity: double.PositiveInfinity)]);

        Assert.DoesNotContain("NaN", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Infinity", html);
        Assert.DoesNotContain("∞", html);
        foreach (Match points in Regex.Matches(html, "(?:points|cx|cy)=\"([^\"]*)\""))
        {
            Assert.Matches("^[0-9., ]+$", points.Groups[1].Value);
        }

        var finite = loss.Count(double.IsFinite);
        if (finite > 0)
        {
            Assert.Contains("<svg", html);
            Assert.True(html.Contains("<polyline", StringComparison.Ordinal) || html.Contains("<circle", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Numbers_are_invariant_whatever_the_current_culture()
    {
        var culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            var html = Gallery.Render(Summary, [Face(loss: [0.5, 0.25, 0.125])]);

            Assert.Contains("similarity 0.873", html);
            Assert.Contains("12.3 s", html);
            Assert.Contains("loss 0.5 → 0.125", html);
            Assert.DoesNotContain("0,873", html);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    private static List<string> Cards(string section) =>
        [.. Regex.Matches(section, "<article[^>]*>\n<h3>([^ <]+)").Select(match => match.Groups[1].Value)];

    [GeneratedRegex("<section class=\"person\".*?</section>", RegexOptions.Singleline)]
    private static partial Regex Sections();

    [GeneratedRegex("<img [^>]*>")]
    private static partial Regex ImgTags();
}

using Sair.Client.Output;
using Sair.Client.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Sair.Client.Tests.Output;

/// <summary>
/// The gallery opened in Debian's real Chromium, headless, over real images in the output layout. These fail (never
/// skip) when Chromium is missing: <c>bash setup.sh</c> installs it.
/// </summary>
public sealed class GalleryBrowserTests : IDisposable
{
    /// <summary>Set to a path to keep the gallery's screenshot there (e.g. to look at it).</summary>
    private const string ScreenshotVariable = "SAIR_GALLERY_SCREENSHOT";

    private readonly string _root = Directory.CreateTempSubdirectory("sair-gallery-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_gallery_of_two_people_and_a_face_without_identity_loads_whole_in_chromium()
    {
        var faces = WriteAlbum();
        var page = WriteGallery(faces);

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var check = await chromium.OpenAsync(page);
        KeepScreenshot(check.Screenshot);

        Assert.Contains("album-42", check.Title);
        Assert.Empty(check.ConsoleErrors);
        Assert.Empty(check.FailedRequests);
        Assert.All(check.Requests, url => Assert.True(url.StartsWith("file:///", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal), url));
        var expected = faces.Sum(face => new[] { face.Input, face.Restored, face.Reference }.Count(path => path is not null));
        Assert.Equal(expected, check.Images.Count);
        Assert.Empty(check.BrokenImages);
        Assert.All(check.Images, image =>
        {
            Assert.False(string.IsNullOrWhiteSpace(image.Alt), $"{image.Src} has no alt text");
            Assert.True(image.Width >= 256, $"{image.Src} is shown {image.Width} px wide");
        });
        Assert.All(check.Images.Where(image => image.Src!.StartsWith("cropped_faces/", StringComparison.Ordinal)),
            image => Assert.Equal("pixelated", image.Rendering));
        Assert.Contains(check.Images, image => image.Src == "cropped_faces/family%20%231%201987_00.png" && image.NaturalWidth == 64);
        Assert.Contains(check.Images, image => image.Src == "references/Grandma%20Ros%C3%A9.png" && image.NaturalWidth == 256);
        AssertNotBlank(check.Screenshot);
    }

    [Fact]
    public async Task The_checker_reports_an_image_whose_file_is_missing()
    {
        var faces = WriteAlbum();
        File.Delete(Path.Combine(_root, "references", "Grandpa Joe.png"));
        var page = WriteGallery(faces);

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var check = await chromium.OpenAsync(page);

        var broken = Assert.Single(check.BrokenImages);
        Assert.Equal("references/Grandpa%20Joe.png", broken.Src);
        Assert.Equal(0, broken.NaturalWidth);
        Assert.Contains(check.FailedRequests, failure => failure.Contains("Grandpa%20Joe.png", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_chromium_fails_with_what_to_run()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => HeadlessChromium.LaunchAsync("/nonexistent/chromium"));

        Assert.Equal("Chromium not found at /nonexistent/chromium: run bash setup.sh", error.Message);
    }

    [Fact]
    public void The_blank_check_tells_a_flat_screenshot_from_a_gallery()
    {
        Assert.ThrowsAny<Exception>(() => AssertNotBlank(TestImages.Flat(64, 255)));
        AssertNotBlank(Gradient(256, seed: 1));
    }

    /// <summary>
    /// The output layout for two people and one face without identity; one photo's name has a space and a '#', one
    /// reference a space and an accent, so the links' escaping is exercised by the browser too.
    /// </summary>
    private List<GalleryFace> WriteAlbum()
    {
        var faces = new List<GalleryFace>
        {
            Face("family #1 1987.jpg", 0, "Grandma Rosé", "references/Grandma Rosé.png", seed: 1),
            Face("family #1 1987.jpg", 1, "Grandpa Joe", "references/Grandpa Joe.png", seed: 2),
            Face("beach.png", 0, "Grandma Rosé", "references/Grandma Rosé.png", seed: 3),
            Face("unknown.png", 0, null, null, seed: 4),
        };
        var seed = 10;
        foreach (var face in faces)
        {
            Write(face.Input!, Gradient(64, seed++));
            Write(face.Restored!, Gradient(256, seed++));
            Write(face.RestoredImage!, Gradient(128, seed++));
            if (face.Reference is { } reference && !File.Exists(Path.Combine(_root, reference)))
            {
                Write(reference, Gradient(256, seed++));
            }
        }

        return faces;
    }

    private static GalleryFace Face(string photo, int index, string? person, string? reference, int seed)
    {
        var name = $"{Path.GetFileNameWithoutExtension(photo)}_{index:00}";
        var loss = Enumerable.Range(0, 120).Select(i => 0.2 + (3.0 / (1 + (0.1 * i))) + (0.05 * Math.Sin(i + seed))).ToList();
        return new GalleryFace(photo, index, person, person is null ? null : 0.8 + (0.03 * seed),
            person is null ? null : "face-api 128-d (the loss's own net)", 10.5 * seed, "restored", null,
            $"cropped_faces/{name}.png", $"restored_faces/{name}.png", reference,
            $"restored_imgs/{Path.GetFileNameWithoutExtension(photo)}.png", loss);
    }

    private string WriteGallery(IReadOnlyList<GalleryFace> faces)
    {
        var summary = new GallerySummary("album-42", "2 people (references/)", faces.Count, faces.Count, "balanced", 120, 123.4,
            new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var path = Path.Combine(_root, Gallery.FileName);
        File.WriteAllText(path, Gallery.Render(summary, faces));
        return path;
    }

    private void Write(string relativePath, byte[] png)
    {
        var path = Path.Combine(_root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, png);
    }

    /// <summary>A non-uniform square: a diagonal colour gradient with a seed-dependent tint and stripes.</summary>
    private static byte[] Gradient(int side, int seed)
    {
        using var image = new Image<Rgb24>(side, side);
        for (var y = 0; y < side; y++)
        {
            for (var x = 0; x < side; x++)
            {
                image[x, y] = new Rgb24(
                    (byte)(255 * x / side),
                    (byte)(255 * y / side),
                    (byte)(((seed * 37) + (((x / 8) + (y / 8)) % 2 * 60)) % 256));
            }
        }

        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>Fails unless the PNG has many colours and its brightness varies: a page that painted nothing is flat.</summary>
    private static void AssertNotBlank(byte[] png)
    {
        using var image = Image.Load<Rgb24>(png);
        var colours = new HashSet<int>();
        double sum = 0, squares = 0;
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var pixel = image[x, y];
                colours.Add((pixel.R << 16) | (pixel.G << 8) | pixel.B);
                var luminance = (0.299 * pixel.R) + (0.587 * pixel.G) + (0.114 * pixel.B);
                sum += luminance;
                squares += luminance * luminance;
            }
        }

        var count = (double)image.Width * image.Height;
        var deviation = Math.Sqrt(Math.Max(0, (squares / count) - ((sum / count) * (sum / count))));
        Assert.True(colours.Count > 64, $"the screenshot ({image.Width}×{image.Height}) has only {colours.Count} colours");
        Assert.True(deviation > 10, $"the screenshot's brightness hardly varies (standard deviation {deviation:F1})");
    }

    private static void KeepScreenshot(byte[] png)
    {
        if (Environment.GetEnvironmentVariable(ScreenshotVariable) is { Length: > 0 } path)
        {
            File.WriteAllBytes(path, png);
        }
    }
}

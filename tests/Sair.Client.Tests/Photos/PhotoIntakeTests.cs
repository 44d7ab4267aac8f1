using Sair.Client.Photos;
using Sair.Client.Tests.Support;

namespace Sair.Client.Tests.Photos;

public sealed class PhotoIntakeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sair-intake-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_huge_image_is_refused_from_its_header_alone()
    {
        // 60000×60000 RGB would need ~10 GiB decoded; the check must answer at once from the 33-byte header.
        var path = Write("bomb.png", TestPngs.HeaderOnly(60000, 60000));

        var (photo, rejection) = PhotoIntake.Check(path, aligned: false);

        Assert.Null(photo);
        Assert.Contains("60000×60000", rejection!.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("jpg", "truncated JPEG")]
    [InlineData("png", "truncated PNG")]
    public void A_truncated_photo_is_refused_although_its_decoder_would_fill_in_the_rest(string format, string expected)
    {
        // A real photo whose file broke off at 60 %: the JPEG decoder decodes what is there and paints the rest.
        using var image = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(TestImages.SampleReference("John_Salley.jpg"));
        using var encoded = new MemoryStream();
        if (format == "jpg")
        {
            SixLabors.ImageSharp.ImageExtensions.SaveAsJpeg(image, encoded);
        }
        else
        {
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, encoded);
        }

        var whole = encoded.ToArray();
        var cut = Write($"cut.{format}", whole[..(whole.Length * 6 / 10)]);
        if (format == "jpg")
        {
            // The JPEG decoder takes the cut file as whole (a PNG's may or may not, by where the cut falls).
            using var decoded = SixLabors.ImageSharp.Image.Load(cut);
            Assert.Equal(image.Width, decoded.Width);
        }

        Assert.Contains(expected, PhotoIntake.Check(cut, aligned: false).Rejection!.Reason, StringComparison.Ordinal);
        Assert.NotNull(PhotoIntake.Check(Write($"whole.{format}", whole), aligned: false).Photo);
    }

    [Fact]
    public void Aligned_inputs_must_be_square()
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(40, 30);
        var path = Path.Combine(_folder, "wide.png");
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, path);

        Assert.Contains("square", PhotoIntake.Check(path, aligned: true).Rejection!.Reason, StringComparison.Ordinal);
        Assert.NotNull(PhotoIntake.Check(path, aligned: false).Photo);
    }

    [Fact]
    public void Duplicate_stems_get_distinct_output_names_and_grayscale_is_noted()
    {
        var jpeg = TestImages.SamplePhoto("John_Simm-1.jpg");
        File.Copy(jpeg, Path.Combine(_folder, "a.jpg"));
        Write("a.png", TestImages.Grayscale(jpeg));

        var result = PhotoIntake.Check(PhotoIntake.ListInputs(_folder), aligned: false);

        Assert.Empty(result.Rejected);
        Assert.Equal(["a", "a-2"], result.Accepted.Select(p => p.Name));
        Assert.Null(result.Accepted[0].Note);
        Assert.Contains("grayscale", result.Accepted[1].Note, StringComparison.Ordinal);
        Assert.Equal((32, 32), (result.Accepted[0].Width, result.Accepted[0].Height));
    }

    [Fact]
    public void An_empty_file_is_refused()
    {
        Assert.Equal("empty file", PhotoIntake.Check(Write("empty.jpg", []), aligned: false).Rejection!.Reason);
    }

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}

using Sair.Engine.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Imaging;

public sealed class ImageFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sair-img-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(PixelRange.ZeroOne)]
    [InlineData(PixelRange.MinusOneOne)]
    public void Tensor_image_round_trip_is_exact_for_8_bit_levels(PixelRange range)
    {
        using var image = new Image<Rgb24>(7, 5);
        for (var y = 0; y < 5; y++)
        {
            for (var x = 0; x < 7; x++)
            {
                image[x, y] = new Rgb24((byte)(x * 36), (byte)(y * 60), (byte)((x * 7 + y * 13) % 256));
            }
        }
        using var t = ImageTensors.ToTensor(image, range);
        Assert.Equal(new long[] { 1, 3, 5, 7 }, t.shape);
        var (lo, hi) = range == PixelRange.ZeroOne ? (0f, 1f) : (-1f, 1f);
        Assert.True(t.min().item<float>() >= lo && t.max().item<float>() <= hi);
        // Channel-major layout: the green plane at (y=4, x=0) is 240/255.
        var green = t[0, 1, 4, 0].item<float>();
        Assert.Equal(range == PixelRange.ZeroOne ? 240f / 255f : 240f / 127.5f - 1f, green, 5);

        using var back = ImageTensors.ToImage(t, range);
        for (var y = 0; y < 5; y++)
        {
            for (var x = 0; x < 7; x++)
            {
                Assert.Equal(image[x, y], back[x, y]);
            }
        }
    }

    [Fact]
    public void Out_of_range_values_are_clamped_and_NaN_is_refused()
    {
        using var t = tensor(new float[] { -0.5f, 2f, 0.5f }).reshape(1, 3, 1, 1);
        using var img = ImageTensors.ToImage(t);
        Assert.Equal(new Rgb24(0, 255, 128), img[0, 0]);
        using var nan = full(new long[] { 1, 3, 2, 2 }, float.NaN);
        Assert.Throws<ArgumentException>(() => ImageTensors.ToImage(nan));
    }

    [Fact]
    public void Png_save_and_load_round_trip_and_grayscale_becomes_rgb()
    {
        var path = Path.Combine(_dir, "face.png");
        using (var image = new Image<Rgb24>(4, 4, new Rgb24(10, 200, 30)))
        {
            ImageFiles.Save(image, path);
        }
        using (var loaded = ImageFiles.Load(path))
        {
            Assert.Equal(new Rgb24(10, 200, 30), loaded[3, 3]);
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.partial"));

        var grey = Path.Combine(_dir, "grey.png");
        using (var g = new Image<L8>(3, 3, new L8(77)))
        {
            g.SaveAsPng(grey);
        }
        using var rgb = ImageFiles.Load(grey);
        Assert.Equal(new Rgb24(77, 77, 77), rgb[1, 1]);
    }

    [Theory]
    [InlineData((ushort)1, 40, 20, 4, 4)]
    [InlineData((ushort)2, 40, 20, 35, 4)]
    [InlineData((ushort)3, 40, 20, 35, 15)]
    [InlineData((ushort)4, 40, 20, 4, 15)]
    [InlineData((ushort)5, 20, 40, 4, 4)]
    [InlineData((ushort)6, 20, 40, 15, 4)]
    [InlineData((ushort)7, 20, 40, 15, 35)]
    [InlineData((ushort)8, 20, 40, 4, 35)]
    public void A_jpeg_with_an_exif_orientation_comes_upright(ushort orientation, int width, int height, int redX, int redY)
    {
        // 40×20 as stored, a red 8×8 block in the stored top-left corner; the tag says how a viewer turns it.
        using var stored = new Image<Rgb24>(40, 20, new Rgb24(0, 0, 255));
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 8; x++)
            {
                stored[x, y] = new Rgb24(255, 0, 0);
            }
        }
        stored.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
        stored.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation, orientation);
        using var encoded = new MemoryStream();
        stored.SaveAsJpeg(encoded, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 95 });

        using var upright = ImageFiles.Decode(encoded.ToArray(), "phone.jpg");

        Assert.Equal((width, height), (upright.Width, upright.Height));
        var centre = upright[redX, redY];
        Assert.True(centre.R > 200 && centre.B < 80, $"orientation {orientation}: pixel ({redX}, {redY}) is {centre}, not the red block");
        var left = upright.Metadata.ExifProfile?.GetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation)?.Value;
        Assert.True(left is null or 0 or 1, $"the orientation tag {left} survived, so a later save would turn the photo twice");
    }

    [Fact]
    public void Real_fixture_photo_loads()
    {
        using var photo = ImageFiles.Load(RepoPaths.SharedFile("fixtures", "sair-official", "obama.png"));
        Assert.Equal(32, photo.Width);
        using var t = ImageTensors.ToTensor(photo);
        Assert.InRange(t.mean().item<float>(), 0.05f, 0.95f);
    }

    [Fact]
    public void Text_renamed_png_is_not_an_image()
    {
        var path = Path.Combine(_dir, "notes.png");
        File.WriteAllText(path, "these are my notes, not a picture");
        Assert.Equal("not-an-image", Assert.Throws<ImageLoadException>(() => ImageFiles.Load(path)).Reason);
    }

    [Fact]
    public void Truncated_jpeg_is_refused_with_its_name()
    {
        var path = Path.Combine(_dir, "cut.jpg");
        using (var image = new Image<Rgb24>(64, 64, new Rgb24(120, 90, 60)))
        {
            ImageFiles.Save(image, path);
        }
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..20]);
        var e = Assert.Throws<ImageLoadException>(() => ImageFiles.Load(path));
        Assert.Contains(e.Reason, new[] { "corrupt", "not-an-image" });
        Assert.Contains("cut.jpg", e.Message);
    }

    [Fact]
    public void A_jpeg_cut_off_inside_its_image_data_is_refused_although_the_decoder_would_fill_it_in()
    {
        var path = Path.Combine(_dir, "half.jpg");
        using (var image = new Image<Rgb24>(64, 64))
        {
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (var x = 0; x < row.Length; x++)
                    {
                        row[x] = new Rgb24((byte)(x * 4), (byte)(y * 4), (byte)(x ^ y));
                    }
                }
            });
            ImageFiles.Save(image, path);
        }

        var bytes = File.ReadAllBytes(path);
        var half = bytes[..(bytes.Length * 3 / 4)];
        // What a decoder alone makes of it: a whole 64×64 image, its bottom filled in.
        using (var filled = Image.Load<Rgb24>(half))
        {
            Assert.Equal(64, filled.Height);
        }

        File.WriteAllBytes(path, half);
        var e = Assert.Throws<ImageLoadException>(() => ImageFiles.Load(path));
        Assert.Equal("truncated", e.Reason);
        Assert.Contains("half.jpg", e.Message);
    }

    [Fact]
    public void Huge_png_is_refused_from_its_header_before_decoding()
    {
        var path = Path.Combine(_dir, "huge.png");
        File.WriteAllBytes(path, TestPngs.HeaderOnly(20000, 20000));
        var e = Assert.Throws<ImageLoadException>(() => ImageFiles.Load(path));
        Assert.Equal("too-many-pixels", e.Reason);
        Assert.Contains("20000×20000", e.Message);

        var small = new ImageLimits { MaxFileBytes = 10 };
        Assert.Equal("too-large", Assert.Throws<ImageLoadException>(() => ImageFiles.Load(path, small)).Reason);
        Assert.Equal("missing", Assert.Throws<ImageLoadException>(() => ImageFiles.Load(Path.Combine(_dir, "nope.png"))).Reason);
    }
}

using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Sair.Engine.Training;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Training;

/// <summary>Loading a folder of faces: centre square, per-folder crop box, resize, unreadable files skipped.</summary>
public sealed class FaceImageSetTests : IDisposable
{
    private readonly string _dir = TinyTraining.TempPath("faces");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Centre_square_and_per_folder_crop_box_select_the_expected_pixels()
    {
        // a/wide.png: 8×4, white in the centre 4 columns, black outside → the centre square is all white.
        Write("a/wide.png", 8, 4, (x, _) => x is >= 2 and < 6 ? new Rgb24(255, 255, 255) : new Rgb24(0, 0, 0));
        // b/quad.png: red top-left quadrant, blue elsewhere; the crop box of folder b keeps that quadrant.
        Write("b/quad.png", 8, 8, (x, y) => x < 4 && y < 4 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255));
        Directory.CreateDirectory(Path.Combine(_dir, "c"));
        File.WriteAllText(Path.Combine(_dir, "c", "broken.jpg"), "not a jpeg");

        using var set = FaceImageSet.Load(_dir, 4, crops: new Dictionary<string, CropBox> { ["b"] = new(0, 0, 0.5, 0.5) });
        Assert.Equal(2, set.Count);
        Assert.Equal(1, set.SkippedFiles);
        Assert.Equal([2L, 3L, 4L, 4L], set.Images.shape);
        Assert.True(set.Images[0].eq(255).all().item<bool>());
        Assert.True(set.Images[1][0].eq(255).all().item<bool>() && set.Images[1][2].eq(0).all().item<bool>());

        using var batch = set.Batch(tensor(new long[] { 1, 0 }));
        Assert.Equal(1f, batch[1].min().item<float>());
        Assert.Equal(-1f, batch[0, 1].max().item<float>());
    }

    [Fact]
    public void A_link_out_of_the_data_folder_is_not_read_and_one_inside_is()
    {
        Write("a/face.png", 8, 8, (_, _) => new Rgb24(200, 100, 50));
        var outside = TinyTraining.TempPath("outside");
        Directory.CreateDirectory(outside);
        try
        {
            // A readable image outside the folder: the run may read only its folder, so the link to it is skipped.
            using (var image = new Image<Rgb24>(8, 8, new Rgb24(1, 2, 3)))
            {
                image.SaveAsPng(Path.Combine(outside, "elsewhere.png"));
            }

            File.CreateSymbolicLink(Path.Combine(_dir, "a", "out.png"), Path.Combine(outside, "elsewhere.png"));
            File.CreateSymbolicLink(Path.Combine(_dir, "a", "in.png"), Path.Combine(_dir, "a", "face.png"));

            using var set = FaceImageSet.Load(_dir, 4);

            Assert.Equal((2, 1), (set.Count, set.SkippedFiles));
            Assert.True(set.Images.eq(200).any().item<bool>() && !set.Images.eq(1).any().item<bool>());
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void Photos_of_held_out_people_are_not_loaded()
    {
        Rgb24 Grey(int x, int y) => new(128, 128, 128);
        Write("lfw/Ann_Lee_0001.png", 4, 4, Grey);
        Write("lfw/Ann_Lee_0002.png", 4, 4, Grey);
        Write("lfw/Ann_Lee_Smith_0001.png", 4, 4, Grey);
        Write("lfw/Bob_Ray_0001.png", 4, 4, Grey);
        Write("utkface/1_0_0_20170109.png", 4, 4, Grey);

        using var set = FaceImageSet.Load(_dir, 4, holdout: HoldoutList.Parse("# held out\nAnn_Lee\n\nBob_Ray\n"));

        Assert.Equal(["Ann_Lee_Smith_0001.png", "1_0_0_20170109.png"], set.Files.Select(Path.GetFileName));
        Assert.Equal(3, set.HeldOutFiles);
        Assert.Equal(2L, set.Images.shape[0]);
        using var all = FaceImageSet.Load(_dir, 4);
        Assert.Equal(5, all.Count);
    }

    [Fact]
    public void Training_holds_out_the_committed_list_unless_told_otherwise()
    {
        var committed = new PriorTrainingOptions().Holdout();
        Assert.Equal(HoldoutList.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "priors", "holdout", "lfw-people.txt"))).People, committed.People);
        Assert.Equal(30, committed.People.Count);
        Assert.True(committed.Excludes("/data/lfw/Kofi_Annan_0003.jpg"));
        Assert.False(new PriorTrainingOptions { HeldOutPeople = [] }.Holdout().Excludes("/data/lfw/Kofi_Annan_0003.jpg"));
        Assert.Null(HoldoutList.PersonOf("Kofi_Annan.jpg"));
        Assert.Equal("Kofi_Annan", HoldoutList.PersonOf("Kofi_Annan_0003.jpg"));
    }

    [Fact]
    public void Missing_folder_says_what_to_give()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => FaceImageSet.Load(Path.Combine(_dir, "nope"), 8));
        Assert.Contains("aligned face images", e.Message);
    }

    private void Write(string relative, int width, int height, Func<int, int, Rgb24> pixel)
    {
        using var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = pixel(x, y);
            }
        }
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        image.SaveAsPng(path);
    }
}

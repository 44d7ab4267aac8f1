using Sair.Engine.Alignment;
using Sair.Engine.Imaging;
using Sair.Silo.Tests.Adapters;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Sair.Silo.Tests.Tools;

/// <summary><c>Sair.Silo align-faces</c> as a user runs it: a real process over real photos and the real face nets.</summary>
[Collection(TinyEngineCollection.Name)]
public sealed class AlignFacesCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-align-faces-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Faces_come_out_on_the_template_a_photo_without_a_face_is_listed_and_a_rerun_keeps_what_is_done()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "data", "johns")).FullName;
        var chips = Directory.GetDirectories(RepoPaths.SharedFile("fixtures", "faces", "johns")).Order(StringComparer.Ordinal)
            .Select(d => Directory.GetFiles(d, "*.jpg").Order(StringComparer.Ordinal).First()).Take(3).ToList();
        foreach (var chip in chips)
        {
            File.Copy(chip, Path.Combine(data, Path.GetFileName(chip)));
        }
        using (var blank = new Image<Rgb24>(120, 120, new Rgb24(128, 128, 128)))
        {
            ImageFiles.Save(blank, Path.Combine(data, "blank.png"));
        }
        var output = Path.Combine(_work, "aligned");
        var template = Path.Combine(RepoPaths.Root, "priors", "demo-64", "template.json");

        var first = await RunAsync("--data", Path.Combine(_work, "data"), "-o", output, "--size", "128", "--template", template);

        Assert.Contains("4 photos: 3 aligned, 0 already there, 1 without a usable face", first);
        Assert.Equal(["johns/blank.png\tno face found"], File.ReadAllLines(Path.Combine(output, "skipped.txt")));
        var points = AlignmentTemplate.Load(template).Points().to(ScalarType.Float32);
        foreach (var chip in chips)
        {
            var aligned = Path.Combine(output, "johns-aligned", Path.ChangeExtension(Path.GetFileName(chip), ".png"));
            using var image = ImageFiles.Load(aligned);
            Assert.Equal((128, 128), (image.Width, image.Height));
            // Found again in the aligned face, the eyes sit where the template puts them (within 4 % of the side).
            using var scope = NewDisposeScope();
            var photo = ImageTensors.ToTensor(image);
            var framed = nn.functional.pad(photo, [64, 64, 64, 64], value: 110.0 / 255);
            var face = Assert.Single(TinyEngine.Models.Detector.Detect(framed));
            var leftEye = face.Landmarks.narrow(0, 36, 6).mean([0]).sub(64).div(128);
            var rightEye = face.Landmarks.narrow(0, 42, 6).mean([0]).sub(64).div(128);
            Assert.True(leftEye.sub(points[0]).abs().max().item<float>() < 0.04, $"{aligned}: left eye at ({leftEye[0].item<float>()}, {leftEye[1].item<float>()})");
            Assert.True(rightEye.sub(points[1]).abs().max().item<float>() < 0.04, $"{aligned}: right eye at ({rightEye[0].item<float>()}, {rightEye[1].item<float>()})");
        }

        var again = await RunAsync("--data", Path.Combine(_work, "data"), "-o", output, "--size", "128", "--template", template);

        Assert.Contains("4 photos: 0 aligned, 3 already there, 1 without a usable face", again);
    }

    [Fact]
    public async Task A_missing_data_folder_is_a_one_line_error()
    {
        await using var process = ChildProcess.Start("dotnet", [SiloProcess.SiloAssembly, "align-faces", "--data", Path.Combine(_work, "nope"), "-o", _work],
            _work);

        Assert.Equal(1, await process.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("error: --data: folder", process.Log);
        Assert.DoesNotContain("   at ", process.Log);
    }

    private async Task<string> RunAsync(params string[] arguments)
    {
        await using var process = ChildProcess.Start("dotnet", [SiloProcess.SiloAssembly, "align-faces", .. arguments], _work);
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromMinutes(3)));
        return process.Log;
    }
}

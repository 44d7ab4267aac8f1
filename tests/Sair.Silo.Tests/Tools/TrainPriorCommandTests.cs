using Sair.Engine.Imaging;
using Sair.Engine.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Sair.Silo.Tests.Tools;

/// <summary><c>Sair.Silo train-prior</c> as a user runs it (a real process): continue, refuse a silent recipe change, branch.</summary>
public sealed class TrainPriorCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-train-prior-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_run_continues_with_its_own_options_refuses_others_and_branches_into_a_new_folder_with_them()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "faces")).FullName;
        var random = new Random(3);
        for (var i = 0; i < 12; i++)
        {
            using var face = new Image<Rgb24>(8, 8);
            face.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    foreach (ref var pixel in rows.GetRowSpan(y))
                    {
                        pixel = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                    }
                }
            });
            ImageFiles.Save(face, Path.Combine(data, $"face-{i}.png"));
        }
        var run = Path.Combine(_work, "run");
        string[] recipe = ["--data", data, "--size", "8", "--batch", "4", "--ffd-every", "0", "--crop-full", "--channels", "4:16,8:8"];

        var (started, _) = await RunAsync([.. recipe, "-o", run, "--images", "8"]);
        var (continued, _) = await RunAsync([.. recipe, "-o", run, "--images", "16"]);
        var (refused, refusal) = await RunAsync(["--data", data, "-o", run, "--images", "24", "--lr", "0.001"]);
        var (badTable, badTableLog) = await RunAsync([.. recipe, "-o", Path.Combine(_work, "bad"), "--images", "8", "--channels", "4:16,4:8"]);
        var branch = Path.Combine(_work, "branch");
        var (branched, _) = await RunAsync(["--data", data, "-o", branch, "--images", "24", "--lr", "0.001",
            "--branch-from", Path.Combine(run, "checkpoint.safetensors")]);

        Assert.Equal((0, 0, 1, 0, 1), (started, continued, refused, branched, badTable));
        Assert.Contains("error: --channels '4:16,4:8'", badTableLog);
        var (tensors, exported) = Safetensors.Read(Path.Combine(branch, "generator.safetensors"));
        foreach (var (_, tensor) in tensors)
        {
            tensor.Dispose();
        }
        Assert.EndsWith("channels 4:16 8:8", exported["generator"]);
        Assert.Equal(["1,4", "2,8", "3,12", "4,16"], TrainLog(run));
        Assert.Contains("--branch-from", refusal);
        Assert.DoesNotContain("   at ", refusal);
        Assert.Equal(["5,20", "6,24"], TrainLog(branch));
        Assert.Contains("at step 4 (16 images): learning rate 0.002 → 0.001; total images", File.ReadAllText(Path.Combine(branch, "run.log")));
        Assert.True(File.Exists(Path.Combine(branch, "generator.safetensors")));
    }

    // "step,images" of each logged step.
    private static List<string> TrainLog(string run) =>
        [.. File.ReadLines(Path.Combine(run, "train-log.csv")).Skip(1).Select(line => string.Join(',', line.Split(',').Take(2)))];

    private async Task<(int ExitCode, string Log)> RunAsync(params string[] arguments)
    {
        await using var process = ChildProcess.Start("dotnet", [SiloProcess.SiloAssembly, "train-prior", .. arguments], _work);
        var code = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        return (code ?? -1, process.Log);
    }
}

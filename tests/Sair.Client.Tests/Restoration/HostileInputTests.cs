using System.Text.Json;
using Sair.Client.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// Issue 18's hostile-input corpus through <c>sair restore</c> (the other doors share its intake): every file gets a
/// clear outcome in report.json — restored, or refused with a reason — and nothing is written outside the output folder.
/// </summary>
[Collection(ClientGridCollection.Name)]
public sealed class HostileInputTests(ClientGridFixture grid, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sair-hostile-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Every_kind_of_hostile_input_is_restored_or_refused_with_a_reason_and_nothing_strays()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        var output = Path.Combine(_work, "out");
        var good = await File.ReadAllBytesAsync(TestImages.SamplePhoto("John_Simm-1.jpg"));
        using var face = Image.Load<Rgb24>(good);
        await File.WriteAllBytesAsync(Path.Combine(input, "empty.jpg"), []);
        await File.WriteAllBytesAsync(Path.Combine(input, "wrong-magic.png"), [.. "GIF89a"u8, .. good.Skip(6)]);
        await File.WriteAllBytesAsync(Path.Combine(input, "truncated.jpg"), good[..(good.Length / 2)]);
        var png = Encode(face, new PngEncoder());
        await File.WriteAllBytesAsync(Path.Combine(input, "truncated.png"), png[..(png.Length / 2)]);
        await File.WriteAllBytesAsync(Path.Combine(input, "bomb.png"), TestImages.PngHeaderOnly(100_000, 100_000));
        await File.WriteAllBytesAsync(Path.Combine(input, "deep16.png"), Encode(face.CloneAs<Rgb48>(), new PngEncoder { BitDepth = PngBitDepth.Bit16 }));
        await File.WriteAllBytesAsync(Path.Combine(input, "alpha.png"), Encode(face.CloneAs<Rgba32>(), new PngEncoder { ColorType = PngColorType.RgbWithAlpha }));
        await File.WriteAllBytesAsync(Path.Combine(input, "cmyk.jpg"), Encode(face, new JpegEncoder { ColorType = JpegColorType.Cmyk }));
        using (var animated = face.Clone())
        {
            using var second = face.Clone(c => c.Invert());
            animated.Frames.AddFrame(second.Frames.RootFrame);
            await File.WriteAllBytesAsync(Path.Combine(input, "animated.gif"), Encode(animated, new GifEncoder()));
        }
        Directory.CreateDirectory(Path.Combine(input, "folder.jpg"));
        File.CreateSymbolicLink(Path.Combine(input, "loop.jpg"), Path.Combine(input, "loop.jpg"));
        File.CreateSymbolicLink(Path.Combine(input, "outside.jpg"), "/etc/passwd");
        await File.WriteAllBytesAsync(Path.Combine(input, "name with spaces & ünïcode.jpg"), good);
        using var cli = new Support.Cli(grid.Connector);

        var exit = await cli.RunAsync("restore", "-i", input, "-o", output, "--reference", TestImages.SampleReference("John_Simm.jpg"),
            "--iterations", "2", "--ext", "png");

        log.WriteLine(cli.Output);
        Assert.Equal(ExitCodes.Partial, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
        var outcomes = report.RootElement.GetProperty("faces").EnumerateArray()
            .ToDictionary(p => Path.GetFileName(p.GetProperty("input").GetString()!), p => (
                Status: p.GetProperty("status").GetString(),
                Reason: p.TryGetProperty("reason", out var reason) ? reason.GetString() : null));
        foreach (var (name, outcome) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            log.WriteLine($"{name}: {outcome.Status} {outcome.Reason}");
        }

        foreach (var refused in new[] { "empty.jpg", "wrong-magic.png", "truncated.jpg", "truncated.png", "bomb.png", "loop.jpg", "outside.jpg" })
        {
            Assert.True(outcomes.TryGetValue(refused, out var outcome), $"{refused} is not in the report");
            Assert.Equal("rejected", outcome.Status);
            Assert.False(string.IsNullOrWhiteSpace(outcome.Reason), $"{refused} was refused without a reason");
            Assert.DoesNotContain("   at ", outcome.Reason, StringComparison.Ordinal);
        }

        foreach (var restored in new[] { "deep16.png", "alpha.png", "cmyk.jpg", "animated.gif", "name with spaces & ünïcode.jpg" })
        {
            Assert.True(outcomes.TryGetValue(restored, out var outcome), $"{restored} is not in the report");
            Assert.True(outcome.Status == "restored", $"{restored}: {outcome.Status} {outcome.Reason}");
        }

        Assert.DoesNotContain("folder.jpg", outcomes.Keys);
        Assert.DoesNotContain("   at ", cli.Output, StringComparison.Ordinal);
        Assert.Equal(["in", "out"], Directory.EnumerateFileSystemEntries(_work).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static byte[] Encode(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
